// LocalStore design notes.
//  (1) An object is a regular file at <root>/<key>; a folder is never an object, so Get, Head
//      and Delete of a folder say kNotFound, like a key that does not exist.
//  (2) Writes never expose a partial object: bytes go to a temp file ".<name>.tmp.<16 hex>"
//      in the key's own folder (same file system, so rename/link are atomic), which is
//      fsynced before it gets its final name, and the folder is fsynced after.
//  (3) PutIfAbsent uses link(2), not open(O_EXCL) on the final name: O_EXCL would claim the
//      key before the bytes are written, and a reader (or a crash) could see an empty or
//      partial commit. link fails with EEXIST if any process holds the name. PreparePut
//      keeps the synced temp file across attempts, so a commit that lost a race retries with
//      one link(2) and, when it wins, one folder fsync: no second write + fsync.
//  (4) Folders made for a key are fsynced into their parents, so an OK PutIfAbsent survives a
//      power loss even when it created _delta_log/ itself.
//  (5) ListAfter reads only the folder the prefix points into (plus matching sub-folders), and
//      stats only entries that will be returned: a _delta_log with 10,000+ entries listed
//      after a recent version costs one readdir pass and a stat per newer file.
#include "storage/local_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <random>
#include <system_error>

#include "base/scope_guard.h"
#include "base/strings.h"
#include "storage/internal/keys.h"

namespace lake::storage {
namespace {

constexpr int kTempSuffixHexDigits = 16;
constexpr std::string_view kTempMarker = ".tmp.";
// Keeps temp names under NAME_MAX (255) whatever the key's name length.
constexpr size_t kMaxTempNameStem = 200;
// Deeper than any table layout; stops a symlink loop from recursing forever.
constexpr int kMaxListDepth = 64;

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

// Maps errno to the code that tells the caller what to do next (STYLE.md §4).
Status ErrnoStatus(int err, std::string_view what, std::string_view path) {
  std::string msg = StrCat(what, " ", path, ": ", ErrnoText(err));
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return Status::NotFound(std::move(msg));
    case EACCES:
    case EPERM:
    case EROFS:
      return Status::PermissionDenied(std::move(msg))
          .WithHint("check that this user may read and write the table folder");
    case EEXIST:
      return Status::AlreadyExists(std::move(msg));
    case ENOSPC:
    case EDQUOT:
      return Status::IOError(std::move(msg)).WithHint("free disk space and retry");
    default:
      return Status::IOError(std::move(msg));
  }
}

int64_t MtimeMs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  // Closes now and returns close's errno (0 on success): on NFS a write error can surface
  // only at close.
  int Close() {
    int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

// Returns the folder part of `path` ("/a/b/c" -> "/a/b"; "/c" -> "/").
std::string ParentOf(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == 0 || slash == std::string_view::npos) return "/";
  return std::string(path.substr(0, slash));
}

Status FsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "cannot open folder", dir);
  UniqueFd guard(fd);
  // EINVAL: the file system cannot sync folders (some FUSE mounts); nothing more to do.
  if (::fsync(fd) != 0 && errno != EINVAL) return ErrnoStatus(errno, "cannot sync folder", dir);
  return Status::OK();
}

// Creates `dir` (absolute) and its missing ancestors, syncing each new folder into its parent.
Status MakeDirs(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::OK();
    return Status::AlreadyExists(StrCat("cannot create folder ", dir, ": a file has that name"));
  }
  if (dir == "/") return ErrnoStatus(errno, "cannot stat", dir);
  LAKE_RETURN_IF_ERROR(MakeDirs(ParentOf(dir)));
  if (::mkdir(dir.c_str(), 0777) != 0) {
    if (errno == EEXIST) return Status::OK();  // another writer made it first
    return ErrnoStatus(errno, "cannot create folder", dir);
  }
  return FsyncDir(ParentOf(dir));
}

bool IsHexDigit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// True for names made by TempName.
bool IsTempName(std::string_view name) {
  constexpr size_t kTail = kTempMarker.size() + kTempSuffixHexDigits;
  if (name.size() < 1 + kTail || name.front() != '.') return false;
  if (name.substr(name.size() - kTail, kTempMarker.size()) != kTempMarker) return false;
  return std::all_of(name.end() - kTempSuffixHexDigits, name.end(), IsHexDigit);
}

std::string TempName(std::string_view name) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  // Mixing in the pid keeps names distinct in forked children, which inherit the generator's
  // state: distinct pids always give distinct offsets (odd multiplier, a bijection).
  uint64_t value = rng() + static_cast<uint64_t>(::getpid()) * 0x9E3779B97F4A7C15ULL;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = StrCat(".", name.substr(0, kMaxTempNameStem), kTempMarker);
  for (int i = kTempSuffixHexDigits - 1; i >= 0; --i) out.push_back(kHex[(value >> (4 * i)) & 0xf]);
  return out;
}

