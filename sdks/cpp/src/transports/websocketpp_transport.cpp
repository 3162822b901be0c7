// The console WebSocket transport: websocketpp on standalone asio, ws:// and wss://.
// Each connection gets its own io loop thread, torn down before the next connect.
#include <websocketpp/client.hpp>
#include <websocketpp/config/asio_client.hpp>
#include <websocketpp/uri.hpp>

#include <atomic>
#include <mutex>
#include <thread>

#include "ludex/transport.hpp"

namespace ludex {

namespace {

class Link {
 public:
  virtual ~Link() = default;
  virtual void send(const std::string& text) = 0;
  virtual void close() = 0;
  virtual void start(const std::string& url, const Headers& headers) = 0;
};

template <typename WsConfig>
class AsioLink : public Link {
 public:
  using Endpoint = websocketpp::client<WsConfig>;

  explicit AsioLink(WebSocketHandlers handlers) : handlers_(std::move(handlers)) {}

  // Separate from the constructor so the transport holds the link before its first message.
  void start(const std::string& url, const Headers& headers) override {
    endpoint_.clear_access_channels(websocketpp::log::alevel::all);
    endpoint_.clear_error_channels(websocketpp::log::elevel::all);
    endpoint_.init_asio();
    configureTls(url);
    endpoint_.set_open_handler([this](websocketpp::connection_hdl) {
      if (handlers_.onOpen) handlers_.onOpen();
    });
    endpoint_.set_message_handler([this](websocketpp::connection_hdl, typename Endpoint::message_ptr message) {
      if (handlers_.onMessage) handlers_.onMessage(message->get_payload());
    });
    endpoint_.set_fail_handler([this](websocketpp::connection_hdl hdl) {
      auto connection = endpoint_.get_con_from_hdl(hdl);
      finish(1006, connection->get_ec().message());
    });
    endpoint_.set_close_handler([this](websocketpp::connection_hdl hdl) {
      auto connection = endpoint_.get_con_from_hdl(hdl);
      finish(connection->get_remote_close_code(), connection->get_remote_close_reason());
    });
    websocketpp::lib::error_code error;
    connection_ = endpoint_.get_connection(url, error);
    if (error) {
      finish(1006, error.message());
      return;
    }
    for (const auto& [name, value] : headers) connection_->append_header(name, value);
    connection_->set_open_handshake_timeout(10000);
    endpoint_.connect(connection_);
    thread_ = std::thread([this] { endpoint_.run(); });
  }

  ~AsioLink() override {
    endpoint_.stop();
    if (thread_.joinable()) thread_.join();
  }

  void send(const std::string& text) override {
    if (!connection_) return;
    // A send on a dying link is lost (the error code is dropped): resume with `since` covers it.
    (void)connection_->send(text, websocketpp::frame::opcode::text);
  }

  void close() override {
    if (!connection_) return;
    auto connection = connection_;
    // Runs on the io thread: websocketpp connections are not safe to close from elsewhere.
    endpoint_.get_io_service().post([connection] {
      websocketpp::lib::error_code ignored;
      if (connection->get_state() == websocketpp::session::state::open ||
          connection->get_state() == websocketpp::session::state::connecting) {
        connection->close(websocketpp::close::status::normal, "", ignored);
      }
      if (ignored) connection->terminate(ignored);
    });
  }

 private:
  void configureTls(const std::string& url);

  void finish(int code, const std::string& reason) {
    if (finished_.exchange(true)) return;
    if (handlers_.onClose) handlers_.onClose(code == 0 ? 1005 : code, reason);
  }

  Endpoint endpoint_;
  typename Endpoint::connection_ptr connection_;
  WebSocketHandlers handlers_;
  std::thread thread_;
  std::atomic<bool> finished_{false};
};

template <>
void AsioLink<websocketpp::config::asio_client>::configureTls(const std::string&) {}

template <>
void AsioLink<websocketpp::config::asio_tls_client>::configureTls(const std::string& url) {
  std::string host = websocketpp::uri(url).get_host();
  endpoint_.set_tls_init_handler([host](websocketpp::connection_hdl) {
    auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    context->set_default_verify_paths();
    context->set_verify_mode(asio::ssl::verify_peer);
    context->set_verify_callback(asio::ssl::host_name_verification(host));
    return context;
  });
}

class WebsocketppTransport : public WebSocketTransport {
 public:
  void connect(const std::string& url, const Headers& headers, WebSocketHandlers handlers) override {
    std::unique_ptr<Link> previous;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      previous = std::move(link_);
    }
    previous.reset();  // joins the old io thread outside the lock
    std::unique_ptr<Link> next;
    if (url.rfind("wss://", 0) == 0) {
      next = std::make_unique<AsioLink<websocketpp::config::asio_tls_client>>(std::move(handlers));
    } else {
      next = std::make_unique<AsioLink<websocketpp::config::asio_client>>(std::move(handlers));
    }
    Link* started = next.get();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      link_ = std::move(next);
    }
    started->start(url, headers);
  }

  void send(const std::string& text) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (link_) link_->send(text);
  }

  void close() override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (link_) link_->close();
  }

  ~WebsocketppTransport() override {
    std::unique_ptr<Link> last;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      last = std::move(link_);
    }
  }

 private:
  std::mutex mutex_;
  std::unique_ptr<Link> link_;
};

}  // namespace

std::shared_ptr<WebSocketTransport> makeWebsocketppTransport() { return std::make_shared<WebsocketppTransport>(); }

}  // namespace ludex
