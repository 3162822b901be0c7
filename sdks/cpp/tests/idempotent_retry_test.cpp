// A connection killed after the server applied an award: the SDK retries with the same
// Idempotency-Key and the award lands exactly once.
#include "dropping_proxy.hpp"
#include "server_env.hpp"

TEST(IdempotentRetry, AnAnswerLostMidRequestIsRetriedAndLandsOnce) {
  LUDEX_REQUIRE_SERVER(config);
  ludex::Client direct(config);
  std::string player = ludex_test::newPlayer(direct);

  ludex_test::DroppingProxy proxy(config.baseUrl);
  ludex::Config viaProxy = config;
  viaProxy.baseUrl = proxy.baseUrl();
  ludex::Client client(viaProxy);

  ludex::Json award = client.players().awardXp(player, {120, "dropped answer"});

  EXPECT_EQ(proxy.droppedAnswers(), 1) << "the first answer was produced by the server and lost";
  EXPECT_GE(proxy.connections(), 2) << "the SDK retried on a new connection";
  EXPECT_EQ(award["xp"], 120);
  EXPECT_EQ(direct.players().progression(player)["xp"], 120);
  ludex::EventQuery query;
  query.types = {"player.xp.added"};
  query.playerId = player;
  ludex::Json events = direct.events().list(query);
  ASSERT_EQ(events["items"].size(), 1u) << events.dump();
  EXPECT_EQ(events["items"][0]["data"]["amount"], 120);
}

TEST(IdempotentRetry, TheCallersKeyMakesARepeatedCallAReplay) {
  LUDEX_REQUIRE_SERVER(config);
  ludex::Client client(config);
  std::string player = ludex_test::newPlayer(client);
  ludex::CallOptions once{"gift-" + player};
  client.wallet().credit(player, {"coins", 50, "gift"}, once);
  ludex::Json second = client.wallet().credit(player, {"coins", 50, "gift"}, once);
  ludex::Json history = client.wallet().history(player, std::string("coins"));
  ASSERT_EQ(history["items"].size(), 1u) << history.dump();
  EXPECT_EQ(history["items"][0]["delta"], 50) << history.dump();
  EXPECT_EQ(second.dump(), client.wallet().credit(player, {"coins", 50, "gift"}, once).dump());
}
