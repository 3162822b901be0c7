#include "dropping_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <strings.h>

namespace ludex_test {

namespace {

// Reads one whole HTTP message (headers + Content-Length body) from `fd` into `message`.
bool readMessage(int fd, std::string& message) {
  char buffer[8192];
  for (;;) {
    auto headerEnd = message.find("\r\n\r\n");
    if (headerEnd != std::string::npos) {
      std::size_t length = 0;
      std::string head = message.substr(0, headerEnd);
      for (std::size_t at = 0; (at = head.find("\r\n", at)) != std::string::npos;) {
        at += 2;
        if (strncasecmp(head.c_str() + at, "content-length:", 15) == 0) {
          length = std::strtoul(head.c_str() + at + 15, nullptr, 10);
        }
      }
      if (message.size() >= headerEnd + 4 + length) return true;
    }
    ssize_t got = recv(fd, buffer, sizeof buffer, 0);
    if (got <= 0) return false;
    message.append(buffer, static_cast<std::size_t>(got));
  }
}

bool writeAll(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t sent = send(fd, data, size, MSG_NOSIGNAL);
    if (sent <= 0) return false;
    data += sent;
    size -= static_cast<std::size_t>(sent);
  }
  return true;
}

}  // namespace

DroppingProxy::DroppingProxy(const std::string& upstreamBaseUrl) {
  std::string hostPort = upstreamBaseUrl.substr(upstreamBaseUrl.find("://") + 3);
  upstreamHost_ = hostPort.substr(0, hostPort.find(':'));
  upstreamPort_ = std::stoi(hostPort.substr(hostPort.find(':') + 1));
  listener_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(listener_, 16) != 0) {
    throw std::runtime_error("proxy: cannot listen");
  }
  socklen_t size = sizeof address;
  getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size);
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { acceptLoop(); });
}

DroppingProxy::~DroppingProxy() {
  stopping_ = true;
  shutdown(listener_, SHUT_RDWR);
  acceptor_.join();
  close(listener_);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int fd : open_) shutdown(fd, SHUT_RDWR);  // wakes every relay
  }
  for (auto& thread : threads_) thread.join();
  for (int fd : open_) close(fd);
}

void DroppingProxy::track(int fd) {
  std::lock_guard<std::mutex> lock(mutex_);
  open_.push_back(fd);
}

int DroppingProxy::connectUpstream() {
  int upstream = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(upstreamPort_));
  inet_pton(AF_INET, upstreamHost_.c_str(), &address.sin_addr);
  if (connect(upstream, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(upstream);
    return -1;
  }
  track(upstream);
  return upstream;
}

void DroppingProxy::acceptLoop() {
  while (!stopping_) {
    int client = accept(listener_, nullptr, nullptr);
    if (client < 0) return;
    track(client);
    bool first = connections_++ == 0;
    std::lock_guard<std::mutex> lock(mutex_);
    threads_.emplace_back([this, client, first] { first ? dropFirstAnswer(client) : relay(client); });
  }
}

void DroppingProxy::dropFirstAnswer(int client) {
  std::string request, answer;
  if (!readMessage(client, request)) return;
  int upstream = connectUpstream();
  if (upstream < 0) return;
  if (writeAll(upstream, request.data(), request.size()) && readMessage(upstream, answer)) ++dropped_;
  shutdown(client, SHUT_RDWR);  // the answer existed; the client never gets it
  shutdown(upstream, SHUT_RDWR);
}

void DroppingProxy::relay(int client) {
  int upstream = connectUpstream();
  if (upstream < 0) {
    shutdown(client, SHUT_RDWR);
    return;
  }
  pollfd fds[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
  char buffer[16384];
  while (!stopping_) {
    if (poll(fds, 2, 500) < 0) break;
    for (int side = 0; side < 2; ++side) {
      if (fds[side].revents == 0) continue;
      ssize_t got = recv(fds[side].fd, buffer, sizeof buffer, 0);
      if (got <= 0 || !writeAll(fds[1 - side].fd, buffer, static_cast<std::size_t>(got))) {
        shutdown(client, SHUT_RDWR);
        shutdown(upstream, SHUT_RDWR);
        return;
      }
    }
  }
}

}  // namespace ludex_test
