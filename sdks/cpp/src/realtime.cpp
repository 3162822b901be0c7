#include "ludex/realtime.hpp"

#include <random>
#include <stdexcept>

#include "ludex/retry.hpp"
#include "ludex/session.hpp"

namespace ludex {

std::string realtimeUrl(const std::string& baseUrl) {
  std::string url = baseUrl;
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.rfind("https://", 0) == 0) {
    url = "wss://" + url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    url = "ws://" + url.substr(7);
  }
  return url + "/v1/realtime";
}

RealtimeClient::RealtimeClient(Config config, std::shared_ptr<WebSocketTransport> transport)
    : config_(std::move(config)), transport_(std::move(transport)) {
  if (config_.session) {
    const Config& of = config_.session->config();
    if (config_.baseUrl.empty()) config_.baseUrl = of.baseUrl;
    if (config_.tenantId.empty()) config_.tenantId = of.tenantId;
    if (config_.projectId.empty()) config_.projectId = of.projectId;
  }
#ifndef LUDEX_NO_DEFAULT_TRANSPORTS
  if (!transport_) transport_ = makeWebsocketppTransport();
#endif
  if (!transport_) throw std::invalid_argument("ludex::RealtimeClient needs a WebSocketTransport in this build");
}

RealtimeClient::~RealtimeClient() { stop(); }

Headers RealtimeClient::credentials() {
  Headers headers{{"x-tenant-id", config_.tenantId}, {"x-project-id", config_.projectId}};
  if (config_.session) {
    headers["authorization"] = "Bearer " + config_.session->accessToken();
  } else {
    headers["x-api-key"] = config_.apiKey;
  }
  return headers;
}

void RealtimeClient::start(RealtimeOptions options, RealtimeHandlers handlers) {
  stop();
  options_ = std::move(options);
  handlers_ = std::move(handlers);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = false;
    finished_ = false;
    if (options_.since && !lastEventId_) lastEventId_ = options_.since;
  }
  supervisor_ = std::thread([this] { supervise(); });
}

void RealtimeClient::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (supervisor_.joinable()) supervisor_.join();
}

std::optional<std::string> RealtimeClient::lastEventId() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return lastEventId_;
}

int RealtimeClient::subscriptions() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return subscriptions_;
}

bool RealtimeClient::finished() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return finished_;
}

