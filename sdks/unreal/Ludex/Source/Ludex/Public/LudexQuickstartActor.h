// The minimal example: drop it in a level and press Play. It creates a player, awards 460 XP
// twice with one idempotency key (the second is a replay), shows `level=4 xp=460`, and prints
// the realtime events of the award.
#pragma once

#include "CoreMinimal.h"
#include "GameFramework/Actor.h"
#include "LudexTypes.h"

#include "LudexQuickstartActor.generated.h"

UCLASS(Blueprintable)
class LUDEX_API ALudexQuickstartActor : public AActor
{
	GENERATED_BODY()

protected:
	virtual void BeginPlay() override;

	UFUNCTION() void OnCreated(bool bOk, const FString& Json, const FLudexError& Error);
	UFUNCTION() void OnFirstAward(bool bOk, const FLudexProgress& Progress, const FLudexError& Error);
	UFUNCTION() void OnSecondAward(bool bOk, const FLudexProgress& Progress, const FLudexError& Error);
	UFUNCTION() void OnLudexEvent(const FLudexEvent& Event);

private:
	class ULudexSubsystem* Ludex() const;
	void Show(const FString& Line, bool bError = false) const;

	FString PlayerId;
	FString AwardKey;
};
