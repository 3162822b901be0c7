#include "LudexSubsystem.h"

#include "Async/Async.h"
#include "LudexCoreIncludes.h"
#include "UnrealHttpTransport.h"
#include "UnrealWebSocketTransport.h"

namespace
{
std::string Utf8(const FString& Text) { return std::string(TCHAR_TO_UTF8(*Text)); }
FString Tchar(const std::string& Text) { return FString(UTF8_TO_TCHAR(Text.c_str())); }

FLudexError ToError(const ludex::LudexError& Error)
{
	FLudexError Out;
	Out.Status = Error.status();
	Out.Slug = Tchar(Error.slug());
	Out.Detail = Tchar(Error.detail());
	Out.RequestId = Tchar(Error.requestId());
	Out.Problem = Tchar(Error.problem().dump());
	return Out;
}

FLudexError Unexpected(const std::exception& Error)
{
	FLudexError Out;
	Out.Slug = TEXT("client-error");
	Out.Detail = Tchar(Error.what());
	return Out;
}

ludex::CallOptions KeyOf(const FString& IdempotencyKey)
{
	ludex::CallOptions Options;
	if (!IdempotencyKey.IsEmpty()) Options.idempotencyKey = Utf8(IdempotencyKey);
	return Options;
}

// Runs `Call` (which may block and throw) on the thread pool, then `Deliver` on the game thread
// with (ok, body, error). The delegate inside Deliver checks its object is still alive.
template <typename DeliverFn>
void RunOffGameThread(std::shared_ptr<ludex::Client> Client, TFunction<ludex::Json(ludex::Client&)> Call, DeliverFn Deliver)
{
	Async(EAsyncExecution::ThreadPool, [Client = MoveTemp(Client), Call = MoveTemp(Call), Deliver = MoveTemp(Deliver)]() mutable
	{
		bool bOk = false;
		ludex::Json Body;
		FLudexError Error;
		if (!Client)
		{
			Error.Slug = TEXT("not-configured");
			Error.Detail = TEXT("call ULudexSubsystem::Configure or set [/Script/Ludex.LudexSubsystem] in DefaultGame.ini");
		}
		else
		{
			try
			{
				Body = Call(*Client);
				bOk = true;
			}
			catch (const ludex::LudexError& Failure) { Error = ToError(Failure); }
			catch (const std::exception& Failure) { Error = Unexpected(Failure); }
		}
		AsyncTask(ENamedThreads::GameThread, [Deliver = MoveTemp(Deliver), bOk, Body = MoveTemp(Body), Error]() mutable
		{
			Deliver(bOk, Body, Error);
		});
	});
}
}  // namespace

void ULudexSubsystem::Initialize(FSubsystemCollectionBase& Collection)
{
	Super::Initialize(Collection);
	Http = std::make_shared<FLudexUnrealHttpTransport>();
	RebuildClient();
}

void ULudexSubsystem::Deinitialize()
{
	UnsubscribeEvents();
	Client.reset();
	Super::Deinitialize();
}

void ULudexSubsystem::Configure(const FString& InBaseUrl, const FString& InTenantId, const FString& InProjectId, const FString& InApiKey)
{
	BaseUrl = InBaseUrl;
	TenantId = InTenantId;
	ProjectId = InProjectId;
	ApiKey = InApiKey;
	RebuildClient();
}

void ULudexSubsystem::RebuildClient()
{
	Session.reset();
	if (BaseUrl.IsEmpty() || TenantId.IsEmpty() || ProjectId.IsEmpty())
	{
		Client.reset();
		return;
	}
	ludex::Config Config;
	Config.baseUrl = Utf8(BaseUrl);
	Config.tenantId = Utf8(TenantId);
	Config.projectId = Utf8(ProjectId);
	Config.timeout = std::chrono::milliseconds(static_cast<int64>(TimeoutSeconds * 1000.0f));
	if (ApiKey.IsEmpty())
	{
		// A game client: no key ships; calls carry the signed-in player's access token.
		Session = std::make_shared<ludex::Session>(Config, Http, SessionStorage);
		Config.session = Session;
	}
	else
	{
		Config.apiKey = Utf8(ApiKey);
	}
	Client = std::make_shared<ludex::Client>(Config, Http);  // in-flight calls keep the old one alive
}

void ULudexSubsystem::SetSessionStorage(std::shared_ptr<ludex::SessionStorage> Storage)
{
	SessionStorage = MoveTemp(Storage);
	RebuildClient();
}

