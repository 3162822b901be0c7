#include "LudexQuickstartActor.h"

#include "Engine/Engine.h"
#include "Engine/GameInstance.h"
#include "HAL/PlatformMisc.h"
#include "LudexSubsystem.h"
#include "Misc/Guid.h"

ULudexSubsystem* ALudexQuickstartActor::Ludex() const
{
	UGameInstance* Instance = GetGameInstance();
	return Instance ? Instance->GetSubsystem<ULudexSubsystem>() : nullptr;
}

void ALudexQuickstartActor::Show(const FString& Line, bool bError) const
{
	if (bError)
	{
		UE_LOG(LogTemp, Error, TEXT("Ludex: %s"), *Line);
	}
	else
	{
		UE_LOG(LogTemp, Display, TEXT("%s"), *Line);
	}
	if (GEngine) GEngine->AddOnScreenDebugMessage(-1, 15.f, bError ? FColor::Red : FColor::Green, Line);
}

void ALudexQuickstartActor::BeginPlay()
{
	Super::BeginPlay();
	ULudexSubsystem* Subsystem = Ludex();
	if (!Subsystem) return;
	if (Subsystem->BaseUrl.IsEmpty())  // no DefaultGame.ini section: the console example's variables
	{
		Subsystem->Configure(FPlatformMisc::GetEnvironmentVariable(TEXT("LUDEX_BASE_URL")),
			FPlatformMisc::GetEnvironmentVariable(TEXT("LUDEX_TENANT_ID")),
			FPlatformMisc::GetEnvironmentVariable(TEXT("LUDEX_PROJECT_ID")),
			FPlatformMisc::GetEnvironmentVariable(TEXT("LUDEX_API_KEY")));
	}
	Subsystem->OnEvent.AddDynamic(this, &ALudexQuickstartActor::OnLudexEvent);
	Subsystem->SubscribeEvents({TEXT("player.*")});

	PlayerId = TEXT("ue-") + FGuid::NewGuid().ToString(EGuidFormats::DigitsWithHyphensLower);
	AwardKey = TEXT("quickstart-") + PlayerId;
	FLudexOnJson Done;
	Done.BindUFunction(this, GET_FUNCTION_NAME_CHECKED(ALudexQuickstartActor, OnCreated));
	Subsystem->CreatePlayer(PlayerId, TEXT("quickstart"), Done);
}

void ALudexQuickstartActor::OnCreated(bool bOk, const FString& Json, const FLudexError& Error)
{
	if (!bOk) return Show(FString::Printf(TEXT("create failed: %d %s %s"), Error.Status, *Error.Slug, *Error.Detail), true);
	FLudexOnProgress Done;
	Done.BindUFunction(this, GET_FUNCTION_NAME_CHECKED(ALudexQuickstartActor, OnFirstAward));
	Ludex()->AwardXp(PlayerId, 460, TEXT("quickstart"), AwardKey, Done);
}

void ALudexQuickstartActor::OnFirstAward(bool bOk, const FLudexProgress& Progress, const FLudexError& Error)
{
	if (!bOk) return Show(FString::Printf(TEXT("award failed: %d %s %s"), Error.Status, *Error.Slug, *Error.Detail), true);
	FLudexOnProgress Done;
	Done.BindUFunction(this, GET_FUNCTION_NAME_CHECKED(ALudexQuickstartActor, OnSecondAward));
	Ludex()->AwardXp(PlayerId, 460, TEXT("quickstart"), AwardKey, Done);  // same key: a replay
}

void ALudexQuickstartActor::OnSecondAward(bool bOk, const FLudexProgress& Progress, const FLudexError& Error)
{
	if (!bOk) return Show(FString::Printf(TEXT("award failed: %d %s %s"), Error.Status, *Error.Slug, *Error.Detail), true);
	Show(FString::Printf(TEXT("level=%d xp=%lld"), Progress.Level, Progress.Xp));
}

void ALudexQuickstartActor::OnLudexEvent(const FLudexEvent& Event)
{
	if (Event.PlayerId == PlayerId) Show(Event.Type + TEXT(" ") + Event.Data);
}