Status WriteAll(int fd, std::span<const std::byte> data, const std::string& path) {
  const char* p = reinterpret_cast<const char*>(data.data());
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "cannot write", path);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return Status::OK();
}

// Writes `data` to a new synced temp file in `dir` (created if missing) and returns its path.
// On error no temp file is left behind.
Result<std::string> WriteTemp(const std::string& dir, std::string_view name,
                              std::span<const std::byte> data) {
  std::string tmp;
  int fd = -1;
  bool made_dirs = false;
  for (int attempt = 0; attempt < 8 && fd < 0; ++attempt) {
    tmp = StrCat(dir, "/", TempName(name));
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) break;
    if (errno == ENOENT && !made_dirs) {
      LAKE_RETURN_IF_ERROR(MakeDirs(dir));
      made_dirs = true;
    } else if (errno != EEXIST) {
      return ErrnoStatus(errno, "cannot create", tmp);
    }
  }
  if (fd < 0) return Status::IOError(StrCat("cannot create a temp file in ", dir));
  UniqueFd file(fd);
  ScopeGuard remove_tmp([&] { ::unlink(tmp.c_str()); });
  LAKE_RETURN_IF_ERROR(WriteAll(fd, data, tmp));
  if (::fsync(fd) != 0) return ErrnoStatus(errno, "cannot sync", tmp);
  if (int err = file.Close(); err != 0) return ErrnoStatus(err, "cannot close", tmp);
  remove_tmp.Dismiss();
  return tmp;
}

struct Entry {
  std::string key;
  bool is_dir;
};

}  // namespace

Result<std::unique_ptr<LocalStore>> LocalStore::Open(std::string root) {
  if (root.empty()) {
    return Status::InvalidArgument("empty table path")
        .WithHint("pass a folder path or file:// URI");
  }
  if (root.find('\0') != std::string::npos) {
    return Status::InvalidArgument("table path contains a NUL byte");
  }
  std::error_code ec;
  std::filesystem::path path = std::filesystem::absolute(root, ec);
  if (ec) return Status::IOError(StrCat("cannot make ", root, " absolute: ", ec.message()));
  std::string abs = path.lexically_normal().string();
  while (abs.size() > 1 && abs.back() == '/') abs.pop_back();
  struct stat st;
  if (::stat(abs.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument(StrCat(abs, " is a file, not a folder"))
        .WithHint("a table is a folder holding _delta_log/; pass that folder");
  }
  if (abs == "/") abs.clear();  // keys join as root_ + "/" + key
  return std::unique_ptr<LocalStore>(new LocalStore(std::move(abs)));
}

std::string LocalStore::uri() const {
  // Percent-encode what would end or confuse a URI path; OpenStore decodes it again.
  std::string out = "file://";
  std::string_view path = root_.empty() ? std::string_view("/") : std::string_view(root_);
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : path) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '%' || c == '#' || c == '?') {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> LocalStore::LocalPath(std::string_view key) const {
  if (!internal::ValidateKey(key).ok()) return std::nullopt;
  return StrCat(root_, "/", key);
}

Result<std::string> LocalStore::Get(std::string_view key) {
  LAKE_RETURN_IF_ERROR(internal::ValidateKey(key));
  std::string path = StrCat(root_, "/", key);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "cannot open", path);
  UniqueFd file(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoStatus(errno, "cannot stat", path);
  if (S_ISDIR(st.st_mode)) return Status::NotFound(StrCat(path, " is a folder, not an object"));
  std::string out;
  // One byte of room past st_size, so that the read which finds EOF needs no regrowth (a
  // regrowth copies the whole file: the log's hot path reads thousands of commits).
  out.resize(static_cast<size_t>(st.st_size) + 1);
  size_t filled = 0;
  // Read to EOF rather than trusting st_size: objects are immutable, but a Put may have
  // replaced the name; we keep reading the file we opened, whatever its length.
  while (true) {
    if (filled == out.size()) out.resize(out.size() + 4096);
    ssize_t n = ::read(fd, out.data() + filled, out.size() - filled);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "cannot read", path);
    }
    if (n == 0) break;
    filled += static_cast<size_t>(n);
  }
  out.resize(filled);
  return out;
}

