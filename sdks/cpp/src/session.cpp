#include "ludex/session.hpp"

#include <utility>

#include "ludex/client.hpp"
#include "ludex/error.hpp"

namespace ludex {

namespace {

LudexError notSignedIn() {
  return LudexError(401, "not-signed-in", "the session has no tokens: sign in (or restore) first", Json(), "");
}

}  // namespace

std::string MemorySessionStorage::load() {
  std::lock_guard<std::mutex> lock(mutex_);
  return refreshToken_;
}
void MemorySessionStorage::save(const std::string& refreshToken) {
  std::lock_guard<std::mutex> lock(mutex_);
  refreshToken_ = refreshToken;
}
void MemorySessionStorage::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  refreshToken_.clear();
}

Session::Session(Config config, std::shared_ptr<HttpTransport> transport, std::shared_ptr<SessionStorage> storage)
    : config_(std::move(config)), storage_(std::move(storage)) {
  config_.apiKey.clear();
  config_.session.reset();
  auth_ = std::make_unique<Requester>(config_, std::move(transport));
  if (!storage_) storage_ = std::make_shared<MemorySessionStorage>();
}

Session::~Session() = default;

bool Session::signInWithDevice(const std::string& deviceId, const std::string& username) {
  Json body{{"deviceId", deviceId}};
  if (!username.empty()) body["username"] = username;
  return signIn("device", body);
}

bool Session::signInWithCustomToken(const std::string& token) { return signIn("custom", Json{{"token", token}}); }

bool Session::signIn(const std::string& kind, const Json& body) {
  Json answer = auth_->call("POST", "/auth/" + kind, body);
  std::lock_guard<std::mutex> lock(mutex_);
  keepLocked(answer);
  return answer.value("created", false);
}

bool Session::restore() {
  std::string saved = storage_->load();
  if (saved.empty()) return false;
  std::lock_guard<std::mutex> lock(mutex_);
  try {
    rotateLocked(saved);
    return true;
  } catch (const LudexError& error) {
    if (error.status() == 401) return false;
    throw;
  }
}

void Session::refresh() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (refreshToken_.empty()) throw notSignedIn();
  rotateLocked(refreshToken_);
}

void Session::refreshAfterRejection(const std::string& rejected) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (refreshToken_.empty()) throw notSignedIn();
  if (accessToken_ != rejected) return;  // another call refreshed meanwhile
  rotateLocked(refreshToken_);
}

std::string Session::accessToken() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (accessToken_.empty()) throw notSignedIn();
  if (std::chrono::steady_clock::now() + refreshBefore_ >= expiresAt_) rotateLocked(refreshToken_);
  return accessToken_;
}

void Session::rotateLocked(const std::string& refreshToken) {
  CallOptions once;
  // Never repeated after a network error: the server may have spent the token already, and the
  // same token again would count as reuse and end every session of the player.
  once.retryNetworkErrors = false;
  Json answer;
  try {
    answer = auth_->call("POST", "/auth/refresh", Json{{"refreshToken", refreshToken}}, {}, false, once);
  } catch (const LudexError& error) {
    if (error.status() == 401) {
      playerId_.clear();
      accessToken_.clear();
      refreshToken_.clear();
      storage_->clear();
    }
    throw;
  }
  keepLocked(answer);
}

void Session::keepLocked(const Json& answer) {
  if (!answer.is_object() || !answer.contains("accessToken") || !answer.contains("refreshToken")) {
    throw LudexError(200, "invalid-response", "the sign-in answer has no tokens", answer, "");
  }
  if (answer.contains("playerId")) playerId_ = answer.at("playerId").get<std::string>();
  accessToken_ = answer.at("accessToken").get<std::string>();
  refreshToken_ = answer.at("refreshToken").get<std::string>();
  expiresAt_ = std::chrono::steady_clock::now() + std::chrono::seconds(answer.value("expiresIn", 0));
  storage_->save(refreshToken_);
}

void Session::logout() {
  std::string refreshToken;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    refreshToken = refreshToken_.empty() ? storage_->load() : refreshToken_;
    playerId_.clear();
    accessToken_.clear();
    refreshToken_.clear();
    storage_->clear();
  }
  if (!refreshToken.empty()) auth_->call("POST", "/auth/logout", Json{{"refreshToken", refreshToken}});
}

std::string Session::playerId() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return playerId_;
}

bool Session::signedIn() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return !accessToken_.empty();
}

void Session::setRefreshBefore(std::chrono::seconds margin) {
  std::lock_guard<std::mutex> lock(mutex_);
  refreshBefore_ = margin;
}

}  // namespace ludex