namespace
{
// A session call on the thread pool, answered as JSON on the game thread; without a session
// (the subsystem has an ApiKey, or is not configured) it fails with `no-session`.
void RunSessionCall(std::shared_ptr<ludex::Client> Client, std::shared_ptr<ludex::Session> Session,
	TFunction<ludex::Json(ludex::Session&)> Call, const FLudexOnJson& OnDone)
{
	RunOffGameThread(Client, [Session, Call = MoveTemp(Call)](ludex::Client&)
		{
			if (!Session) throw ludex::LudexError(0, "no-session", "sessions are for game clients: leave ApiKey empty", ludex::Json(), "");
			return Call(*Session);
		},
		[OnDone](bool bOk, const ludex::Json& Answer, const FLudexError& Error)
		{ OnDone.ExecuteIfBound(bOk, bOk ? Tchar(Answer.dump()) : FString(), Error); });
}
}  // namespace

void ULudexSubsystem::SignInWithDevice(const FString& DeviceId, const FString& Username, const FLudexOnJson& OnDone)
{
	const std::string Device = Utf8(DeviceId), Name = Utf8(Username);
	RunSessionCall(Client, Session, [=](ludex::Session& S)
		{
			bool bCreated = S.signInWithDevice(Device, Name);
			return ludex::Json{{"playerId", S.playerId()}, {"created", bCreated}};
		}, OnDone);
}

void ULudexSubsystem::SignInWithCustomToken(const FString& Token, const FLudexOnJson& OnDone)
{
	const std::string Jwt = Utf8(Token);
	RunSessionCall(Client, Session, [=](ludex::Session& S)
		{
			bool bCreated = S.signInWithCustomToken(Jwt);
			return ludex::Json{{"playerId", S.playerId()}, {"created", bCreated}};
		}, OnDone);
}

void ULudexSubsystem::RestoreSession(const FLudexOnJson& OnDone)
{
	RunSessionCall(Client, Session, [](ludex::Session& S)
		{
			bool bRestored = S.restore();
			return ludex::Json{{"restored", bRestored}, {"playerId", S.playerId()}};
		}, OnDone);
}

void ULudexSubsystem::LinkDevice(const FString& DeviceId, const FLudexOnJson& OnDone)
{
	const std::string Device = Utf8(DeviceId);
	RunOffGameThread(Client, [Device](ludex::Client& C) { C.devices().link(Device); return ludex::Json::object(); },
		[OnDone](bool bOk, const ludex::Json& Answer, const FLudexError& Error)
		{ OnDone.ExecuteIfBound(bOk, bOk ? Tchar(Answer.dump()) : FString(), Error); });
}

void ULudexSubsystem::UnlinkDevice(const FString& DeviceId, const FLudexOnJson& OnDone)
{
	const std::string Device = Utf8(DeviceId);
	RunOffGameThread(Client, [Device](ludex::Client& C) { C.devices().unlink(Device); return ludex::Json::object(); },
		[OnDone](bool bOk, const ludex::Json& Answer, const FLudexError& Error)
		{ OnDone.ExecuteIfBound(bOk, bOk ? Tchar(Answer.dump()) : FString(), Error); });
}

void ULudexSubsystem::Logout(const FLudexOnJson& OnDone)
{
	RunSessionCall(Client, Session, [](ludex::Session& S)
		{
			S.logout();
			return ludex::Json::object();
		}, OnDone);
}

FString ULudexSubsystem::SessionPlayerId() const
{
	return Session ? Tchar(Session->playerId()) : FString();
}

void ULudexSubsystem::CreatePlayer(const FString& PlayerId, const FString& Username, const FLudexOnJson& OnDone)
{
	ludex::Json Body{{"username", Utf8(Username)}};
	if (!PlayerId.IsEmpty()) Body["playerId"] = Utf8(PlayerId);
	RunOffGameThread(Client, [Body](ludex::Client& C) { return C.players().create(Body); },
		[OnDone](bool bOk, const ludex::Json& Answer, const FLudexError& Error)
		{ OnDone.ExecuteIfBound(bOk, bOk ? Tchar(Answer.dump()) : FString(), Error); });
}

