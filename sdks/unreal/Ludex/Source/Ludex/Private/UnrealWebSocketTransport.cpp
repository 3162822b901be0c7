#include "UnrealWebSocketTransport.h"

#include "Async/Async.h"
#include "IWebSocket.h"
#include "WebSocketsModule.h"

FLudexUnrealWebSocketTransport::~FLudexUnrealWebSocketTransport()
{
	if (Socket.IsValid())
	{
		Socket->OnConnected().Clear();
		Socket->OnConnectionError().Clear();
		Socket->OnClosed().Clear();
		Socket->OnMessage().Clear();
		Socket->Close();
	}
}

void FLudexUnrealWebSocketTransport::connect(const std::string& Url, const ludex::Headers& Headers, ludex::WebSocketHandlers Handlers)
{
	TMap<FString, FString> UpgradeHeaders;
	for (const auto& Header : Headers)
	{
		UpgradeHeaders.Add(UTF8_TO_TCHAR(Header.first.c_str()), UTF8_TO_TCHAR(Header.second.c_str()));
	}
	const FString SocketUrl = UTF8_TO_TCHAR(Url.c_str());
	TWeakPtr<FLudexUnrealWebSocketTransport, ESPMode::ThreadSafe> WeakThis = AsShared();
	AsyncTask(ENamedThreads::GameThread, [WeakThis, SocketUrl, UpgradeHeaders, Handlers = MoveTemp(Handlers)]() mutable
	{
		TSharedPtr<FLudexUnrealWebSocketTransport, ESPMode::ThreadSafe> This = WeakThis.Pin();
		if (!This.IsValid())
		{
			return;
		}
		if (This->Socket.IsValid())  // the previous connection's events must not reach the new one
		{
			This->Socket->OnConnected().Clear();
			This->Socket->OnConnectionError().Clear();
			This->Socket->OnClosed().Clear();
			This->Socket->OnMessage().Clear();
		}
		This->CurrentHandlers = MoveTemp(Handlers);
		This->bFinished = false;
		This->Socket = FWebSocketsModule::Get().CreateWebSocket(SocketUrl, FString(), UpgradeHeaders);
		FLudexUnrealWebSocketTransport* Self = This.Get();
		This->Socket->OnConnected().AddLambda([Self]()
		{
			if (Self->CurrentHandlers.onOpen) Self->CurrentHandlers.onOpen();
		});
		This->Socket->OnMessage().AddLambda([Self](const FString& Message)
		{
			if (Self->CurrentHandlers.onMessage) Self->CurrentHandlers.onMessage(TCHAR_TO_UTF8(*Message));
		});
		This->Socket->OnConnectionError().AddLambda([Self](const FString& Error)
		{
			Self->Finish(1006, Error);
		});
		This->Socket->OnClosed().AddLambda([Self](int32 StatusCode, const FString& Reason, bool /*bWasClean*/)
		{
			Self->Finish(StatusCode, Reason);
		});
		This->Socket->Connect();
	});
}

void FLudexUnrealWebSocketTransport::Finish(int32 Code, const FString& Reason)
{
	if (bFinished)
	{
		return;
	}
	bFinished = true;
	if (CurrentHandlers.onClose) CurrentHandlers.onClose(Code == 0 ? 1006 : Code, TCHAR_TO_UTF8(*Reason));
}

void FLudexUnrealWebSocketTransport::send(const std::string& Text)
{
	const FString Message = UTF8_TO_TCHAR(Text.c_str());
	TWeakPtr<FLudexUnrealWebSocketTransport, ESPMode::ThreadSafe> WeakThis = AsShared();
	AsyncTask(ENamedThreads::GameThread, [WeakThis, Message]()
	{
		TSharedPtr<FLudexUnrealWebSocketTransport, ESPMode::ThreadSafe> This = WeakThis.Pin();
		if (This.IsValid() && This->Socket.IsValid() && This->Socket->IsConnected())
		{
			This->Socket->Send(Message);
		}
	});
}

void FLudexUnrealWebSocketTransport::close()
{
	TWeakPtr<FLudexUnrealWebSocketTransport, ESPMode::ThreadSafe> WeakThis = AsShared();
	AsyncTask(ENamedThreads::GameThread, [WeakThis]()
	{
		TSharedPtr<FLudexUnrealWebSocketTransport, ESPMode::ThreadSafe> This = WeakThis.Pin();
		if (!This.IsValid() || !This->Socket.IsValid())
		{
			return;
		}
		if (This->Socket->IsConnected())
		{
			This->Socket->Close();
		}
		else
		{
			This->Finish(1006, TEXT("closed before connecting"));
		}
	});
}
