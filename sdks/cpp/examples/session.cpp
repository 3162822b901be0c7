// A game client's view: no API key. It signs a player in by this install's device id, reads the
// player as "me", and shows that a session cannot award itself XP (the game server does that).
// Reads LUDEX_BASE_URL, LUDEX_TENANT_ID, LUDEX_PROJECT_ID (and LUDEX_DEVICE_ID, else a new one).
#include <cstdlib>
#include <iostream>
#include <memory>

#include "ludex/ludex.hpp"

namespace {
std::string env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') throw std::runtime_error(std::string(name) + " is not set");
  return value;
}
}  // namespace

int main() {
  try {
    ludex::Config config;
    config.baseUrl = env("LUDEX_BASE_URL");
    config.tenantId = env("LUDEX_TENANT_ID");
    config.projectId = env("LUDEX_PROJECT_ID");
    const char* device = std::getenv("LUDEX_DEVICE_ID");
    // A game passes its own ludex::SessionStorage (a save file, the keychain) to stay signed in.
    auto session = std::make_shared<ludex::Session>(config);
    bool created = session->signInWithDevice(device != nullptr ? device : "device-" + ludex::newUuid4());
    std::cout << "signed in as " << session->playerId() << (created ? " (new player)" : "") << std::endl;

    ludex::Config game;
    game.session = session;
    ludex::Client client(game);
    ludex::Json progression = client.players().progression("me");
    std::cout << "level=" << progression["level"] << " xp=" << progression["xp"] << std::endl;
    try {
      client.players().awardXp("me", {1000000, ""});
    } catch (const ludex::LudexError& refused) {
      std::cout << "xp award refused: " << refused.status() << " " << refused.slug() << std::endl;
    }
    session->logout();
    return 0;
  } catch (const ludex::LudexError& error) {
    std::cerr << error.what() << " (request " << error.requestId() << ")" << std::endl;
  } catch (const std::exception& error) {
    std::cerr << error.what() << std::endl;
  }
  return 1;
}
