#include "UnrealHttpTransport.h"

#include "HAL/Event.h"
#include "HAL/PlatformProcess.h"
#include "HttpModule.h"
#include "Interfaces/IHttpRequest.h"
#include "Interfaces/IHttpResponse.h"

ludex::HttpResponse FLudexUnrealHttpTransport::send(const ludex::HttpRequest& Request)
{
	// Waiting here on the game thread would starve the HTTP manager's ticks and hang.
	check(!IsInGameThread());

	TSharedRef<IHttpRequest, ESPMode::ThreadSafe> HttpRequest = FHttpModule::Get().CreateRequest();
	HttpRequest->SetVerb(UTF8_TO_TCHAR(Request.method.c_str()));
	HttpRequest->SetURL(UTF8_TO_TCHAR(Request.url.c_str()));
	for (const auto& Header : Request.headers)
	{
		HttpRequest->SetHeader(UTF8_TO_TCHAR(Header.first.c_str()), UTF8_TO_TCHAR(Header.second.c_str()));
	}
	if (!Request.body.empty())
	{
		HttpRequest->SetContent(TArray<uint8>(reinterpret_cast<const uint8*>(Request.body.data()), static_cast<int32>(Request.body.size())));
	}
	HttpRequest->SetTimeout(static_cast<float>(Request.timeout.count()) / 1000.0f);
	// Complete on the HTTP thread: the game thread may be the one waiting for a Blueprint result.
	HttpRequest->SetDelegateThreadPolicy(EHttpRequestDelegateThreadPolicy::CompleteOnHttpThread);

	ludex::HttpResponse Result;
	bool bAnswered = false;
	FString Failure;
	FEvent* Done = FPlatformProcess::GetSynchEventFromPool();
	HttpRequest->OnProcessRequestComplete().BindLambda(
		[&](FHttpRequestPtr, FHttpResponsePtr Response, bool bSucceeded)
		{
			if (bSucceeded && Response.IsValid() && Response->GetResponseCode() > 0)
			{
				bAnswered = true;
				Result.status = Response->GetResponseCode();
				for (const FString& Line : Response->GetAllHeaders())
				{
					FString Name, Value;
					if (Line.Split(TEXT(":"), &Name, &Value))
					{
						Result.headers[TCHAR_TO_UTF8(*Name.TrimStartAndEnd().ToLower())] = TCHAR_TO_UTF8(*Value.TrimStartAndEnd());
					}
				}
				const TArray<uint8>& Content = Response->GetContent();
				Result.body.assign(reinterpret_cast<const char*>(Content.GetData()), Content.Num());
			}
			else
			{
				Failure = FString::Printf(TEXT("FHttpModule: no answer (status %s)"),
					EHttpRequestStatus::ToString(HttpRequest->GetStatus()));
			}
			Done->Trigger();
		});
	HttpRequest->ProcessRequest();
	Done->Wait();
	FPlatformProcess::ReturnSynchEventToPool(Done);
	if (!bAnswered)
	{
		throw ludex::TransportError(TCHAR_TO_UTF8(*Failure));
	}
	return Result;
}
