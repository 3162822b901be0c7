// Player sessions against the harness's server: device sign-in, "me", refresh rotation kept by
// the storage hook, one refresh after a 401, and the server's refusals as LudexError.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server_env.hpp"

namespace {

// The in-memory storage, recording what the SDK asked of it.
class RecordingStorage : public ludex::SessionStorage {
 public:
  std::string load() override { return token; }
  void save(const std::string& refreshToken) override {
    saved.push_back(refreshToken);
    token = refreshToken;
  }
  void clear() override {
    ++cleared;
    token.clear();
  }
  std::vector<std::string> saved;
  int cleared = 0;
  std::string token;
};

// Sends the next `forge` bearer calls with a forged token, as an expired one would go.
class ForgingTransport : public ludex::HttpTransport {
 public:
  ludex::HttpResponse send(const ludex::HttpRequest& request) override {
    ludex::HttpRequest copy = request;
    if (copy.headers.count("authorization") != 0) {
      ++bearerCalls;
      if (forge > 0) {
        --forge;
        copy.headers["authorization"] = "Bearer forged.token.value";
      }
    }
    return inner->send(copy);
  }
  std::shared_ptr<ludex::HttpTransport> inner = ludex::makeCurlHttpTransport();
  std::atomic<int> forge{0};
  std::atomic<int> bearerCalls{0};
};

std::shared_ptr<ludex::Session> newSession(const ludex::Config& server,
                                           std::shared_ptr<ludex::SessionStorage> storage = nullptr,
                                           std::shared_ptr<ludex::HttpTransport> transport = nullptr) {
  ludex::Config config;
  config.baseUrl = server.baseUrl;
  config.tenantId = server.tenantId;
  config.projectId = server.projectId;
  return std::make_shared<ludex::Session>(config, transport, storage);
}

ludex::Client gameClient(std::shared_ptr<ludex::Session> session, std::shared_ptr<ludex::HttpTransport> transport = nullptr) {
  ludex::Config config;
  config.session = std::move(session);
  return ludex::Client(config, transport);
}

std::string newDeviceId() { return "device-" + ludex::newUuid4(); }

template <typename Call>
ludex::LudexError refusal(Call call) {
  try {
    call();
  } catch (const ludex::LudexError& error) {
    return error;
  }
  throw std::runtime_error("the call succeeded; a refusal was expected");
}

}  // namespace

TEST(Sessions, DeviceSignInCreatesThePlayerOnceAndReadsMe) {
  LUDEX_REQUIRE_SERVER(server);
  auto storage = std::make_shared<RecordingStorage>();
  auto session = newSession(server, storage);
  std::string device = newDeviceId();
  EXPECT_TRUE(session->signInWithDevice(device, "ada"));
  EXPECT_EQ(storage->saved.size(), 1u) << "the refresh token went to the storage";
  auto again = newSession(server);
  EXPECT_FALSE(again->signInWithDevice(device, "ada"));
  EXPECT_EQ(again->playerId(), session->playerId());
  auto game = gameClient(session);
  EXPECT_EQ(game.players().get("me").at("playerId"), session->playerId());
}

TEST(Sessions, RefreshRotatesAndASpentTokenIsRefusedAsReused) {
  LUDEX_REQUIRE_SERVER(server);
  auto storage = std::make_shared<RecordingStorage>();
  auto session = newSession(server, storage);
  session->signInWithDevice(newDeviceId());
  std::string spent = storage->saved.at(0);
  session->refresh();
  ASSERT_EQ(storage->saved.size(), 2u);
  EXPECT_NE(storage->saved[1], spent) << "a refresh hands out a new refresh token";

  auto stolen = std::make_shared<ludex::MemorySessionStorage>();
  stolen->save(spent);
  EXPECT_FALSE(newSession(server, stolen)->restore()) << "a spent token restores nothing";
  EXPECT_EQ(stolen->load(), "") << "the refused token is cleared";
  auto reused = refusal([&] { session->refresh(); });
  EXPECT_EQ(reused.status(), 401) << "reuse ended every session of the player";
  EXPECT_FALSE(session->signedIn());
  EXPECT_EQ(storage->cleared, 1);
}

TEST(Sessions, RestoreSignsInAgainFromTheStoredToken) {
  LUDEX_REQUIRE_SERVER(server);
  auto storage = std::make_shared<ludex::MemorySessionStorage>();
  std::string playerId;
  {
    auto first = newSession(server, storage);
    first->signInWithDevice(newDeviceId());
    playerId = first->playerId();
  }
  auto nextRun = newSession(server, storage);
  EXPECT_TRUE(nextRun->restore());
  EXPECT_EQ(nextRun->playerId(), playerId);
  EXPECT_EQ(gameClient(nextRun).players().get("me").at("playerId"), playerId);
}

TEST(Sessions, A401RefreshesOnceAndSendsTheCallAgain) {
  LUDEX_REQUIRE_SERVER(server);
  auto storage = std::make_shared<RecordingStorage>();
  auto transport = std::make_shared<ForgingTransport>();
  auto session = newSession(server, storage);
  session->signInWithDevice(newDeviceId());
  auto game = gameClient(session, transport);
  transport->forge = 1;
  EXPECT_EQ(game.players().get("me").at("playerId"), session->playerId());
  EXPECT_EQ(transport->bearerCalls.load(), 2) << "one refused call, one retried";
  EXPECT_EQ(storage->saved.size(), 2u) << "the 401 caused one refresh";

  transport->forge = 2;  // the retry is refused too: the server's problem comes back, no loop
  auto refused = refusal([&] { game.players().get("me"); });
  EXPECT_EQ(refused.status(), 401);
  EXPECT_EQ(transport->bearerCalls.load(), 4);
  EXPECT_EQ(storage->saved.size(), 3u) << "one refresh per call";
}

