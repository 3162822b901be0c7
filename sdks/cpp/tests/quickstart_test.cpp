// The console examples, run as a user runs them, against the harness's server.
#include "server_env.hpp"

TEST(Examples, QuickstartPrintsLevelFourWith460Xp) {
  LUDEX_REQUIRE_SERVER(config);
  int exitCode = -1;
  std::string output = ludex_test::runCommand(LUDEX_QUICKSTART_BIN, exitCode);
  EXPECT_EQ(exitCode, 0);
  EXPECT_EQ(output, "level=4 xp=460\n");
}

TEST(Examples, RealtimePrintsTheEventsOfOneAward) {
  LUDEX_REQUIRE_SERVER(config);
  int exitCode = -1;
  std::string output = ludex_test::runCommand(LUDEX_REALTIME_BIN, exitCode);
  EXPECT_EQ(exitCode, 0) << output;
  EXPECT_EQ(output.rfind("player.xp.added ", 0), 0u) << output;
  for (const char* level : {"player.levelup ", "player.level.updated "}) {
    EXPECT_NE(output.find(level), std::string::npos) << level << " missing from:\n" << output;
  }
}

TEST(Examples, SessionSignsInReadsMeAndIsRefusedAnAward) {
  LUDEX_REQUIRE_SERVER(config);
  int exitCode = -1;
  std::string output = ludex_test::runCommand(LUDEX_SESSION_BIN, exitCode);
  EXPECT_EQ(exitCode, 0) << output;
  EXPECT_EQ(output.rfind("signed in as ", 0), 0u) << output;
  EXPECT_NE(output.find(" (new player)\nlevel=1 xp=0\nxp award refused: 403 not-client-callable\n"), std::string::npos)
      << output;
}