Result<std::string> LocalStore::GetRange(std::string_view key, int64_t offset, int64_t length) {
  LAKE_RETURN_IF_ERROR(internal::ValidateKey(key));
  std::string path = StrCat(root_, "/", key);
  if (offset < 0 || length < 0) {
    return Status::InvalidArgument(
        StrCat(path, ": negative range (offset ", offset, ", length ", length, ")"));
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "cannot open", path);
  UniqueFd file(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoStatus(errno, "cannot stat", path);
  if (S_ISDIR(st.st_mode)) return Status::NotFound(StrCat(path, " is a folder, not an object"));
  int64_t available = std::max<int64_t>(0, st.st_size - offset);
  std::string out;
  out.resize(static_cast<size_t>(std::min(length, available)));
  size_t filled = 0;
  while (filled < out.size()) {
    ssize_t n = ::pread(fd, out.data() + filled, out.size() - filled,
                        static_cast<off_t>(offset + static_cast<int64_t>(filled)));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "cannot read", path);
    }
    if (n == 0) break;  // shorter than fstat said
    filled += static_cast<size_t>(n);
  }
  out.resize(filled);
  return out;
}

Status LocalStore::Put(std::string_view key, std::span<const std::byte> data) {
  LAKE_RETURN_IF_ERROR(internal::ValidateKey(key));
  std::string path = StrCat(root_, "/", key);
  std::string dir = ParentOf(path);
  LAKE_ASSIGN_OR_RETURN(std::string tmp, WriteTemp(dir, path.substr(dir.size() + 1), data));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    if (err == EISDIR) {
      return Status::AlreadyExists(StrCat("cannot write ", path, ": a folder has that name"));
    }
    return ErrnoStatus(err, "cannot rename a temp file to", path);
  }
  return FsyncDir(dir);
}

Status LocalStore::PutIfAbsent(std::string_view key, std::span<const std::byte> data) {
  LAKE_RETURN_IF_ERROR(internal::ValidateKey(key));
  std::string path = StrCat(root_, "/", key);
  std::string dir = ParentOf(path);
  LAKE_ASSIGN_OR_RETURN(std::string tmp, WriteTemp(dir, path.substr(dir.size() + 1), data));
  int err = ::link(tmp.c_str(), path.c_str()) == 0 ? 0 : errno;
  // The temp name goes in every case: after a successful link the data lives on under `path`.
  ::unlink(tmp.c_str());
  if (err == EEXIST) return Status::AlreadyExists(StrCat(path, " already exists"));
  if (err == EPERM || err == EOPNOTSUPP) {
    return Status::NotSupported(StrCat("cannot create ", path, ": the file system does not ",
                                       "support hard links (", ErrnoText(err), ")"))
        .WithHint("lake claims commits with link(2); put the table on a local POSIX file system");
  }
  if (err != 0) return ErrnoStatus(err, "cannot link a temp file to", path);
  return FsyncDir(dir);
}

namespace {

// A synced temp file beside the keys it may be linked to (design note 3).
class LocalPreparedPut final : public PreparedPut {
 public:
  LocalPreparedPut(LocalStore& store, std::string root, std::string dir, std::string tmp,
                   std::string data)
      : store_(store),
        root_(std::move(root)),
        dir_(std::move(dir)),
        tmp_(std::move(tmp)),
        data_(std::move(data)) {}
  ~LocalPreparedPut() override {
    if (!tmp_.empty()) ::unlink(tmp_.c_str());
  }

  Status PublishIfAbsent(std::string_view key) override {
    LAKE_RETURN_IF_ERROR(internal::ValidateKey(key));
    std::string path = StrCat(root_, "/", key);
    if (tmp_.empty() || ParentOf(path) != dir_) {
      // Another folder (or already published): a plain PutIfAbsent.
      return store_.PutIfAbsent(key, std::as_bytes(std::span(data_.data(), data_.size())));
    }
    int err = ::link(tmp_.c_str(), path.c_str()) == 0 ? 0 : errno;
    if (err == EEXIST) return Status::AlreadyExists(StrCat(path, " already exists"));
    if (err == EPERM || err == EOPNOTSUPP) {
      return Status::NotSupported(StrCat("cannot create ", path, ": the file system does not ",
                                         "support hard links (", ErrnoText(err), ")"))
          .WithHint("lake claims commits with link(2); put the table on a local POSIX file "
                    "system");
    }
    if (err != 0) return ErrnoStatus(err, "cannot link a temp file to", path);
    ::unlink(tmp_.c_str());
    tmp_.clear();
    return FsyncDir(dir_);
  }

 private:
  LocalStore& store_;
  const std::string root_;
  const std::string dir_;
  std::string tmp_;  // empty once published
  const std::string data_;
};

}  // namespace

Result<std::unique_ptr<PreparedPut>> LocalStore::PreparePut(std::string_view key_hint,
                                                            std::span<const std::byte> data) {
  LAKE_RETURN_IF_ERROR(internal::ValidateKey(key_hint));
  std::string path = StrCat(root_, "/", key_hint);
  std::string dir = ParentOf(path);
  LAKE_ASSIGN_OR_RETURN(std::string tmp, WriteTemp(dir, path.substr(dir.size() + 1), data));
  return std::unique_ptr<PreparedPut>(std::make_unique<LocalPreparedPut>(
      *this, root_, std::move(dir), std::move(tmp),
      std::string(reinterpret_cast<const char*>(data.data()), data.size())));
}