TEST(Sessions, TheTokenIsRefreshedBeforeItExpires) {
  LUDEX_REQUIRE_SERVER(server);
  auto storage = std::make_shared<RecordingStorage>();
  auto session = newSession(server, storage);
  session->setRefreshBefore(std::chrono::hours(24 * 10));  // longer than any token lives
  session->signInWithDevice(newDeviceId());
  gameClient(session).players().get("me");
  EXPECT_EQ(storage->saved.size(), 2u) << "the call refreshed first";
}

TEST(Sessions, ASessionMayPurchaseButNotAwardNorTouchAnotherPlayer) {
  LUDEX_REQUIRE_SERVER(server);
  ludex::Client api(server);
  auto session = newSession(server);
  session->signInWithDevice(newDeviceId());
  auto game = gameClient(session);
  api.wallet().credit(session->playerId(), {"coins", 150, "bonus"});  // the game server's job
  auto receipt = game.store().purchase("me", "potion-pack");
  EXPECT_EQ(game.store().receipt("me", receipt.at("purchaseId")).at("purchaseId"), receipt.at("purchaseId"));

  auto award = refusal([&] { game.players().awardXp("me", {1000000, ""}); });
  EXPECT_EQ(award.status(), 403);
  EXPECT_EQ(award.slug(), "not-client-callable");
  std::string other = ludex_test::newPlayer(api);
  auto theft = refusal([&] { game.wallet().get(other); });
  EXPECT_EQ(theft.status(), 403);
  EXPECT_EQ(theft.slug(), "not-your-player");
  EXPECT_EQ(api.wallet().get(session->playerId()).at("balances").at("coins"), 50) << "only the purchase changed it";
}

TEST(Sessions, LogoutEndsTheSession) {
  LUDEX_REQUIRE_SERVER(server);
  auto storage = std::make_shared<RecordingStorage>();
  auto session = newSession(server, storage);
  session->signInWithDevice(newDeviceId());
  std::string refreshToken = storage->saved.at(0);
  session->logout();
  EXPECT_FALSE(session->signedIn());
  EXPECT_EQ(storage->load(), "");
  auto replay = std::make_shared<ludex::MemorySessionStorage>();
  replay->save(refreshToken);
  EXPECT_FALSE(newSession(server, replay)->restore());
  EXPECT_EQ(refusal([&] { gameClient(session).players().get("me"); }).slug(), "not-signed-in");
}

TEST(Sessions, AForgedCustomTokenIsRefused) {
  LUDEX_REQUIRE_SERVER(server);
  auto forged = refusal([&] { newSession(server)->signInWithCustomToken("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZGEifQ."); });
  EXPECT_EQ(forged.status(), 401);
  EXPECT_EQ(forged.slug(), "invalid-token");
}

TEST(Sessions, RealtimeWithASessionHearsItsOwnPlayersEventsOnly) {
  LUDEX_REQUIRE_SERVER(server);
  ludex::Client api(server);
  auto session = newSession(server);
  session->signInWithDevice(newDeviceId());
  std::string other = ludex_test::newPlayer(api);
  ludex::Config game;
  game.session = session;
  ludex::RealtimeClient realtime(game);
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<ludex::Json> events;
  bool subscribed = false;
  std::string failure;
  ludex::RealtimeOptions options;
  options.eventTypes = {"wallet.*"};
  realtime.start(options, {[&](const ludex::Json& event) {
                             std::lock_guard<std::mutex> lock(mutex);
                             events.push_back(event);
                             changed.notify_all();
                           },
                           [&](const ludex::LudexError& error, bool) {
                             std::lock_guard<std::mutex> lock(mutex);
                             failure = error.slug();
                             changed.notify_all();
                           },
                           [&] {
                             std::lock_guard<std::mutex> lock(mutex);
                             subscribed = true;
                             changed.notify_all();
                           }});
  {
    std::unique_lock<std::mutex> lock(mutex);
    ASSERT_TRUE(changed.wait_for(lock, std::chrono::seconds(30), [&] { return subscribed || !failure.empty(); }));
    ASSERT_EQ(failure, "");
  }
  api.wallet().credit(other, {"coins", 7, ""});  // not this player's: never heard
  api.wallet().credit(session->playerId(), {"coins", 5, ""});
  std::unique_lock<std::mutex> lock(mutex);
  ASSERT_TRUE(changed.wait_for(lock, std::chrono::seconds(30), [&] { return !events.empty(); }));
  lock.unlock();
  realtime.stop();
  for (const auto& event : events) EXPECT_EQ(event.value("playerId", ""), session->playerId()) << event.dump();
  EXPECT_EQ(events.front().at("data").at("amount"), 5);
}

TEST(Sessions, ASessionLinksAnotherDeviceAndUnlinksIt) {
  LUDEX_REQUIRE_SERVER(server);
  auto session = newSession(server);
  session->signInWithDevice(newDeviceId());
  auto game = gameClient(session);
  std::string tablet = newDeviceId();
  game.devices().link(tablet);
  auto onTablet = newSession(server);
  EXPECT_FALSE(onTablet->signInWithDevice(tablet));
  EXPECT_EQ(onTablet->playerId(), session->playerId());
  game.devices().unlink(tablet);
  EXPECT_TRUE(onTablet->signInWithDevice(tablet)) << "an unlinked device signs in as a new player";
  EXPECT_NE(onTablet->playerId(), session->playerId());
  ludex::Client api(server);
  EXPECT_EQ(refusal([&] { api.devices().link(newDeviceId()); }).status(), 403) << "never a key's act";
}
