// What every server test needs: the harness's server, or a clear skip/failure without one.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "ludex/ludex.hpp"

namespace ludex_test {

// The LUDEX_* environment `sdks/test_server.py run` exports, or nullopt when it is missing.
std::optional<ludex::Config> serverConfig();
bool underCi();
std::string env(const char* name);

// A fresh player with a random id, created through `client`.
std::string newPlayer(ludex::Client& client);

// Raw JSON over the bundled transport, for the backoffice calls the SDK does not wrap.
ludex::Json httpJson(const std::string& method, const std::string& url, const ludex::Headers& headers,
                     const ludex::Json& body, int expectedStatus);

// Runs `command` through the shell; returns its stdout and sets `exitCode`.
std::string runCommand(const std::string& command, int& exitCode);

}  // namespace ludex_test

// Binds `name` to the server's Config, or fails (CI=true) / skips the test without a server.
#define LUDEX_REQUIRE_SERVER(name)                                                                     \
  auto name##Found = ludex_test::serverConfig();                                                       \
  if (!name##Found) {                                                                                  \
    if (ludex_test::underCi()) FAIL() << "no Ludex server: run through sdks/test_server.py (LUDEX_*)"; \
    GTEST_SKIP() << "no Ludex server: run through sdks/test_server.py to set LUDEX_*";                 \
  }                                                                                                    \
  ludex::Config name = *name##Found
