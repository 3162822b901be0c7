// Which failures are worth another attempt, and how long to wait before it.
#pragma once

#include <chrono>
#include <optional>
#include <random>
#include <string>

#include "ludex/config.hpp"

namespace ludex {

// 429 and the gateway/unavailable family only: other answers mean the server decided.
bool isRetryableStatus(int status);

// `Retry-After` in delta-seconds; nullopt when absent or an HTTP date (not sent by Ludex).
std::optional<std::chrono::milliseconds> parseRetryAfter(const std::string& value);

// Full jitter: uniform in [0, min(maxDelay, baseDelay * 2^retryIndex)], at least `floor`.
std::chrono::milliseconds backoffDelay(const RetryPolicy& policy, int retryIndex,
                                       std::optional<std::chrono::milliseconds> floor, std::mt19937_64& random);

}  // namespace ludex