Result<std::vector<ObjectInfo>> LocalStore::ListAfter(std::string_view prefix,
                                                      std::string_view start) {
  LAKE_RETURN_IF_ERROR(internal::ValidatePrefix(prefix));
  size_t slash = prefix.rfind('/');
  // "_delta_log/0001" -> read folder "_delta_log/" for names starting with "0001".
  std::string dir_key(slash == std::string_view::npos ? "" : prefix.substr(0, slash + 1));
  std::string_view name_prefix =
      slash == std::string_view::npos ? prefix : prefix.substr(slash + 1);

  std::vector<ObjectInfo> out;
  // Folders still to read: (folder key ending in '/' or empty, name prefix, depth).
  struct Pending {
    std::string dir_key;
    std::string name_prefix;
    int depth;
  };
  std::vector<Pending> pending{{dir_key, std::string(name_prefix), 0}};
  while (!pending.empty()) {
    Pending cur = std::move(pending.back());
    pending.pop_back();
    if (cur.depth > kMaxListDepth) {
      return Status::IOError(StrCat(root_, "/", cur.dir_key, ": folders nested deeper than ",
                                    kMaxListDepth, " (a symlink loop?)"));
    }
    std::string dir_path = StrCat(root_, "/", cur.dir_key);
    DIR* dir = ::opendir(dir_path.c_str());
    if (dir == nullptr) {
      if (errno == ENOENT || errno == ENOTDIR) continue;  // nothing under this prefix
      return ErrnoStatus(errno, "cannot list", dir_path);
    }
    ScopeGuard close_dir([&] { ::closedir(dir); });
    int dir_fd = ::dirfd(dir);
    while (true) {
      errno = 0;
      struct dirent* entry = ::readdir(dir);
      if (entry == nullptr) {
        if (errno != 0) return ErrnoStatus(errno, "cannot list", dir_path);
        break;
      }
      std::string_view name = entry->d_name;
      if (name == "." || name == ".." || !StartsWith(name, cur.name_prefix)) continue;
      if (IsTempName(name)) continue;
      std::string key;  // plain appends: this runs once per entry of a 10,000-file log
      key.reserve(cur.dir_key.size() + name.size());
      key.append(cur.dir_key).append(name);
      bool is_dir = entry->d_type == DT_DIR;
      bool is_reg = entry->d_type == DT_REG;
      struct stat st;
      bool have_stat = false;
      if (!is_dir && !is_reg) {  // DT_UNKNOWN or a symlink: ask the file system
        if (::fstatat(dir_fd, entry->d_name, &st, 0) != 0) {
          if (errno == ENOENT) continue;  // deleted meanwhile, or a dangling symlink
          return ErrnoStatus(errno, "cannot stat", StrCat(dir_path, name));
        }
        have_stat = true;
        is_dir = S_ISDIR(st.st_mode);
        is_reg = S_ISREG(st.st_mode);
      }
      if (is_dir) {
        std::string child = key + "/";
        // Every key in the folder starts with `child`; when `start` sorts after `child` without
        // extending it, it sorts after all of them, so the folder need not be read.
        if (start > std::string_view(child) && !StartsWith(start, child)) continue;
        pending.push_back({std::move(child), "", cur.depth + 1});
        continue;
      }
      if (!is_reg || std::string_view(key) <= start) continue;
      if (!have_stat && ::fstatat(dir_fd, entry->d_name, &st, 0) != 0) {
        if (errno == ENOENT) continue;  // deleted meanwhile
        return ErrnoStatus(errno, "cannot stat", StrCat(dir_path, name));
      }
      out.push_back(ObjectInfo{std::move(key), static_cast<int64_t>(st.st_size), MtimeMs(st)});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

Status LocalStore::Delete(std::string_view key) {
  LAKE_RETURN_IF_ERROR(internal::ValidateKey(key));
  std::string path = StrCat(root_, "/", key);
  if (::unlink(path.c_str()) != 0) {
    if (errno == EISDIR) return Status::NotFound(StrCat(path, " is a folder, not an object"));
    return ErrnoStatus(errno, "cannot delete", path);
  }
  return Status::OK();
}

Result<ObjectInfo> LocalStore::Head(std::string_view key) {
  LAKE_RETURN_IF_ERROR(internal::ValidateKey(key));
  std::string path = StrCat(root_, "/", key);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus(errno, "cannot stat", path);
  if (S_ISDIR(st.st_mode)) return Status::NotFound(StrCat(path, " is a folder, not an object"));
  return ObjectInfo{std::string(key), static_cast<int64_t>(st.st_size), MtimeMs(st)};
}

}  // namespace lake::storage
