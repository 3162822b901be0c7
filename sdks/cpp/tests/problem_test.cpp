// Problem answers become LudexError with the server's status, slug, detail and request id,
// and are never retried (the server decided; asking again would not change the answer).
#include <atomic>

#include "server_env.hpp"

namespace {

// Counts the requests that really go out, so a test can prove none was retried.
class CountingTransport : public ludex::HttpTransport {
 public:
  ludex::HttpResponse send(const ludex::HttpRequest& request) override {
    ++sent;
    return inner_->send(request);
  }
  std::atomic<int> sent{0};

 private:
  std::shared_ptr<ludex::HttpTransport> inner_ = ludex::makeCurlHttpTransport();
};

}  // namespace

TEST(Problems, DebitBeyondTheBalanceIsInsufficientFundsAndChangesNothing) {
  LUDEX_REQUIRE_SERVER(config);
  auto counting = std::make_shared<CountingTransport>();
  ludex::Client client(config, counting);
  std::string player = ludex_test::newPlayer(client);
  client.wallet().credit(player, {"coins", 10});
  int before = counting->sent;
  try {
    client.wallet().debit(player, {"coins", 1000});
    FAIL() << "a debit beyond the balance succeeded";
  } catch (const ludex::LudexError& error) {
    EXPECT_EQ(error.status(), 409);
    EXPECT_EQ(error.slug(), "insufficient-funds");
    EXPECT_FALSE(error.detail().empty());
    EXPECT_FALSE(error.requestId().empty());
    EXPECT_EQ(error.problem()["status"], 409);
    EXPECT_EQ(error.problem()["type"], "https://ludex.dev/problems/insufficient-funds");
  }
  EXPECT_EQ(counting->sent - before, 1) << "a 409 is not retried";
  ludex::Json history = client.wallet().history(player, std::string("coins"));
  EXPECT_EQ(history["items"].size(), 1u) << history.dump();
}

TEST(Problems, UnknownPlayerIsNotFound) {
  LUDEX_REQUIRE_SERVER(config);
  ludex::Client client(config);
  try {
    client.players().get("cpp-nobody-" + ludex::newUuid4());
    FAIL() << "an unknown player was found";
  } catch (const ludex::LudexError& error) {
    EXPECT_EQ(error.status(), 404);
    EXPECT_EQ(error.slug(), "player-not-found");
    EXPECT_FALSE(error.requestId().empty());
  }
}

TEST(Problems, ValidationErrorsCarryTheFieldList) {
  LUDEX_REQUIRE_SERVER(config);
  ludex::Client client(config);
  std::string player = ludex_test::newPlayer(client);
  try {
    client.players().awardXp(player, {0});
    FAIL() << "an award of 0 XP was accepted";
  } catch (const ludex::LudexError& error) {
    EXPECT_EQ(error.status(), 422);
    ASSERT_TRUE(error.problem().contains("errors")) << error.problem().dump();
    EXPECT_FALSE(error.problem()["errors"].empty());
  }
  EXPECT_EQ(client.players().progression(player)["xp"], 0);
}

TEST(Problems, AWrongKeyIsUnauthorised) {
  LUDEX_REQUIRE_SERVER(config);
  config.apiKey = "ldx_nothere_" + ludex::newUuid4();
  ludex::Client client(config);
  try {
    client.store().catalog();
    FAIL() << "a made-up key was accepted";
  } catch (const ludex::LudexError& error) {
    EXPECT_EQ(error.status(), 401);
    EXPECT_EQ(error.slug(), "invalid-api-key");
  }
}

TEST(Problems, NoServerListeningIsANetworkErrorAfterTheRetries) {
  ludex::Config config;
  config.baseUrl = "http://127.0.0.1:9";  // discard port: nothing answers HTTP there
  config.tenantId = config.projectId = config.apiKey = "x";
  config.retry.maxAttempts = 3;
  config.retry.baseDelay = std::chrono::milliseconds(10);
  auto counting = std::make_shared<CountingTransport>();
  ludex::Client client(config, counting);
  try {
    client.store().catalog();
    FAIL() << "a call without a server succeeded";
  } catch (const ludex::LudexError& error) {
    EXPECT_EQ(error.status(), 0);
    EXPECT_EQ(error.slug(), ludex::kNetworkErrorSlug);
  }
  EXPECT_EQ(counting->sent, 3) << "network errors are retried up to maxAttempts";
}
