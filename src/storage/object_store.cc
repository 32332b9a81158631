#include "storage/object_store.h"

#include <cctype>
#include <mutex>

#include "base/strings.h"
#include "storage/local_store.h"

namespace lake::storage {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes of a file URI path (LocalStore::uri() writes them for spaces etc.).
Result<std::string> PercentDecode(std::string_view uri, std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] != '%') {
      out += path[i];
      continue;
    }
    int hi = i + 2 < path.size() ? HexValue(path[i + 1]) : -1;
    int lo = i + 2 < path.size() ? HexValue(path[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return Status::InvalidArgument(StrCat("bad %-escape in URI ", uri))
          .WithHint("write '%' as %25, or pass a plain path instead of a file:// URI");
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// Returns the scheme of "<scheme>://..." (RFC 3986 letters), or empty for a plain path.
std::string_view SchemeOf(std::string_view uri) {
  size_t sep = uri.find("://");
  if (sep == std::string_view::npos || sep == 0) return {};
  std::string_view scheme = uri.substr(0, sep);
  if (!std::isalpha(static_cast<unsigned char>(scheme[0]))) return {};
  for (char c : scheme) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return {};
  }
  return scheme;
}

// Returns the local path named by a "file:" URI: file:///abs, file://localhost/abs, file:/abs.
Result<std::string> FileUriPath(std::string_view uri) {
  std::string_view rest = uri.substr(5);  // after "file:"
  if (StartsWith(rest, "//")) {
    rest.remove_prefix(2);
    size_t slash = rest.find('/');
    std::string_view host = rest.substr(0, slash);
    if (!host.empty() && ToLower(host) != "localhost") {
      return Status::NotSupported(StrCat("file URI with a remote host \"", host, "\": ", uri))
          .WithHint("use file:///absolute/path for a local folder");
    }
    if (slash == std::string_view::npos)
      rest = "/";
    else
      rest.remove_prefix(slash);
  }
  if (!StartsWith(rest, "/")) {
    return Status::InvalidArgument(StrCat("file URI without an absolute path: ", uri))
        .WithHint("use file:///absolute/path, or a plain (possibly relative) path");
  }
  return PercentDecode(uri, rest);
}

std::mutex& WrapperMutex() {
  static std::mutex mu;
  return mu;
}
StoreWrapper& Wrapper() {
  static StoreWrapper* wrapper = new StoreWrapper();  // never destroyed: no exit-order issues
  return *wrapper;
}

}  // namespace

void SetStoreWrapperForTesting(StoreWrapper wrapper) {
  std::lock_guard lock(WrapperMutex());
  Wrapper() = std::move(wrapper);
}

Result<std::unique_ptr<ObjectStore>> OpenStore(std::string_view uri) {
  if (uri.empty()) {
    return Status::InvalidArgument("empty table location")
        .WithHint("pass a folder path or a file:// URI");
  }
  std::string path;
  if (ToLower(uri.substr(0, 5)) == "file:") {
    LAKE_ASSIGN_OR_RETURN(path, FileUriPath(uri));
  } else if (std::string_view scheme = SchemeOf(uri); !scheme.empty()) {
    return Status::NotSupported(StrCat("storage scheme \"", ToLower(scheme), "://\" is not ",
                                       "supported yet (", uri, ")"))
        .WithHint(
            "lake reads local folders for now: copy or mount the table locally and pass "
            "its path or a file:// URI");
  } else {
    path = std::string(uri);
  }
  LAKE_ASSIGN_OR_RETURN(std::unique_ptr<LocalStore> store, LocalStore::Open(std::move(path)));
  StoreWrapper wrapper;
  {
    std::lock_guard lock(WrapperMutex());
    wrapper = Wrapper();
  }
  if (wrapper) return wrapper(std::move(store));
  return std::unique_ptr<ObjectStore>(std::move(store));
}

namespace {

// The default PreparedPut: PutIfAbsent with the kept bytes on each publish.
class BufferedPut final : public PreparedPut {
 public:
  BufferedPut(ObjectStore& store, std::string data) : store_(store), data_(std::move(data)) {}
  Status PublishIfAbsent(std::string_view key) override { return store_.PutIfAbsent(key, data_); }

 private:
  ObjectStore& store_;
  std::string data_;
};

}  // namespace

Result<std::unique_ptr<PreparedPut>> ObjectStore::PreparePut(std::string_view,
                                                             std::span<const std::byte> data) {
  return std::unique_ptr<PreparedPut>(std::make_unique<BufferedPut>(
      *this, std::string(reinterpret_cast<const char*>(data.data()), data.size())));
}

}  // namespace lake::storage
