// The one error type of the SDK: every problem answer, and every failure to get an answer.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace ludex {

class LudexError : public std::runtime_error {
 public:
  LudexError(int status, std::string slug, std::string detail, nlohmann::json problem, std::string requestId);

  // Builds the error from an HTTP answer that was not 2xx (problem+json or not).
  static LudexError fromResponse(int status, const std::string& body, const std::string& requestIdHeader);

  int status() const noexcept { return status_; }       // HTTP status; 0 when no answer came
  const std::string& slug() const noexcept { return slug_; }  // last path segment of problem `type`
  const std::string& detail() const noexcept { return detail_; }
  const nlohmann::json& problem() const noexcept { return problem_; }  // the whole body
  const std::string& requestId() const noexcept { return requestId_; }

 private:
  int status_;
  std::string slug_;
  std::string detail_;
  nlohmann::json problem_;
  std::string requestId_;
};

// Slug of the error raised when retries ran out on network failures (status 0).
inline constexpr const char* kNetworkErrorSlug = "network-error";

}  // namespace ludex
