// The game API of one project: players, progression, economy, store, batch and events.
//
// Calls block until the answer (or the final failure) and return the JSON body the server sent
// (see docs/API.md for shapes). Every economy-changing POST carries an Idempotency-Key, the
// caller's or a fresh UUIDv4, reused for every retry of that call: a call lands at most once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ludex/config.hpp"
#include "ludex/error.hpp"
#include "ludex/transport.hpp"

namespace ludex {

using Json = nlohmann::json;

struct CallOptions {
  std::optional<std::string> idempotencyKey;  // unset: a generated UUIDv4
  // false for a call that must not go twice once the server may have acted on it (a session's
  // refresh, which spends its token): network failures then surface instead of being retried.
  bool retryNetworkErrors = true;
};

struct Page {
  std::optional<std::string> cursor;
  std::optional<int> limit;
};

struct XpAward {
  std::int64_t amount = 0;
  std::string reason;
};

struct CurrencyChange {
  std::string currency;
  std::int64_t amount = 0;
  std::string reason;
};

struct ItemChange {
  std::string itemId;
  std::int64_t quantity = 1;
};

struct EventQuery {
  std::vector<std::string> types;
  std::optional<std::string> playerId;
  std::optional<std::string> from;  // RFC 3339
  std::optional<std::string> to;    // RFC 3339, exclusive
  Page page;
};

// A leaderboard period: "current" (the default), "previous" (the last ended one) or an id
// ("all", "2026-11-30", "2026-W49", "2026-11").
struct BoardQuery {
  std::string period = "current";
  Page page;  // limit 1 to 100, default 50
};

struct ScoreSubmission {
  std::string playerId;
  std::int64_t score = 0;  // within +-(2^53 - 1)
  Json metadata = Json::object();
};

class Client;

// The retrying, idempotent request engine every resource group shares.
class Requester {
 public:
  Requester(Config config, std::shared_ptr<HttpTransport> transport);
  // `path` is relative to /v1/projects/{projectId}; `idempotent` adds the Idempotency-Key.
  Json call(const std::string& method, const std::string& path, const std::optional<Json>& body = std::nullopt,
            const std::vector<std::pair<std::string, std::string>>& query = {}, bool idempotent = false,
            const CallOptions& options = {});
  const Config& config() const { return config_; }

 private:
  HttpResponse sendWithRetries(const HttpRequest& request, bool retryNetworkErrors);

  Config config_;
  std::shared_ptr<HttpTransport> transport_;
};

class Players {
 public:
  explicit Players(Requester& requester) : r_(requester) {}
  // body: {playerId?, username, metadata?}; 201 new, 200 when the same player already exists.
  Json create(const Json& body, const CallOptions& options = {});
  Json get(const std::string& playerId);
  Json list(const std::optional<std::string>& username = std::nullopt, const Page& page = {});
  Json update(const std::string& playerId, const Json& patch);
  void remove(const std::string& playerId);
  Json awardXp(const std::string& playerId, const XpAward& award, const CallOptions& options = {});
  Json progression(const std::string& playerId);

 private:
  Requester& r_;
};

class Wallet {
 public:
  explicit Wallet(Requester& requester) : r_(requester) {}
  Json get(const std::string& playerId);
  Json credit(const std::string& playerId, const CurrencyChange& change, const CallOptions& options = {});
  Json debit(const std::string& playerId, const CurrencyChange& change, const CallOptions& options = {});
  Json history(const std::string& playerId, const std::optional<std::string>& currency = std::nullopt,
               const Page& page = {});

 private:
  Requester& r_;
};

class Inventory {
 public:
  explicit Inventory(Requester& requester) : r_(requester) {}
  Json get(const std::string& playerId);
  Json grant(const std::string& playerId, const ItemChange& change, const CallOptions& options = {});
  Json consume(const std::string& playerId, const ItemChange& change, const CallOptions& options = {});

 private:
  Requester& r_;
};

class Counters {
 public:
  explicit Counters(Requester& requester) : r_(requester) {}
  Json get(const std::string& playerId);
  Json increment(const std::string& playerId, const std::string& counterId, std::int64_t by = 1,
                 const CallOptions& options = {});
  Json reset(const std::string& playerId, const std::string& counterId, const CallOptions& options = {});

