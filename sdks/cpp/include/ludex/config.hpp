// What a client needs to reach one project, and how hard it tries.
#pragma once

#include <chrono>
#include <memory>
#include <string>

namespace ludex {

class Session;

struct RetryPolicy {
  int maxAttempts = 5;                          // first try included; 1 disables retries
  std::chrono::milliseconds baseDelay{200};     // backoff: uniform(0, min(maxDelay, base * 2^n))
  std::chrono::milliseconds maxDelay{5000};
  std::chrono::milliseconds maxElapsed{30000};  // no retry starts after this much time in total

  static RetryPolicy none() {
    RetryPolicy policy;
    policy.maxAttempts = 1;
    return policy;
  }
};

struct Config {
  std::string baseUrl;  // e.g. http://127.0.0.1:8000 (no trailing /v1)
  std::string tenantId;
  std::string projectId;
  std::string apiKey;  // a game server's credential: acts on every player; never ship it in a client
  // A game client's credential instead of apiKey: a signed-in player (ludex/session.hpp). The
  // server refuses other players (403 not-your-player) and ops the economy's client policy does
  // not allow (403 not-client-callable). Empty baseUrl/tenantId/projectId come from its config.
  std::shared_ptr<Session> session;
  std::chrono::milliseconds timeout{10000};  // per attempt
  RetryPolicy retry;

  // LUDEX_BASE_URL, LUDEX_TENANT_ID, LUDEX_PROJECT_ID, LUDEX_API_KEY; throws std::runtime_error
  // naming the first one missing.
  static Config fromEnvironment();
};

}  // namespace ludex
