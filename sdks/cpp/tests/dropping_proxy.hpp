// A tiny TCP proxy that loses the answer to the first request it carries.
//
// It forwards that first request to the server, waits for the server's whole answer (so the
// command has been applied), then closes the client's connection without relaying it: what a
// client sees when a connection dies mid-request. Every later connection is relayed as is.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ludex_test {

class DroppingProxy {
 public:
  // In front of the server at `upstreamBaseUrl` (http://127.0.0.1:PORT).
  explicit DroppingProxy(const std::string& upstreamBaseUrl);
  ~DroppingProxy();
  std::string baseUrl() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_; }
  int droppedAnswers() const { return dropped_; }

 private:
  void acceptLoop();
  void dropFirstAnswer(int client);
  void relay(int client);
  int connectUpstream();
  void track(int fd);

  std::string upstreamHost_;
  int upstreamPort_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<int> connections_{0};
  std::atomic<int> dropped_{0};
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::vector<int> open_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace ludex_test
