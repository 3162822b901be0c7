#include "ludex/config.hpp"

#include <cstdlib>
#include <stdexcept>

namespace ludex {

namespace {
std::string required(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') throw std::runtime_error(std::string(name) + " is not set");
  return value;
}
}  // namespace

Config Config::fromEnvironment() {
  Config config;
  config.baseUrl = required("LUDEX_BASE_URL");
  config.tenantId = required("LUDEX_TENANT_ID");
  config.projectId = required("LUDEX_PROJECT_ID");
  config.apiKey = required("LUDEX_API_KEY");
  return config;
}

}  // namespace ludex
