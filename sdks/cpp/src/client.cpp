#include "ludex/client.hpp"

#include <cctype>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <thread>

#include "ludex/retry.hpp"
#include "ludex/session.hpp"

namespace ludex {

namespace {

// Percent-encodes everything but RFC 3986 unreserved characters (path segments, query values).
std::string encode(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string playerPath(const std::string& playerId, const std::string& rest = "") {
  return "/players/" + encode(playerId) + rest;
}

using Query = std::vector<std::pair<std::string, std::string>>;

void addPage(Query& query, const Page& page) {
  if (page.cursor) query.emplace_back("cursor", *page.cursor);
  if (page.limit) query.emplace_back("limit", std::to_string(*page.limit));
}

std::mt19937_64& threadRandom() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  return random;
}

}  // namespace

std::string newUuid4() {
  std::uniform_int_distribution<unsigned> byte(0, 255);
  unsigned char bytes[16];
  for (auto& b : bytes) b = static_cast<unsigned char>(byte(threadRandom()));
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0F) | 0x40);
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3F) | 0x80);
  char text[37];
  std::snprintf(text, sizeof text, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", bytes[0],
                bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10],
                bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
  return text;
}

Requester::Requester(Config config, std::shared_ptr<HttpTransport> transport)
    : config_(std::move(config)), transport_(std::move(transport)) {
  if (config_.session) {
    const Config& of = config_.session->config();
    if (config_.baseUrl.empty()) config_.baseUrl = of.baseUrl;
    if (config_.tenantId.empty()) config_.tenantId = of.tenantId;
    if (config_.projectId.empty()) config_.projectId = of.projectId;
  }
  while (!config_.baseUrl.empty() && config_.baseUrl.back() == '/') config_.baseUrl.pop_back();
#ifndef LUDEX_NO_DEFAULT_TRANSPORTS
  if (!transport_) transport_ = makeCurlHttpTransport();
#endif
  if (!transport_) throw std::invalid_argument("ludex::Client needs an HttpTransport in this build");
}

Json Requester::call(const std::string& method, const std::string& path, const std::optional<Json>& body,
                     const Query& query, bool idempotent, const CallOptions& options) {
  HttpRequest request;
  request.method = method;
  request.url = config_.baseUrl + "/v1/projects/" + encode(config_.projectId) + path;
  for (std::size_t i = 0; i < query.size(); ++i) {
    request.url += (i == 0 ? '?' : '&') + encode(query[i].first) + "=" + encode(query[i].second);
  }
  request.headers = {{"x-tenant-id", config_.tenantId}, {"accept", "application/json"}, {"user-agent", "ludex-cpp/0.1"}};
  if (!config_.apiKey.empty()) request.headers["x-api-key"] = config_.apiKey;
  if (body) {
    request.body = body->dump();
    request.headers["content-type"] = "application/json";
  }
  // One key for every attempt of this call: that is what makes a retry safe.
  if (idempotent) request.headers["idempotency-key"] = options.idempotencyKey.value_or(newUuid4());
  request.timeout = config_.timeout;

  HttpResponse response;
  if (!config_.session) {
    response = sendWithRetries(request, options.retryNetworkErrors);
  } else {
    std::string token = config_.session->accessToken();
    request.headers["authorization"] = "Bearer " + token;
    try {
      response = sendWithRetries(request, options.retryNetworkErrors);
    } catch (const LudexError& error) {
      if (error.status() != 401) throw;
      // An access token that expired or was revoked: one refresh, one more try; a refused
      // refresh throws the server's problem from here.
      config_.session->refreshAfterRejection(token);
      request.headers["authorization"] = "Bearer " + config_.session->accessToken();
      response = sendWithRetries(request, options.retryNetworkErrors);
    }
  }
  return response.body.empty() ? Json() : Json::parse(response.body);
}

HttpResponse Requester::sendWithRetries(const HttpRequest& request, bool retryNetworkErrors) {
  const RetryPolicy& policy = config_.retry;
  const auto started = std::chrono::steady_clock::now();
  for (int attempt = 1;; ++attempt) {
    std::optional<std::chrono::milliseconds> retryAfter;
    std::optional<LudexError> failure;
    try {
      HttpResponse response = transport_->send(request);
      if (response.status >= 200 && response.status < 300) return response;
      failure = LudexError::fromResponse(response.status, response.body, response.headers["x-request-id"]);
      if (!isRetryableStatus(response.status)) throw *failure;
      auto header = response.headers.find("retry-after");
      if (header != response.headers.end()) retryAfter = parseRetryAfter(header->second);
    } catch (const TransportError& error) {
      failure = LudexError(0, kNetworkErrorSlug, error.what(), Json(), "");
      if (!retryNetworkErrors) throw *failure;
    }
    if (attempt >= policy.maxAttempts) throw *failure;
    auto delay = backoffDelay(policy, attempt - 1, retryAfter, threadRandom());
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    if (elapsed + delay > policy.maxElapsed) throw *failure;
    std::this_thread::sleep_for(delay);
  }
}

