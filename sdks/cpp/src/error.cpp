#include "ludex/error.hpp"

#include <utility>

namespace ludex {

LudexError::LudexError(int status, std::string slug, std::string detail, nlohmann::json problem,
                       std::string requestId)
    : std::runtime_error("ludex " + std::to_string(status) + " " + slug + ": " + detail),
      status_(status),
      slug_(std::move(slug)),
      detail_(std::move(detail)),
      problem_(std::move(problem)),
      requestId_(std::move(requestId)) {}

namespace {
std::string stringField(const nlohmann::json& object, const char* name) {
  auto found = object.find(name);
  return found != object.end() && found->is_string() ? found->get<std::string>() : std::string();
}
}  // namespace

LudexError LudexError::fromResponse(int status, const std::string& body, const std::string& requestIdHeader) {
  nlohmann::json problem = nlohmann::json::parse(body, nullptr, false);
  if (!problem.is_object()) {
    // Not a problem document (a proxy's HTML page, say): keep the text so it can be read.
    return LudexError(status, "http-" + std::to_string(status), body.substr(0, 500), nlohmann::json(body),
                      requestIdHeader);
  }
  std::string type = stringField(problem, "type");
  std::string slug = type.substr(type.find_last_of('/') == std::string::npos ? 0 : type.find_last_of('/') + 1);
  if (slug.empty()) slug = "http-" + std::to_string(status);
  std::string detail = stringField(problem, "detail");
  if (detail.empty()) detail = stringField(problem, "title");
  std::string requestId = stringField(problem, "requestId");
  if (requestId.empty()) requestId = requestIdHeader;
  return LudexError(status, std::move(slug), std::move(detail), std::move(problem), std::move(requestId));
}

}  // namespace ludex
