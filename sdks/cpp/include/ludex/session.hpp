// A player's session, for a shipped game client that must hold no API key.
//
// Sign in by device id or by a token the studio's own server signed, then set it as
// `Config::session`: the client sends `Authorization: Bearer <access token>` instead of a key,
// and "me" stands for the player in any call. The access token is refreshed before it expires
// and once after a 401, one refresh at a time: refresh tokens rotate, and the same one sent
// twice looks like theft to the server, which then ends every session of the player.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "ludex/config.hpp"
#include "ludex/transport.hpp"

namespace ludex {

class Requester;

// Where the game keeps the refresh token between runs (a save file, the platform keychain). The
// SDK calls save() after every sign-in and refresh, clear() on logout or when the server refuses
// the token, load() in Session::restore(). Calls come from the thread making the API call.
class SessionStorage {
 public:
  virtual ~SessionStorage() = default;
  virtual std::string load() = 0;  // empty: none saved
  virtual void save(const std::string& refreshToken) = 0;
  virtual void clear() = 0;
};

// The default: in memory only, so a new run signs in again.
class MemorySessionStorage : public SessionStorage {
 public:
  std::string load() override;
  void save(const std::string& refreshToken) override;
  void clear() override;

 private:
  std::mutex mutex_;
  std::string refreshToken_;
};

class Session {
 public:
  // `config`: baseUrl, tenantId, projectId, timeout and retry (apiKey and session unused). A null
  // transport means the bundled libcurl one; a null storage keeps the token in memory.
  explicit Session(Config config, std::shared_ptr<HttpTransport> transport = nullptr,
                   std::shared_ptr<SessionStorage> storage = nullptr);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // The player linked to this install's id (16 to 128 chars), created on first use; true when
  // this call created it. LudexError with the server's problem when refused.
  bool signInWithDevice(const std::string& deviceId, const std::string& username = "");
  // The player a JWT from the studio's server names (`sub`); 401 `invalid-token` when refused.
  bool signInWithCustomToken(const std::string& token);
  // Signs in again with the refresh token the storage kept from an earlier run: false when it
  // holds none or the server refused it (the storage is cleared then); network failures throw.
  bool restore();
  // A new access token now, and a new refresh token (the old one is spent).
  void refresh();
  // The access token to send, refreshed first when it expires within refreshBefore().
  std::string accessToken();
  // After a 401 on `rejected`: refreshes unless another thread already did since.
  void refreshAfterRejection(const std::string& rejected);
  // Ends this session on the server and forgets it here (the storage is cleared too).
  void logout();

  std::string playerId() const;  // empty before sign-in and after logout
  bool signedIn() const;
  const Config& config() const { return config_; }
  void setRefreshBefore(std::chrono::seconds margin);

 private:
  bool signIn(const std::string& kind, const nlohmann::json& body);
  void rotateLocked(const std::string& refreshToken);
  void keepLocked(const nlohmann::json& answer);

  Config config_;
  std::unique_ptr<Requester> auth_;
  std::shared_ptr<SessionStorage> storage_;
  mutable std::mutex mutex_;  // held across a refresh, so only one runs at a time
  std::string playerId_;
  std::string accessToken_;
  std::string refreshToken_;
  std::chrono::steady_clock::time_point expiresAt_{};
  std::chrono::seconds refreshBefore_{30};
};

}  // namespace ludex
