// Realtime events over /v1/realtime that survive disconnects and server restarts.
//
// The client reconnects by itself (full-jitter backoff, capped), resubscribes with `since` = the
// last event it delivered and drops any event it already delivered, so a consumer sees each
// event exactly once. Close codes 4401/4403 (credentials) end it with an error instead.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "ludex/config.hpp"
#include "ludex/error.hpp"
#include "ludex/transport.hpp"

namespace ludex {

struct RealtimeOptions {
  std::vector<std::string> eventTypes{"*"};  // exact types or prefixes like "wallet.*"
  std::optional<std::string> since;          // resume after this event id on the first connect
  std::chrono::milliseconds reconnectBaseDelay{200};
  std::chrono::milliseconds reconnectMaxDelay{5000};
  std::chrono::milliseconds pingInterval{15000};  // a connection silent for two intervals is dropped
  std::size_t rememberedIds = 10000;              // ids kept to drop redeliveries
  // How long stop() waits for the close to be reported. 0 where the transport reports on the
  // thread that calls stop() (Unreal's game thread), which would otherwise wait in vain.
  std::chrono::milliseconds closeWait{5000};
};

struct RealtimeHandlers {
  std::function<void(const nlohmann::json& event)> onEvent;
  // Server `error` messages (not final, transport thread) and the final credential refusal
  // (status 401/403, from the client's own background thread).
  std::function<void(const LudexError& error, bool final)> onError;
  std::function<void()> onSubscribed;  // after every (re)subscription
};

class RealtimeClient {
 public:
  // A null transport means the bundled websocketpp one (console builds only).
  explicit RealtimeClient(Config config, std::shared_ptr<WebSocketTransport> transport = nullptr);
  ~RealtimeClient();
  RealtimeClient(const RealtimeClient&) = delete;
  RealtimeClient& operator=(const RealtimeClient&) = delete;

  // Connects in the background; handlers run on the transport's thread, one at a time.
  void start(RealtimeOptions options, RealtimeHandlers handlers);
  void stop();  // closes, stops reconnecting, waits for the background thread

  std::optional<std::string> lastEventId() const;
  int subscriptions() const;  // how many times a connection reached `subscribed`
  bool finished() const;      // stopped, or refused for good

 private:
  void supervise();
  // The key of a game server, or the current access token of a player's session.
  Headers credentials();
  void onMessage(const std::string& text);
  void onClosed(int code, const std::string& reason);

  Config config_;
  std::shared_ptr<WebSocketTransport> transport_;
  RealtimeOptions options_;
  RealtimeHandlers handlers_;
  std::thread supervisor_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  bool finished_ = false;
  bool closed_ = false;
  int closeCode_ = 0;
  bool subscribedNow_ = false;
  int subscriptions_ = 0;
  std::chrono::steady_clock::time_point lastHeard_;
  std::string lastServerError_;
  std::optional<std::string> lastEventId_;
  std::unordered_set<std::string> delivered_;
  std::deque<std::string> deliveredOrder_;
};

// ws(s)://host/v1/realtime for an http(s) base URL.
std::string realtimeUrl(const std::string& baseUrl);

}  // namespace ludex
