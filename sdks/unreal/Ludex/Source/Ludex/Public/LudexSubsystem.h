// Ludex for Blueprints: one client per game instance, configured from DefaultGame.ini or at
// run time. Calls run on the thread pool (the core blocks, with retries and idempotency keys)
// and their delegates fire on the game thread.
#pragma once

#include "CoreMinimal.h"
#include "LudexTypes.h"
#include "Subsystems/GameInstanceSubsystem.h"

#include <memory>

#include "LudexSubsystem.generated.h"

namespace ludex
{
class Client;
class HttpTransport;
class RealtimeClient;
class Session;
class SessionStorage;
}

UCLASS(Config = Game)
class LUDEX_API ULudexSubsystem : public UGameInstanceSubsystem
{
	GENERATED_BODY()

public:
	/** [/Script/Ludex.LudexSubsystem] BaseUrl=https://... in DefaultGame.ini, or Configure(). */
	UPROPERTY(Config, BlueprintReadOnly, Category = "Ludex") FString BaseUrl;
	UPROPERTY(Config, BlueprintReadOnly, Category = "Ludex") FString TenantId;
	UPROPERTY(Config, BlueprintReadOnly, Category = "Ludex") FString ProjectId;
	/**
	 * A game server's key. Leave it empty in a shipped game client, which signs a player in
	 * instead (SignInWithDevice, SignInWithCustomToken): "me" then stands for that player.
	 */
	UPROPERTY(Config, BlueprintReadOnly, Category = "Ludex") FString ApiKey;
	UPROPERTY(Config, BlueprintReadOnly, Category = "Ludex") float TimeoutSeconds = 10.0f;

	UPROPERTY(BlueprintAssignable, Category = "Ludex|Realtime") FLudexOnEvent OnEvent;
	UPROPERTY(BlueprintAssignable, Category = "Ludex|Realtime") FLudexOnRealtimeError OnRealtimeError;

	virtual void Initialize(FSubsystemCollectionBase& Collection) override;
	virtual void Deinitialize() override;

	UFUNCTION(BlueprintCallable, Category = "Ludex")
	void Configure(const FString& InBaseUrl, const FString& InTenantId, const FString& InProjectId, const FString& InApiKey);

	/**
	 * Without an ApiKey: signs in the player linked to this install's id (16 to 128 chars; keep a
	 * random one in a SaveGame), created on first use. Json: {"playerId", "created"}.
	 */
	UFUNCTION(BlueprintCallable, Category = "Ludex|Session", meta = (AutoCreateRefTerm = "OnDone"))
	void SignInWithDevice(const FString& DeviceId, const FString& Username, const FLudexOnJson& OnDone);

	/** Signs in the player a JWT from your own server names (`sub`). Json: {"playerId", "created"}. */
	UFUNCTION(BlueprintCallable, Category = "Ludex|Session", meta = (AutoCreateRefTerm = "OnDone"))
	void SignInWithCustomToken(const FString& Token, const FLudexOnJson& OnDone);

	/** Signs in again with the refresh token the session storage kept. Json: {"restored", "playerId"}. */
	UFUNCTION(BlueprintCallable, Category = "Ludex|Session", meta = (AutoCreateRefTerm = "OnDone"))
	void RestoreSession(const FLudexOnJson& OnDone);

	/** The session's player takes another install's device id (409 device-linked when another player has it). */
	UFUNCTION(BlueprintCallable, Category = "Ludex|Session", meta = (AutoCreateRefTerm = "OnDone"))
	void LinkDevice(const FString& DeviceId, const FLudexOnJson& OnDone);

	/** The device no longer signs in as the session's player. */
	UFUNCTION(BlueprintCallable, Category = "Ludex|Session", meta = (AutoCreateRefTerm = "OnDone"))
	void UnlinkDevice(const FString& DeviceId, const FLudexOnJson& OnDone);

	/** Ends the session on the server and forgets it (the storage too). */
	UFUNCTION(BlueprintCallable, Category = "Ludex|Session", meta = (AutoCreateRefTerm = "OnDone"))
	void Logout(const FLudexOnJson& OnDone);

	/** The signed-in player's id; empty without a session. */
	UFUNCTION(BlueprintPure, Category = "Ludex|Session")
	FString SessionPlayerId() const;