void ULudexSubsystem::AwardXp(const FString& PlayerId, int64 Amount, const FString& Reason, const FString& IdempotencyKey, const FLudexOnProgress& OnDone)
{
	const std::string Player = Utf8(PlayerId), Why = Utf8(Reason);
	const ludex::CallOptions Options = KeyOf(IdempotencyKey);
	RunOffGameThread(Client, [=](ludex::Client& C) { return C.players().awardXp(Player, {Amount, Why}, Options); },
		[OnDone](bool bOk, const ludex::Json& Answer, const FLudexError& Error)
		{
			FLudexProgress Progress;
			if (bOk)
			{
				Progress.Xp = Answer.value("xp", int64(0));
				Progress.Level = Answer.value("level", 0);
				Progress.bLeveledUp = Answer.value("leveledUp", false);
			}
			OnDone.ExecuteIfBound(bOk, Progress, Error);
		});
}

void ULudexSubsystem::Credit(const FString& PlayerId, const FString& Currency, int64 Amount, const FString& Reason, const FString& IdempotencyKey, const FLudexOnJson& OnDone)
{
	const std::string Player = Utf8(PlayerId);
	const ludex::CurrencyChange Change{Utf8(Currency), Amount, Utf8(Reason)};
	const ludex::CallOptions Options = KeyOf(IdempotencyKey);
	RunOffGameThread(Client, [=](ludex::Client& C) { return C.wallet().credit(Player, Change, Options); },
		[OnDone](bool bOk, const ludex::Json& Answer, const FLudexError& Error)
		{ OnDone.ExecuteIfBound(bOk, bOk ? Tchar(Answer.dump()) : FString(), Error); });
}

void ULudexSubsystem::Purchase(const FString& PlayerId, const FString& Sku, int32 Quantity, const FString& IdempotencyKey, const FLudexOnJson& OnDone)
{
	const std::string Player = Utf8(PlayerId), Item = Utf8(Sku);
	const ludex::CallOptions Options = KeyOf(IdempotencyKey);
	RunOffGameThread(Client, [=](ludex::Client& C) { return C.store().purchase(Player, Item, Quantity, Options); },
		[OnDone](bool bOk, const ludex::Json& Answer, const FLudexError& Error)
		{ OnDone.ExecuteIfBound(bOk, bOk ? Tchar(Answer.dump()) : FString(), Error); });
}

namespace
{
void DeliverJson(const FLudexOnJson& OnDone, bool bOk, const ludex::Json& Answer, const FLudexError& Error)
{
	OnDone.ExecuteIfBound(bOk, bOk ? Tchar(Answer.dump()) : FString(), Error);
}

std::string PeriodOf(const FString& Period) { return Period.IsEmpty() ? std::string("current") : Utf8(Period); }
}  // namespace

void ULudexSubsystem::SubmitScore(const FString& BoardId, const FString& PlayerId, int64 Score, const FString& IdempotencyKey, const FLudexOnJson& OnDone)
{
	const std::string Board = Utf8(BoardId);
	const ludex::ScoreSubmission Submission{Utf8(PlayerId), Score, ludex::Json::object()};
	const ludex::CallOptions Options = KeyOf(IdempotencyKey);
	RunOffGameThread(Client, [=](ludex::Client& C) { return C.leaderboards().submit(Board, Submission, Options); },
		[OnDone](bool bOk, const ludex::Json& Answer, const FLudexError& Error) { DeliverJson(OnDone, bOk, Answer, Error); });
}

void ULudexSubsystem::GetLeaderboard(const FString& BoardId, const FString& Period, const FString& Cursor, int32 Limit, const FLudexOnJson& OnDone)
{
	const std::string Board = Utf8(BoardId);
	ludex::BoardQuery Query;
	Query.period = PeriodOf(Period);
	if (!Cursor.IsEmpty()) Query.page.cursor = Utf8(Cursor);
	if (Limit > 0) Query.page.limit = Limit;
	RunOffGameThread(Client, [=](ludex::Client& C) { return C.leaderboards().page(Board, Query); },
		[OnDone](bool bOk, const ludex::Json& Answer, const FLudexError& Error) { DeliverJson(OnDone, bOk, Answer, Error); });
}

void ULudexSubsystem::GetLeaderboardAroundPlayer(const FString& BoardId, const FString& PlayerId, int32 Around, const FString& Period, const FLudexOnJson& OnDone)
{
	const std::string Board = Utf8(BoardId), Player = Utf8(PlayerId), When = PeriodOf(Period);
	const int Count = Around > 0 ? Around : 0;
	RunOffGameThread(Client, [=](ludex::Client& C) { return C.leaderboards().around(Board, Player, Count, When); },
		[OnDone](bool bOk, const ludex::Json& Answer, const FLudexError& Error) { DeliverJson(OnDone, bOk, Answer, Error); });
}

