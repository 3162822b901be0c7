// The retry rules on their own: which answers retry, Retry-After parsing, the jitter bounds.
#include <gtest/gtest.h>

#include "ludex/ludex.hpp"

TEST(RetryPolicy, RetriesOnlyRateLimitsAndGatewayFailures) {
  for (int status : {429, 502, 503, 504}) EXPECT_TRUE(ludex::isRetryableStatus(status)) << status;
  for (int status : {200, 400, 401, 403, 404, 409, 422, 500, 501}) EXPECT_FALSE(ludex::isRetryableStatus(status)) << status;
}

TEST(RetryPolicy, ParsesRetryAfterSeconds) {
  EXPECT_EQ(ludex::parseRetryAfter("3"), std::chrono::milliseconds(3000));
  EXPECT_EQ(ludex::parseRetryAfter(" 1 "), std::chrono::milliseconds(1000));
  EXPECT_FALSE(ludex::parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"));
  EXPECT_FALSE(ludex::parseRetryAfter(""));
  EXPECT_FALSE(ludex::parseRetryAfter("-1"));
}

TEST(RetryPolicy, FullJitterStaysUnderTheCappedExponential) {
  ludex::RetryPolicy policy;
  std::mt19937_64 random{42};
  for (int retry = 0; retry < 10; ++retry) {
    long long ceiling = std::min<long long>(5000, 200LL << retry);
    long long smallest = ceiling, largest = 0;
    for (int i = 0; i < 400; ++i) {
      long long delay = ludex::backoffDelay(policy, retry, std::nullopt, random).count();
      ASSERT_GE(delay, 0);
      ASSERT_LE(delay, ceiling);
      smallest = std::min(smallest, delay);
      largest = std::max(largest, delay);
    }
    EXPECT_LT(smallest, ceiling / 4) << "jitter reaches low values at retry " << retry;
    EXPECT_GT(largest, ceiling * 3 / 4) << "jitter reaches high values at retry " << retry;
  }
}

TEST(RetryPolicy, RetryAfterIsAFloor) {
  ludex::RetryPolicy policy;
  std::mt19937_64 random{7};
  for (int i = 0; i < 100; ++i) {
    EXPECT_GE(ludex::backoffDelay(policy, 0, std::chrono::milliseconds(2000), random).count(), 2000);
  }
}

TEST(Uuid, IsVersion4AndFresh) {
  std::string first = ludex::newUuid4(), second = ludex::newUuid4();
  ASSERT_EQ(first.size(), 36u);
  EXPECT_EQ(first[14], '4');
  EXPECT_NE(std::string("89ab").find(first[19]), std::string::npos);
  EXPECT_NE(first, second);
}

TEST(Realtime, UrlFollowsTheBaseUrlScheme) {
  EXPECT_EQ(ludex::realtimeUrl("http://127.0.0.1:8000/"), "ws://127.0.0.1:8000/v1/realtime");
  EXPECT_EQ(ludex::realtimeUrl("https://api.example.com"), "wss://api.example.com/v1/realtime");
}