void RealtimeClient::supervise() {
  std::mt19937_64 random{std::random_device{}()};
  RetryPolicy backoff;
  backoff.baseDelay = options_.reconnectBaseDelay;
  backoff.maxDelay = options_.reconnectMaxDelay;
  int failedInARow = 0;
  bool refreshedForClose = false;
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    closed_ = false;
    subscribedNow_ = false;
    lastServerError_.clear();
    lastHeard_ = std::chrono::steady_clock::now();
    lock.unlock();
    Headers headers;
    try {
      headers = credentials();
    } catch (const LudexError& error) {
      if (error.status() != 401) throw;
      // The session's refresh was refused (spent, revoked, the player banned): nothing to retry.
      lock.lock();
      finished_ = true;
      lock.unlock();
      if (handlers_.onError) handlers_.onError(error, true);
      return;
    }
    transport_->connect(realtimeUrl(config_.baseUrl), headers,
                        WebSocketHandlers{nullptr, [this](const std::string& text) { onMessage(text); },
                                          [this](int code, const std::string& reason) { onClosed(code, reason); }});
    lock.lock();
    bool pinged = false;
    while (!closed_ && !stopping_) {
      changed_.wait_for(lock, options_.pingInterval);
      if (closed_ || stopping_) break;
      // Silence for a whole interval: ask; silence again after asking: the link is dead.
      if (std::chrono::steady_clock::now() - lastHeard_ < options_.pingInterval) {
        pinged = false;
      } else if (!pinged) {
        pinged = true;
        lock.unlock();
        transport_->send(R"({"action":"ping"})");
        lock.lock();
      } else {
        lock.unlock();
        transport_->close();
        lock.lock();
      }
    }
    if (!closed_) {  // stopping: end the connection and wait for its close to be reported
      lock.unlock();
      transport_->close();
      lock.lock();
      changed_.wait_for(lock, options_.closeWait, [this] { return closed_; });
      break;
    }
    if (closeCode_ == 4401 && config_.session && !refreshedForClose) {
      // The session's access token expired while open: one refresh, then connect again.
      refreshedForClose = true;
      lock.unlock();
      try {
        config_.session->refresh();
      } catch (const LudexError& error) {
        if (error.status() == 401) {
          lock.lock();
          finished_ = true;
          lock.unlock();
          if (handlers_.onError) handlers_.onError(error, true);
          return;
        }
      }
      lock.lock();
      continue;
    }
    if (subscribedNow_) refreshedForClose = false;
    if (closeCode_ == 4401 || closeCode_ == 4403) {
      finished_ = true;
      // The server's own refusal (`missing_headers`, `invalid_credentials`, `key_revoked`, ...),
      // as the Node and Unity SDKs name it.
      std::string slug = !lastServerError_.empty() ? lastServerError_
                         : closeCode_ == 4401      ? "missing_headers"
                                                   : "invalid_credentials";
      LudexError error(closeCode_ == 4401 ? 401 : 403, slug,
                       lastServerError_.empty() ? "realtime connection refused" : lastServerError_,
                       nlohmann::json{{"closeCode", closeCode_}, {"error", lastServerError_}}, "");
      lock.unlock();
      if (handlers_.onError) handlers_.onError(error, true);
      return;
    }
    failedInARow = subscribedNow_ ? 0 : failedInARow + 1;
    auto delay = backoffDelay(backoff, failedInARow, std::nullopt, random);
    changed_.wait_for(lock, delay, [this] { return stopping_; });
  }
  finished_ = true;
}

void RealtimeClient::onMessage(const std::string& text) {
  nlohmann::json message = nlohmann::json::parse(text, nullptr, false);
  if (!message.is_object()) return;
  std::string type = message.value("type", "");
  std::unique_lock<std::mutex> lock(mutex_);
  lastHeard_ = std::chrono::steady_clock::now();
  if (type == "hello") {
    nlohmann::json subscribe{{"action", "subscribe"}, {"eventTypes", options_.eventTypes}};
    if (lastEventId_) subscribe["since"] = *lastEventId_;
    lock.unlock();
    transport_->send(subscribe.dump());
  } else if (type == "subscribed") {
    subscribedNow_ = true;
    ++subscriptions_;
    lock.unlock();
    if (handlers_.onSubscribed) handlers_.onSubscribed();
  } else if (type == "event" && message.contains("event")) {
    const nlohmann::json& event = message["event"];
    std::string id = event.value("id", "");
    if (!id.empty()) {
      if (delivered_.count(id) != 0) return;  // a redelivery across a reconnect: already seen
      delivered_.insert(id);
      deliveredOrder_.push_back(id);
      if (deliveredOrder_.size() > options_.rememberedIds) {
        delivered_.erase(deliveredOrder_.front());
        deliveredOrder_.pop_front();
      }
      lastEventId_ = id;
    }
    lock.unlock();
    if (handlers_.onEvent) handlers_.onEvent(event);
  } else if (type == "error") {
    lastServerError_ = message.value("error", "error");
    // A credential refusal is reported once, as the final error, when its close code arrives.
    if (lastServerError_ == "missing_headers" || lastServerError_ == "invalid_credentials") return;
    std::string slug = lastServerError_;
    for (auto& c : slug) c = c == '_' ? '-' : c;
    LudexError error(0, slug, lastServerError_, message, "");
    lock.unlock();
    if (handlers_.onError) handlers_.onError(error, false);
  }
}

void RealtimeClient::onClosed(int code, const std::string&) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    closeCode_ = code;
  }
  changed_.notify_all();
}

}  // namespace ludex
