// Realtime: subscribe to a new player's events, award XP once, print every event it caused.
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <thread>

#include "ludex/ludex.hpp"

int main() {
  try {
    ludex::Config config = ludex::Config::fromEnvironment();
    ludex::Client client(config);
    std::string playerId = "cpp-rt-" + ludex::newUuid4();
    client.players().create({{"playerId", playerId}, {"username", "realtime"}});

    std::mutex mutex;
    std::condition_variable changed;
    bool subscribed = false;
    bool leveledUp = false;
    ludex::RealtimeClient realtime(config);
    ludex::RealtimeOptions options;
    options.eventTypes = {"*"};
    realtime.start(options, {[&](const ludex::Json& event) {
                               if (event.value("playerId", "") != playerId) return;
                               std::lock_guard<std::mutex> lock(mutex);
                               std::cout << event["type"].get<std::string>() << " " << event["data"].dump() << std::endl;
                               if (event["type"] == "player.level.updated") leveledUp = true;  // the last of an award
                               changed.notify_all();
                             },
                             [](const ludex::LudexError& error, bool final) {
                               std::cerr << (final ? "realtime refused: " : "realtime: ") << error.what() << std::endl;
                             },
                             [&] {
                               std::lock_guard<std::mutex> lock(mutex);
                               subscribed = true;
                               changed.notify_all();
                             }});
    std::unique_lock<std::mutex> lock(mutex);
    if (!changed.wait_for(lock, std::chrono::seconds(30), [&] { return subscribed || realtime.finished(); }) ||
        !subscribed) {
      std::cerr << "not subscribed after 30 s" << std::endl;
      return 1;
    }
    lock.unlock();
    client.players().awardXp(playerId, {460, "realtime example"});
    lock.lock();
    bool done = changed.wait_for(lock, std::chrono::seconds(30), [&] { return leveledUp; });
    lock.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // rewards an unlock may add
    realtime.stop();
    return done ? 0 : 1;
  } catch (const std::exception& error) {
    std::cerr << error.what() << std::endl;
  }
  return 1;
}
