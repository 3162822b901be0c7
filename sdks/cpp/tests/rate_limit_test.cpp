// 429 with Retry-After: the SDK waits at least that long and succeeds; with retries off it
// raises rate-limited. The key with 1 request/s is made through the backoffice API.
#include <chrono>
#include <mutex>
#include <vector>

#include "server_env.hpp"

namespace {

struct Sent {
  std::chrono::steady_clock::time_point at;
  int status;
  std::string retryAfter;
};

// Records each request's time and answer; the requests themselves go out over libcurl.
class RecordingTransport : public ludex::HttpTransport {
 public:
  ludex::HttpResponse send(const ludex::HttpRequest& request) override {
    auto at = std::chrono::steady_clock::now();
    ludex::HttpResponse response = inner_->send(request);
    std::lock_guard<std::mutex> lock(mutex);
    log.push_back({at, response.status, response.headers["retry-after"]});
    return response;
  }
  std::mutex mutex;
  std::vector<Sent> log;

 private:
  std::shared_ptr<ludex::HttpTransport> inner_ = ludex::makeCurlHttpTransport();
};

std::string keyLimitedToOnePerSecond(const ludex::Config& config) {
  ludex::Json login = ludex_test::httpJson(
      "POST", config.baseUrl + "/v1/auth/login", {},
      {{"email", ludex_test::env("LUDEX_ADMIN_EMAIL")}, {"password", ludex_test::env("LUDEX_ADMIN_PASSWORD")}}, 200);
  ludex::Json key = ludex_test::httpJson(
      "POST", config.baseUrl + "/v1/client/projects/" + config.projectId + "/api-keys",
      {{"authorization", "Bearer " + login["accessToken"].get<std::string>()}, {"x-tenant-id", config.tenantId}},
      {{"name", "cpp-rate-limited-" + ludex::newUuid4().substr(0, 8)},
       {"scopes", {"players:read", "players:write", "economy:write", "store:purchase", "events:read", "realtime"}},
       {"rateLimitPerSecond", 1}},
      201);
  return key["apiKey"];
}

}  // namespace

TEST(RateLimit, RetriesWaitForRetryAfterAndSucceedOrRaiseWhenDisabled) {
  LUDEX_REQUIRE_SERVER(config);
  config.apiKey = keyLimitedToOnePerSecond(config);

  ludex::Config impatient = config;
  impatient.retry = ludex::RetryPolicy::none();
  ludex::Client noRetries(impatient);
  bool limited = false;
  for (int i = 0; i < 5 && !limited; ++i) {
    try {
      noRetries.store().catalog();
    } catch (const ludex::LudexError& error) {
      EXPECT_EQ(error.status(), 429);
      EXPECT_EQ(error.slug(), "rate-limited");
      limited = true;
    }
  }
  EXPECT_TRUE(limited) << "5 calls in a row on a 1/s key were all admitted";

  auto recording = std::make_shared<RecordingTransport>();
  ludex::Client patient(config, recording);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(patient.store().catalog().contains("items"));

  std::lock_guard<std::mutex> lock(recording->mutex);
  int limitedAnswers = 0;
  for (std::size_t i = 0; i + 1 < recording->log.size(); ++i) {
    if (recording->log[i].status != 429) continue;
    ++limitedAnswers;
    auto wanted = ludex::parseRetryAfter(recording->log[i].retryAfter);
    ASSERT_TRUE(wanted) << "429 without Retry-After seconds";
    EXPECT_GE(recording->log[i + 1].at - recording->log[i].at, *wanted) << "retried before Retry-After";
  }
  EXPECT_GE(limitedAnswers, 1) << "4 calls in a row on a 1/s key never met a 429";
  EXPECT_EQ(recording->log.back().status, 200);
}
