#include "storage/internal/keys.h"

#include <string>

#include "base/strings.h"

namespace lake::storage::internal {
namespace {

constexpr std::string_view kKeyHint =
    "keys are '/'-separated paths relative to the store root, without a leading '/', empty "
    "parts, '.' or '..'";

Status Invalid(std::string_view what, std::string_view key, std::string_view why) {
  return Status::InvalidArgument(StrCat("invalid object ", what, " \"", key, "\": ", why))
      .WithHint(std::string(kKeyHint));
}

// Checks every '/'-separated component of `path` (which is non-empty).
Status CheckComponents(std::string_view what, std::string_view full, std::string_view path) {
  size_t begin = 0;
  while (begin <= path.size()) {
    size_t end = path.find('/', begin);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(begin, end - begin);
    if (part.empty()) return Invalid(what, full, "empty path component");
    if (part == "." || part == "..") return Invalid(what, full, StrCat("'", part, "' component"));
    begin = end + 1;
  }
  return Status::OK();
}

Status CheckCommon(std::string_view what, std::string_view s) {
  if (!s.empty() && s.front() == '/') return Invalid(what, s, "starts with '/'");
  if (s.find('\0') != std::string_view::npos) return Invalid(what, s, "contains a NUL byte");
  return Status::OK();
}

}  // namespace

Status ValidateKey(std::string_view key) {
  if (key.empty()) return Invalid("key", key, "empty");
  LAKE_RETURN_IF_ERROR(CheckCommon("key", key));
  return CheckComponents("key", key, key);
}

Status ValidatePrefix(std::string_view prefix) {
  LAKE_RETURN_IF_ERROR(CheckCommon("prefix", prefix));
  size_t slash = prefix.rfind('/');
  if (slash == std::string_view::npos) return Status::OK();
  return CheckComponents("prefix", prefix, prefix.substr(0, slash));
}

}  // namespace lake::storage::internal
