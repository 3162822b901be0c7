// Every call of the surface reaches its route and reads back what it wrote, so a wrong path
// or body name in the SDK fails here rather than in a game.
#include "dropping_proxy.hpp"
#include "server_env.hpp"

TEST(Surface, PlayersProgressionAndProfile) {
  LUDEX_REQUIRE_SERVER(config);
  ludex::Client client(config);
  std::string player = ludex_test::newPlayer(client);
  EXPECT_EQ(client.players().get(player)["playerId"], player);
  client.players().update(player, {{"username", "renamed"}, {"metadata", {{"team", "red"}}}});
  ludex::Json listed = client.players().list(std::string("renamed"), ludex::Page{std::nullopt, 100});
  bool found = false;
  for (const auto& item : listed["items"]) found = found || item["playerId"] == player;
  EXPECT_TRUE(found) << listed.dump();
  ludex::Json award = client.players().awardXp(player, {300, "surface"});
  EXPECT_EQ(award["level"], 3);
  EXPECT_TRUE(award["leveledUp"].get<bool>());
  ludex::Json progression = client.players().progression(player);
  EXPECT_EQ(progression["xp"], 300);
  client.players().remove(player);
  try {
    client.players().get(player);
    FAIL() << "a deleted player was found";
  } catch (const ludex::LudexError& error) {
    EXPECT_EQ(error.status(), 404);
  }
}

TEST(Surface, WalletItemsCountersQuestsAchievementsStore) {
  LUDEX_REQUIRE_SERVER(config);
  ludex::Client client(config);
  std::string player = ludex_test::newPlayer(client);
  EXPECT_EQ(client.wallet().credit(player, {"coins", 500, "surface"})["balance"], 500);
  EXPECT_EQ(client.wallet().debit(player, {"coins", 20})["balance"], 480);
  EXPECT_EQ(client.wallet().get(player)["balances"]["coins"], 480);
  EXPECT_EQ(client.wallet().history(player, std::string("coins"))["items"].size(), 2u);

  client.inventory().grant(player, {"potion", 3});
  client.inventory().consume(player, {"potion", 1});
  ludex::Json inventory = client.inventory().get(player);
  ASSERT_EQ(inventory["items"].size(), 1u) << inventory.dump();
  EXPECT_EQ(inventory["items"][0]["quantity"], 2);

  ludex::Json counter = client.counters().increment(player, "wins", 1);
  EXPECT_EQ(counter["value"], 1);
  EXPECT_EQ(client.achievements().get(player)["items"][0]["achievementId"], "first-win");
  client.counters().reset(player, "wins");
  EXPECT_EQ(client.counters().get(player)["counters"].value("wins", 0), 0);

  client.quests().progress(player, "daily-battles", "battles", 1);
  EXPECT_NE(client.quests().get(player).dump().find("daily-battles"), std::string::npos);

  EXPECT_NE(client.store().catalog().dump().find("potion-pack"), std::string::npos);
  EXPECT_EQ(client.store().sku("potion-pack")["sku"], "potion-pack");
  ludex::Json receipt = client.store().purchase(player, "potion-pack");
  std::string purchaseId = receipt["purchaseId"];
  EXPECT_EQ(client.store().receipt(player, purchaseId)["purchaseId"], purchaseId);
  EXPECT_EQ(client.wallet().get(player)["balances"]["coins"], 380);
}

TEST(Surface, ABatchRetriedAfterALostAnswerAppliesEachCommandOnce) {
  LUDEX_REQUIRE_SERVER(config);
  ludex::Client direct(config);
  std::string player = ludex_test::newPlayer(direct);
  ludex_test::DroppingProxy proxy(config.baseUrl);
  ludex::Config viaProxy = config;
  viaProxy.baseUrl = proxy.baseUrl();
  ludex::Client client(viaProxy);

  ludex::Json answer = client.commands().batch(ludex::Json::array(
      {{{"op", "xp"}, {"playerId", player}, {"amount", 10}},
       {{"op", "credit"}, {"playerId", player}, {"currency", "coins"}, {"amount", 5}}}));

  EXPECT_EQ(proxy.droppedAnswers(), 1);
  ASSERT_EQ(answer["results"].size(), 2u) << answer.dump();
  for (const auto& result : answer["results"]) EXPECT_TRUE(result["ok"].get<bool>()) << answer.dump();
  EXPECT_EQ(direct.players().progression(player)["xp"], 10);
  EXPECT_EQ(direct.wallet().get(player)["balances"]["coins"], 5);
}
