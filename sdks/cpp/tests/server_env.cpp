#include "server_env.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>

namespace ludex_test {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

bool underCi() { return env("CI") == "true"; }

std::optional<ludex::Config> serverConfig() {
  try {
    return ludex::Config::fromEnvironment();
  } catch (const std::runtime_error&) {
    return std::nullopt;
  }
}

std::string newPlayer(ludex::Client& client) {
  std::string id = "cpp-test-" + ludex::newUuid4();
  client.players().create({{"playerId", id}, {"username", id.substr(0, 24)}});
  return id;
}

ludex::Json httpJson(const std::string& method, const std::string& url, const ludex::Headers& headers,
                     const ludex::Json& body, int expectedStatus) {
  ludex::HttpRequest request;
  request.method = method;
  request.url = url;
  request.headers = headers;
  request.headers["content-type"] = "application/json";
  request.body = body.is_null() ? "" : body.dump();
  ludex::HttpResponse response = ludex::makeCurlHttpTransport()->send(request);
  if (response.status != expectedStatus) {
    throw std::runtime_error(method + " " + url + " answered " + std::to_string(response.status) + ": " +
                             response.body);
  }
  return ludex::Json::parse(response.body);
}

std::string runCommand(const std::string& command, int& exitCode) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed: " + command);
  std::string output;
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) output += buffer.data();
  int status = pclose(pipe);
  exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return output;
}

}  // namespace ludex_test