	/** C++: where the refresh token lives between runs (default: memory). Set it before signing in. */
	void SetSessionStorage(std::shared_ptr<ludex::SessionStorage> Storage);

	/** Creates the player (or answers the existing one for the same id). */
	UFUNCTION(BlueprintCallable, Category = "Ludex", meta = (AutoCreateRefTerm = "OnDone"))
	void CreatePlayer(const FString& PlayerId, const FString& Username, const FLudexOnJson& OnDone);

	/** IdempotencyKey empty: a fresh UUID, reused by the SDK's own retries of this call. */
	UFUNCTION(BlueprintCallable, Category = "Ludex", meta = (AutoCreateRefTerm = "OnDone"))
	void AwardXp(const FString& PlayerId, int64 Amount, const FString& Reason, const FString& IdempotencyKey, const FLudexOnProgress& OnDone);

	UFUNCTION(BlueprintCallable, Category = "Ludex", meta = (AutoCreateRefTerm = "OnDone"))
	void Credit(const FString& PlayerId, const FString& Currency, int64 Amount, const FString& Reason, const FString& IdempotencyKey, const FLudexOnJson& OnDone);

	UFUNCTION(BlueprintCallable, Category = "Ludex", meta = (AutoCreateRefTerm = "OnDone"))
	void Purchase(const FString& PlayerId, const FString& Sku, int32 Quantity, const FString& IdempotencyKey, const FLudexOnJson& OnDone);

	UFUNCTION(BlueprintCallable, Category = "Ludex", meta = (AutoCreateRefTerm = "OnDone"))
	void GetProfile(const FString& PlayerId, const FLudexOnProfile& OnDone);

	/** A score for a `submitted` board (409 not-submittable otherwise); answers {score, rank, periodId}. */
	UFUNCTION(BlueprintCallable, Category = "Ludex|Leaderboards", meta = (AutoCreateRefTerm = "OnDone"))
	void SubmitScore(const FString& BoardId, const FString& PlayerId, int64 Score, const FString& IdempotencyKey, const FLudexOnJson& OnDone);

	/** One page, best first. Period: "current" (empty too), "previous" or an id; Limit 1-100 (0: 50); Cursor: the last page's nextCursor. */
	UFUNCTION(BlueprintCallable, Category = "Ludex|Leaderboards", meta = (AutoCreateRefTerm = "OnDone"))
	void GetLeaderboard(const FString& BoardId, const FString& Period, const FString& Cursor, int32 Limit, const FLudexOnJson& OnDone);

	/** The player's {rank, score, around: [...]}, Around entries above and below; 404 not-ranked without a score. */
	UFUNCTION(BlueprintCallable, Category = "Ludex|Leaderboards", meta = (AutoCreateRefTerm = "OnDone"))
	void GetLeaderboardAroundPlayer(const FString& BoardId, const FString& PlayerId, int32 Around, const FString& Period, const FLudexOnJson& OnDone);

	/** {flags: {...}}: every feature flag evaluated for the player. */
	UFUNCTION(BlueprintCallable, Category = "Ludex", meta = (AutoCreateRefTerm = "OnDone"))
	void GetFlags(const FString& PlayerId, const FLudexOnJson& OnDone);

	/** Event types: exact ("player.levelup") or prefix ("wallet.*"); empty: all. Fires OnEvent. */
	UFUNCTION(BlueprintCallable, Category = "Ludex|Realtime")
	void SubscribeEvents(const TArray<FString>& EventTypes);

	UFUNCTION(BlueprintCallable, Category = "Ludex|Realtime")
	void UnsubscribeEvents();

	/** The id of the last event delivered: store it to resume after a restart of the game. */
	UFUNCTION(BlueprintPure, Category = "Ludex|Realtime")
	FString LastEventId() const;

private:
	void RebuildClient();

	std::shared_ptr<ludex::Client> Client;
	std::shared_ptr<ludex::Session> Session;  // set when there is no ApiKey (a game client)
	std::shared_ptr<ludex::SessionStorage> SessionStorage;
	std::shared_ptr<ludex::RealtimeClient> Realtime;  // shared_ptr: fine with the type incomplete here
	std::shared_ptr<ludex::HttpTransport> Http;
};
