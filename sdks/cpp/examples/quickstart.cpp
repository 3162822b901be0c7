// Quick start: create a player, award 460 XP twice under one idempotency key, print the result.
// The second award is a replay (same key): the player ends at 460 XP, not 920.
#include <iostream>

#include "ludex/ludex.hpp"

int main() {
  try {
    ludex::Client client(ludex::Config::fromEnvironment());
    std::string playerId = "cpp-" + ludex::newUuid4();
    client.players().create({{"playerId", playerId}, {"username", playerId.substr(0, 20)}});
    ludex::CallOptions once{"quickstart-" + playerId};
    client.players().awardXp(playerId, {460, "quickstart"}, once);
    ludex::Json award = client.players().awardXp(playerId, {460, "quickstart"}, once);
    std::cout << "level=" << award["level"] << " xp=" << award["xp"] << std::endl;
    return 0;
  } catch (const ludex::LudexError& error) {
    std::cerr << error.what() << " (request " << error.requestId() << ")" << std::endl;
  } catch (const std::exception& error) {
    std::cerr << error.what() << std::endl;
  }
  return 1;
}