Json Players::create(const Json& body, const CallOptions& options) {
  return r_.call("POST", "/players", body, {}, true, options);
}
Json Players::get(const std::string& playerId) { return r_.call("GET", playerPath(playerId)); }
Json Players::list(const std::optional<std::string>& username, const Page& page) {
  Query query;
  if (username) query.emplace_back("username", *username);
  addPage(query, page);
  return r_.call("GET", "/players", std::nullopt, query);
}
Json Players::update(const std::string& playerId, const Json& patch) {
  return r_.call("PATCH", playerPath(playerId), patch);
}
void Players::remove(const std::string& playerId) { r_.call("DELETE", playerPath(playerId)); }
Json Players::awardXp(const std::string& playerId, const XpAward& award, const CallOptions& options) {
  Json body{{"amount", award.amount}};
  if (!award.reason.empty()) body["reason"] = award.reason;
  return r_.call("POST", playerPath(playerId, "/xp"), body, {}, true, options);
}
Json Players::progression(const std::string& playerId) { return r_.call("GET", playerPath(playerId, "/progression")); }

namespace {
Json currencyBody(const CurrencyChange& change) {
  Json body{{"currency", change.currency}, {"amount", change.amount}};
  if (!change.reason.empty()) body["reason"] = change.reason;
  return body;
}
}  // namespace

Json Wallet::get(const std::string& playerId) { return r_.call("GET", playerPath(playerId, "/wallet")); }
Json Wallet::credit(const std::string& playerId, const CurrencyChange& change, const CallOptions& options) {
  return r_.call("POST", playerPath(playerId, "/wallet/credit"), currencyBody(change), {}, true, options);
}
Json Wallet::debit(const std::string& playerId, const CurrencyChange& change, const CallOptions& options) {
  return r_.call("POST", playerPath(playerId, "/wallet/debit"), currencyBody(change), {}, true, options);
}
Json Wallet::history(const std::string& playerId, const std::optional<std::string>& currency, const Page& page) {
  Query query;
  if (currency) query.emplace_back("currency", *currency);
  addPage(query, page);
  return r_.call("GET", playerPath(playerId, "/wallet/history"), std::nullopt, query);
}

Json Inventory::get(const std::string& playerId) { return r_.call("GET", playerPath(playerId, "/inventory")); }
Json Inventory::grant(const std::string& playerId, const ItemChange& change, const CallOptions& options) {
  Json body{{"itemId", change.itemId}, {"quantity", change.quantity}};
  return r_.call("POST", playerPath(playerId, "/items/grant"), body, {}, true, options);
}
Json Inventory::consume(const std::string& playerId, const ItemChange& change, const CallOptions& options) {
  Json body{{"itemId", change.itemId}, {"quantity", change.quantity}};
  return r_.call("POST", playerPath(playerId, "/items/consume"), body, {}, true, options);
}

Json Counters::get(const std::string& playerId) { return r_.call("GET", playerPath(playerId, "/counters")); }
Json Counters::increment(const std::string& playerId, const std::string& counterId, std::int64_t by,
                         const CallOptions& options) {
  return r_.call("POST", playerPath(playerId, "/counters/" + encode(counterId) + "/increment"), Json{{"by", by}}, {},
                 true, options);
}
Json Counters::reset(const std::string& playerId, const std::string& counterId, const CallOptions& options) {
  return r_.call("POST", playerPath(playerId, "/counters/" + encode(counterId) + "/reset"), Json::object(), {}, true,
                 options);
}

Json Quests::get(const std::string& playerId) { return r_.call("GET", playerPath(playerId, "/quests")); }
Json Quests::progress(const std::string& playerId, const std::string& questId, const std::string& objectiveId,
                      std::int64_t by, const CallOptions& options) {
  return r_.call("POST", playerPath(playerId, "/quests/" + encode(questId) + "/progress"),
                 Json{{"objectiveId", objectiveId}, {"by", by}}, {}, true, options);
}

