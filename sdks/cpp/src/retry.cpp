#include "ludex/retry.hpp"

#include <algorithm>
#include <cctype>

namespace ludex {

bool isRetryableStatus(int status) { return status == 429 || status == 502 || status == 503 || status == 504; }

std::optional<std::chrono::milliseconds> parseRetryAfter(const std::string& value) {
  std::size_t start = value.find_first_not_of(" \t");
  std::size_t end = value.find_last_not_of(" \t");
  if (start == std::string::npos) return std::nullopt;
  std::string trimmed = value.substr(start, end - start + 1);
  if (trimmed.empty() || trimmed.size() > 9 ||
      !std::all_of(trimmed.begin(), trimmed.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return std::nullopt;
  }
  return std::chrono::seconds(std::stol(trimmed));
}

std::chrono::milliseconds backoffDelay(const RetryPolicy& policy, int retryIndex,
                                       std::optional<std::chrono::milliseconds> floor, std::mt19937_64& random) {
  long long ceiling = policy.baseDelay.count();
  for (int i = 0; i < retryIndex && ceiling < policy.maxDelay.count(); ++i) ceiling *= 2;
  ceiling = std::min<long long>(ceiling, policy.maxDelay.count());
  std::uniform_int_distribution<long long> jitter(0, std::max<long long>(ceiling, 0));
  std::chrono::milliseconds delay(jitter(random));
  if (floor && *floor > delay) delay = *floor;
  return delay;
}

}  // namespace ludex
