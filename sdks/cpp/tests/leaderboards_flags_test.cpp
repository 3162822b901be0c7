// Leaderboards and feature flags against the demo economy's boards (`high-score` takes submitted
// scores, `xp-all-time` follows XP) and flags (`doubleXp`, `newShop` at 25 %, `veteranOffer`).
#include <openssl/sha.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <cstdint>
#include <vector>

#include "server_env.hpp"

namespace {

// The engine's rollout bucket (engine/flags.py): sha256("<flag>/<player>")[0:8] big-endian % 10000.
int bucket(const std::string& flagId, const std::string& playerId) {
  std::string text = flagId + "/" + playerId;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | digest[i];
  return static_cast<int>(value % 10000);
}

int statusOf(const std::function<void()>& call, std::string& slug) {
  try {
    call();
  } catch (const ludex::LudexError& error) {
    slug = error.slug();
    return error.status();
  }
  return 200;
}

}  // namespace

TEST(Leaderboards, SubmitPageForEachAndAround) {
  LUDEX_REQUIRE_SERVER(config);
  ludex::Client client(config);
  ludex::Json boards = client.leaderboards().list();
  std::vector<std::string> ids;
  for (const auto& board : boards["items"]) ids.push_back(board["id"]);
  EXPECT_NE(std::find(ids.begin(), ids.end(), "high-score"), ids.end()) << boards.dump();

  // Far above any other score of the run: these four are the board's top four.
  const std::int64_t base =
      8'000'000'000'000 + std::chrono::steady_clock::now().time_since_epoch().count() % 1'000'000 * 10;
  std::vector<std::string> players;
  for (int i = 0; i < 4; ++i) {
    players.push_back(ludex_test::newPlayer(client));
    ludex::Json result = client.leaderboards().submit("high-score", {players.back(), base + i, {{"run", i}}});
    EXPECT_EQ(result["score"], base + i) << result.dump();
    EXPECT_EQ(result["rank"], 1) << result.dump();
  }
  ludex::CallOptions once{"cpp-score-" + players[0]};
  ludex::Json first = client.leaderboards().submit("high-score", {players[0], base + 10}, once);
  ludex::Json again = client.leaderboards().submit("high-score", {players[0], base + 10}, once);
  EXPECT_EQ(first, again) << "a replay answers the first answer";
  EXPECT_EQ(first["rank"], 1);
  ludex::Json lower = client.leaderboards().submit("high-score", {players[3], 1});
  EXPECT_EQ(lower["score"], base + 3) << "`best` keeps the better score";

  const std::vector<std::string> expected{players[0], players[3], players[2], players[1]};
  ludex::Json page = client.leaderboards().page("high-score", {"current", {std::nullopt, 2}});
  ASSERT_EQ(page["items"].size(), 2u) << page.dump();
  EXPECT_EQ(page["items"][0]["playerId"], expected[0]);
  EXPECT_EQ(page["items"][1]["rank"], 2);
  EXPECT_EQ(page["period"]["id"], first["periodId"]);
  ASSERT_TRUE(page["nextCursor"].is_string());

  std::vector<std::string> walked;
  client.leaderboards().forEach("high-score", {"current", {std::nullopt, 3}}, [&](const ludex::Json& entry) {
    walked.push_back(entry["playerId"]);
    return walked.size() < 4;
  });
  EXPECT_EQ(walked, expected);

  ludex::Json standing = client.leaderboards().around("high-score", players[2], 1);
  EXPECT_EQ(standing["rank"], 3);
  EXPECT_EQ(standing["score"], base + 2);
  ASSERT_EQ(standing["around"].size(), 3u) << standing.dump();
  EXPECT_EQ(standing["around"][0]["playerId"], players[3]);
  EXPECT_EQ(standing["around"][2]["playerId"], players[1]);
}

TEST(Leaderboards, EconomyFedBoardsAndRefusals) {
  LUDEX_REQUIRE_SERVER(config);
  ludex::Client client(config);
  std::string player = ludex_test::newPlayer(client);
  std::string slug;
  EXPECT_EQ(statusOf([&] { client.leaderboards().around("xp-all-time", player); }, slug), 404);
  EXPECT_EQ(slug, "not-ranked");
  client.players().awardXp(player, {321});
  EXPECT_EQ(client.leaderboards().around("xp-all-time", player)["score"], 321) << "read-your-writes";
  EXPECT_EQ(statusOf([&] { client.leaderboards().submit("xp-all-time", {player, 5}); }, slug), 409);
  EXPECT_EQ(slug, "not-submittable");
  EXPECT_EQ(statusOf([&] { client.leaderboards().page("no-such-board"); }, slug), 404);
  EXPECT_EQ(slug, "leaderboard-not-found");
  EXPECT_TRUE(client.leaderboards().page("weekly-wins", {"previous", {}})["items"].empty());
}

TEST(Flags, EveryFlagEvaluatedForThePlayer) {
  LUDEX_REQUIRE_SERVER(config);
  ludex::Client client(config);
  for (int i = 0; i < 6; ++i) {
    std::string player = ludex_test::newPlayer(client);
    ludex::Json flags = client.flags().get(player)["flags"];
    ASSERT_EQ(flags.size(), 3u) << flags.dump();
    EXPECT_EQ(flags["doubleXp"], false);
    EXPECT_EQ(flags["veteranOffer"], "none");
    EXPECT_EQ(flags["newShop"].get<bool>(), bucket("newShop", player) < 2500) << player;
  }
  std::string slug;
  EXPECT_EQ(statusOf([&] { client.flags().get("cpp-nobody-" + ludex::newUuid4()); }, slug), 404);
  EXPECT_EQ(slug, "player-not-found");
}