Json Achievements::get(const std::string& playerId) { return r_.call("GET", playerPath(playerId, "/achievements")); }

Json Store::catalog() { return r_.call("GET", "/store/catalog"); }
Json Store::sku(const std::string& sku) { return r_.call("GET", "/store/skus/" + encode(sku)); }
Json Store::purchase(const std::string& playerId, const std::string& sku, int quantity, const CallOptions& options) {
  return r_.call("POST", playerPath(playerId, "/purchases"), Json{{"sku", sku}, {"quantity", quantity}}, {}, true,
                 options);
}
Json Store::receipt(const std::string& playerId, const std::string& purchaseId) {
  return r_.call("GET", playerPath(playerId, "/purchases/" + encode(purchaseId)));
}

Json Commands::batch(Json commands) {
  for (auto& command : commands) {
    if (!command.contains("idempotencyKey")) command["idempotencyKey"] = newUuid4();
  }
  return r_.call("POST", "/commands", Json{{"commands", std::move(commands)}});
}

Json Events::list(const EventQuery& query) {
  Query params;
  if (!query.types.empty()) {
    std::string joined;
    for (const auto& type : query.types) joined += (joined.empty() ? "" : ",") + type;
    params.emplace_back("type", joined);
  }
  if (query.playerId) params.emplace_back("playerId", *query.playerId);
  if (query.from) params.emplace_back("from", *query.from);
  if (query.to) params.emplace_back("to", *query.to);
  addPage(params, query.page);
  return r_.call("GET", "/events", std::nullopt, params);
}

void Events::forEach(EventQuery query, const std::function<bool(const Json& event)>& visit) {
  for (;;) {
    Json page = list(query);
    for (const auto& event : page.at("items")) {
      if (!visit(event)) return;
    }
    auto next = page.find("nextCursor");
    if (next == page.end() || !next->is_string()) return;
    query.page.cursor = next->get<std::string>();
  }
}

namespace {
std::string boardPath(const std::string& boardId, const std::string& rest = "") {
  return "/leaderboards/" + encode(boardId) + rest;
}
}  // namespace

Json Leaderboards::list() { return r_.call("GET", "/leaderboards"); }

Json Leaderboards::submit(const std::string& boardId, const ScoreSubmission& submission,
                          const CallOptions& options) {
  Json body{{"playerId", submission.playerId}, {"score", submission.score}};
  if (submission.metadata.is_object() && !submission.metadata.empty()) body["metadata"] = submission.metadata;
  return r_.call("POST", boardPath(boardId, "/scores"), body, {}, true, options);
}

Json Leaderboards::page(const std::string& boardId, const BoardQuery& query) {
  Query params{{"period", query.period}};
  addPage(params, query.page);
  return r_.call("GET", boardPath(boardId), std::nullopt, params);
}

void Leaderboards::forEach(const std::string& boardId, BoardQuery query,
                           const std::function<bool(const Json& entry)>& visit) {
  for (;;) {
    Json answer = page(boardId, query);
    for (const auto& entry : answer.at("items")) {
      if (!visit(entry)) return;
    }
    auto next = answer.find("nextCursor");
    if (next == answer.end() || !next->is_string()) return;
    query.page.cursor = next->get<std::string>();
  }
}

Json Leaderboards::around(const std::string& boardId, const std::string& playerId, int around,
                          const std::string& period) {
  Query params{{"period", period}, {"around", std::to_string(around)}};
  return r_.call("GET", boardPath(boardId, playerPath(playerId)), std::nullopt, params);
}

Json Flags::get(const std::string& playerId) { return r_.call("GET", playerPath(playerId, "/flags")); }

Client::Client(Config config, std::shared_ptr<HttpTransport> transport)
    : requester_(std::move(config), std::move(transport)),
      players_(requester_),
      wallet_(requester_),
      inventory_(requester_),
      counters_(requester_),
      quests_(requester_),
      achievements_(requester_),
      store_(requester_),
      commands_(requester_),
      events_(requester_),
      leaderboards_(requester_),
      flags_(requester_),
      devices_(requester_) {}

}  // namespace ludex

namespace ludex {

void Devices::link(const std::string& deviceId) { r_.call("POST", "/auth/devices/link", Json{{"deviceId", deviceId}}); }
void Devices::unlink(const std::string& deviceId) {
  r_.call("POST", "/auth/devices/unlink", Json{{"deviceId", deviceId}});
}

}  // namespace ludex
