// The two seams between the Ludex core and the host: HTTP and WebSocket.
//
// The core never opens a socket itself, so an engine (Unreal's FHttpModule/IWebSocketsModule)
// or a test can supply its own; libcurl and websocketpp implementations ship for console hosts.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

namespace ludex {

// Header names are matched case-insensitively by the core; transports store them lowercased.
using Headers = std::map<std::string, std::string>;

struct HttpRequest {
  std::string method;  // GET, POST, PATCH, DELETE
  std::string url;     // absolute, query string included
  Headers headers;
  std::string body;  // empty for bodiless requests
  std::chrono::milliseconds timeout{10000};
};

struct HttpResponse {
  int status = 0;
  Headers headers;  // lowercased names
  std::string body;
};

// Thrown by a transport when no HTTP answer arrived (DNS, refused, reset, timeout): the core
// retries these like a 503, because the server may or may not have acted on the request.
class TransportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Blocking: one call, one answer (or TransportError). The core runs its retries around it.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual HttpResponse send(const HttpRequest& request) = 0;
};

struct WebSocketHandlers {
  std::function<void()> onOpen;
  std::function<void(const std::string& text)> onMessage;
  // Called once per connection when it ends, for whatever reason (code 1006 when it dropped
  // without a close frame or never opened).
  std::function<void(int code, const std::string& reason)> onClose;
};

// One connection at a time. `connect` returns at once; handlers may run on any thread, one at
// a time. `connect` may be called again after onClose, for the next connection.
class WebSocketTransport {
 public:
  virtual ~WebSocketTransport() = default;
  virtual void connect(const std::string& url, const Headers& headers, WebSocketHandlers handlers) = 0;
  virtual void send(const std::string& text) = 0;
  virtual void close() = 0;  // ends the current connection; onClose still fires
};

#ifndef LUDEX_NO_DEFAULT_TRANSPORTS
// Factories for the bundled console transports (absent in the Unreal build, which supplies its own).
std::shared_ptr<HttpTransport> makeCurlHttpTransport();
std::shared_ptr<WebSocketTransport> makeWebsocketppTransport();
#endif

}  // namespace ludex
