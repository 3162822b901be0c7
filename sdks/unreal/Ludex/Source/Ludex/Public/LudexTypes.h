// Plain structs and delegates the Blueprint surface of Ludex passes around.
#pragma once

#include "CoreMinimal.h"
#include "LudexTypes.generated.h"

/** A failed call: the server's problem answer (Status > 0) or no answer at all (Status 0). */
USTRUCT(BlueprintType)
struct LUDEX_API FLudexError
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "Ludex") int32 Status = 0;
	/** Last path segment of the problem type, e.g. insufficient-funds, player-not-found, rate-limited. */
	UPROPERTY(BlueprintReadOnly, Category = "Ludex") FString Slug;
	UPROPERTY(BlueprintReadOnly, Category = "Ludex") FString Detail;
	UPROPERTY(BlueprintReadOnly, Category = "Ludex") FString RequestId;
	/** The whole problem document, as JSON text. */
	UPROPERTY(BlueprintReadOnly, Category = "Ludex") FString Problem;
};

USTRUCT(BlueprintType)
struct LUDEX_API FLudexProgress
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "Ludex") int64 Xp = 0;
	UPROPERTY(BlueprintReadOnly, Category = "Ludex") int32 Level = 0;
	UPROPERTY(BlueprintReadOnly, Category = "Ludex") bool bLeveledUp = false;
};

USTRUCT(BlueprintType)
struct LUDEX_API FLudexProfile
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "Ludex") FString PlayerId;
	UPROPERTY(BlueprintReadOnly, Category = "Ludex") FString Username;
	UPROPERTY(BlueprintReadOnly, Category = "Ludex") int64 Xp = 0;
	UPROPERTY(BlueprintReadOnly, Category = "Ludex") int32 Level = 0;
	UPROPERTY(BlueprintReadOnly, Category = "Ludex") TMap<FString, int64> Wallet;
	/** The whole profile (inventory, quests, achievements, counters, boosts), as JSON text. */
	UPROPERTY(BlueprintReadOnly, Category = "Ludex") FString Json;
};

USTRUCT(BlueprintType)
struct LUDEX_API FLudexEvent
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "Ludex") FString Id;
	/** e.g. player.xp.added, player.levelup, wallet.credited, store.purchase.succeeded */
	UPROPERTY(BlueprintReadOnly, Category = "Ludex") FString Type;
	UPROPERTY(BlueprintReadOnly, Category = "Ludex") FString PlayerId;
	/** The event's `data` object, as JSON text. */
	UPROPERTY(BlueprintReadOnly, Category = "Ludex") FString Data;
};

DECLARE_DYNAMIC_DELEGATE_ThreeParams(FLudexOnProgress, bool, bOk, const FLudexProgress&, Progress, const FLudexError&, Error);
DECLARE_DYNAMIC_DELEGATE_ThreeParams(FLudexOnProfile, bool, bOk, const FLudexProfile&, Profile, const FLudexError&, Error);
/** Json: the answer body (credit: {currency, balance, entryId}; purchase: the receipt). */
DECLARE_DYNAMIC_DELEGATE_ThreeParams(FLudexOnJson, bool, bOk, const FString&, Json, const FLudexError&, Error);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FLudexOnEvent, const FLudexEvent&, Event);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_TwoParams(FLudexOnRealtimeError, const FLudexError&, Error, bool, bFinal);