 private:
  Requester& r_;
};

class Quests {
 public:
  explicit Quests(Requester& requester) : r_(requester) {}
  Json get(const std::string& playerId);
  Json progress(const std::string& playerId, const std::string& questId, const std::string& objectiveId,
                std::int64_t by = 1, const CallOptions& options = {});

 private:
  Requester& r_;
};

class Achievements {
 public:
  explicit Achievements(Requester& requester) : r_(requester) {}
  Json get(const std::string& playerId);

 private:
  Requester& r_;
};

class Store {
 public:
  explicit Store(Requester& requester) : r_(requester) {}
  Json catalog();
  Json sku(const std::string& sku);
  Json purchase(const std::string& playerId, const std::string& sku, int quantity = 1,
                const CallOptions& options = {});
  Json receipt(const std::string& playerId, const std::string& purchaseId);

 private:
  Requester& r_;
};

class Commands {
 public:
  explicit Commands(Requester& requester) : r_(requester) {}
  // commands: [{op, playerId, ...}]; a command without idempotencyKey gets a UUIDv4, kept
  // across retries of the batch, so each command lands once.
  Json batch(Json commands);

 private:
  Requester& r_;
};

class Events {
 public:
  explicit Events(Requester& requester) : r_(requester) {}
  Json list(const EventQuery& query = {});
  // Every matching event, oldest first, page after page; return false from `visit` to stop.
  void forEach(EventQuery query, const std::function<bool(const Json& event)>& visit);

 private:
  Requester& r_;
};

class Leaderboards {
 public:
  explicit Leaderboards(Requester& requester) : r_(requester) {}
  // The project's boards ({items: [{id, title, metric, operator, order, reset, period}]}).
  Json list();
  // A score for a `submitted` board (409 not-submittable otherwise), exactly once like every
  // write: {boardId, playerId, score, rank, periodId}, the player's standing after it.
  Json submit(const std::string& boardId, const ScoreSubmission& submission, const CallOptions& options = {});
  // One page, best first: {boardId, period: {id, startsAt, endsAt}, items: [{rank, playerId,
  // username, score, updatedAt}], nextCursor}.
  Json page(const std::string& boardId, const BoardQuery& query = {});
  // Every entry of the period in rank order, page after page; return false from `visit` to stop.
  void forEach(const std::string& boardId, BoardQuery query, const std::function<bool(const Json& entry)>& visit);
  // The player's {rank, score, around: [...]} with `around` entries above and below (fewer at
  // the edges); LudexError 404 `not-ranked` when the player has no score in the period.
  Json around(const std::string& boardId, const std::string& playerId, int around = 0,
              const std::string& period = "current");

 private:
  Requester& r_;
};

class Flags {
 public:
  explicit Flags(Requester& requester) : r_(requester) {}
  // {flags: {flagId: bool | number | string}}: every flag of the economy evaluated for the player.
  Json get(const std::string& playerId);

 private:
  Requester& r_;
};

// A session's own devices (a key is refused with 403 `forbidden`).
class Devices {
 public:
  explicit Devices(Requester& requester) : r_(requester) {}
  // From now on the device id signs in as the session's player; 409 `device-linked` when
  // another player has it.
  void link(const std::string& deviceId);
  // The device no longer signs in as the session's player (its next device sign-in makes a new one).
  void unlink(const std::string& deviceId);

 private:
  Requester& r_;
};

class Client {
 public:
  // A null transport means the bundled libcurl one (console builds only).
  explicit Client(Config config, std::shared_ptr<HttpTransport> transport = nullptr);

  Players& players() { return players_; }
  Wallet& wallet() { return wallet_; }
  Inventory& inventory() { return inventory_; }
  Counters& counters() { return counters_; }
  Quests& quests() { return quests_; }
  Achievements& achievements() { return achievements_; }
  Store& store() { return store_; }
  Commands& commands() { return commands_; }
  Events& events() { return events_; }
  Leaderboards& leaderboards() { return leaderboards_; }
  Flags& flags() { return flags_; }
  Devices& devices() { return devices_; }
  const Config& config() const { return requester_.config(); }

 private:
  Requester requester_;
  Players players_;
  Wallet wallet_;
  Inventory inventory_;
  Counters counters_;
  Quests quests_;
  Achievements achievements_;
  Store store_;
  Commands commands_;
  Events events_;
  Leaderboards leaderboards_;
  Flags flags_;
  Devices devices_;
};

// A random UUIDv4, as the SDK's default Idempotency-Key.
std::string newUuid4();

}  // namespace ludex