void ULudexSubsystem::GetFlags(const FString& PlayerId, const FLudexOnJson& OnDone)
{
	const std::string Player = Utf8(PlayerId);
	RunOffGameThread(Client, [=](ludex::Client& C) { return C.flags().get(Player); },
		[OnDone](bool bOk, const ludex::Json& Answer, const FLudexError& Error) { DeliverJson(OnDone, bOk, Answer, Error); });
}

void ULudexSubsystem::GetProfile(const FString& PlayerId, const FLudexOnProfile& OnDone)
{
	const std::string Player = Utf8(PlayerId);
	RunOffGameThread(Client, [=](ludex::Client& C) { return C.players().get(Player); },
		[OnDone](bool bOk, const ludex::Json& Answer, const FLudexError& Error)
		{
			FLudexProfile Profile;
			if (bOk)
			{
				Profile.PlayerId = Tchar(Answer.value("playerId", ""));
				Profile.Username = Tchar(Answer.value("username", ""));
				Profile.Xp = Answer.value("xp", int64(0));
				Profile.Level = Answer.value("level", 0);
				if (Answer.contains("wallet") && Answer["wallet"].is_object())
				{
					for (const auto& Balance : Answer["wallet"].items())
					{
						Profile.Wallet.Add(Tchar(Balance.key()), Balance.value().get<int64>());
					}
				}
				Profile.Json = Tchar(Answer.dump());
			}
			OnDone.ExecuteIfBound(bOk, Profile, Error);
		});
}

void ULudexSubsystem::SubscribeEvents(const TArray<FString>& EventTypes)
{
	UnsubscribeEvents();
	if (!Client)
	{
		FLudexError Error;
		Error.Slug = TEXT("not-configured");
		OnRealtimeError.Broadcast(Error, true);
		return;
	}
	TSharedRef<FLudexUnrealWebSocketTransport, ESPMode::ThreadSafe> Socket = MakeShared<FLudexUnrealWebSocketTransport, ESPMode::ThreadSafe>();
	// The core holds a std::shared_ptr; it keeps the Unreal shared reference alive through its deleter.
	std::shared_ptr<ludex::WebSocketTransport> Transport(&Socket.Get(), [Keep = Socket](ludex::WebSocketTransport*) {});
	Realtime = std::make_shared<ludex::RealtimeClient>(Client->config(), Transport);

	ludex::RealtimeOptions Options;
	Options.closeWait = std::chrono::milliseconds(0);  // the close is reported on this (game) thread
	if (EventTypes.Num() > 0)
	{
		Options.eventTypes.clear();
		for (const FString& Type : EventTypes) Options.eventTypes.push_back(Utf8(Type));
	}
	TWeakObjectPtr<ULudexSubsystem> WeakThis(this);
	ludex::RealtimeHandlers Handlers;
	// The Unreal transport runs these on the game thread already.
	Handlers.onEvent = [WeakThis](const ludex::Json& Event)
	{
		if (!WeakThis.IsValid()) return;
		FLudexEvent Out;
		Out.Id = Tchar(Event.value("id", ""));
		Out.Type = Tchar(Event.value("type", ""));
		Out.PlayerId = Tchar(Event.value("playerId", ""));
		Out.Data = Event.contains("data") ? Tchar(Event["data"].dump()) : FString(TEXT("{}"));
		WeakThis->OnEvent.Broadcast(Out);
	};
	Handlers.onError = [WeakThis](const ludex::LudexError& Error, bool bFinal)
	{
		// The final refusal comes from the core's background thread: hop to the game thread.
		AsyncTask(ENamedThreads::GameThread, [WeakThis, Out = ToError(Error), bFinal]()
		{
			if (WeakThis.IsValid()) WeakThis->OnRealtimeError.Broadcast(Out, bFinal);
		});
	};
	Realtime->start(Options, Handlers);
}

void ULudexSubsystem::UnsubscribeEvents()
{
	if (Realtime)
	{
		Realtime->stop();
		Realtime.reset();
	}
}

FString ULudexSubsystem::LastEventId() const
{
	if (!Realtime) return FString();
	std::optional<std::string> Id = Realtime->lastEventId();
	return Id ? Tchar(*Id) : FString();
}
