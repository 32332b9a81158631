#include "delta/log_segment.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "base/strings.h"

namespace lake::delta {
namespace {

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::optional<Version> ParseVersion(std::string_view digits) {
  // Versions are written as 20 digits; accept any width, but nothing that overflows.
  if (!AllDigits(digits) || digits.size() > 20) return std::nullopt;
  return ParseInt64(digits);
}

// A recognised log file name (the part after "_delta_log/").
struct Classified {
  enum class Kind { kCommit, kCheckpoint, kCompaction, kCrc } kind;
  Version version = 0;
  Version end_version = 0;  // compaction
  CheckpointKind checkpoint_kind = CheckpointKind::kClassic;
  int32_t part = 1;       // multi-part
  int32_t num_parts = 1;  // multi-part
};

std::optional<Classified> Classify(std::string_view name) {
  // Sub-folders (_commits/, _staged_commits/, _sidecars/, _autostats/) and hidden files
  // (Hadoop ".N.json.crc", temp files) are not log entries (design note 2).
  if (name.empty() || name.find('/') != std::string_view::npos || name[0] == '.') {
    return std::nullopt;
  }
  size_t dot = name.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  std::optional<Version> version = ParseVersion(name.substr(0, dot));
  if (!version) return std::nullopt;
  std::string_view rest = name.substr(dot + 1);
  Classified c;
  c.version = *version;
  if (rest == "json") {
    c.kind = Classified::Kind::kCommit;
    return c;
  }
  if (rest == "crc") {
    c.kind = Classified::Kind::kCrc;
    return c;
  }
  if (rest == "checkpoint.parquet") {
    c.kind = Classified::Kind::kCheckpoint;
    c.checkpoint_kind = CheckpointKind::kClassic;
    return c;
  }
  if (StartsWith(rest, "checkpoint.")) {
    std::string_view tail = rest.substr(std::string_view("checkpoint.").size());
    std::vector<std::string> pieces = StrSplit(tail, '.');
    // checkpoint.PPPPPPPPPP.TTTTTTTTTT.parquet
    if (pieces.size() == 3 && pieces[2] == "parquet" && AllDigits(pieces[0]) &&
        AllDigits(pieces[1]) && pieces[0].size() <= 10 && pieces[1].size() <= 10) {
      auto part = ParseInt64(pieces[0]);
      auto total = ParseInt64(pieces[1]);
      if (!part || !total || *part < 1 || *part > *total || *total > INT32_MAX) return std::nullopt;
      c.kind = Classified::Kind::kCheckpoint;
      c.checkpoint_kind = CheckpointKind::kMultiPart;
      c.part = static_cast<int32_t>(*part);
      c.num_parts = static_cast<int32_t>(*total);
      return c;
    }
    // checkpoint.<uuid>.json|parquet
    if (pieces.size() == 2 && !pieces[0].empty() &&
        (pieces[1] == "json" || pieces[1] == "parquet")) {
      c.kind = Classified::Kind::kCheckpoint;
      c.checkpoint_kind = CheckpointKind::kUuid;
      return c;
    }
    return std::nullopt;
  }
  // X.Y.compacted.json
  std::vector<std::string> pieces = StrSplit(rest, '.');
  if (pieces.size() == 3 && pieces[1] == "compacted" && pieces[2] == "json") {
    std::optional<Version> end = ParseVersion(pieces[0]);
    if (!end || *end < c.version) return std::nullopt;
    c.kind = Classified::Kind::kCompaction;
    c.end_version = *end;
    return c;
  }
  return std::nullopt;
}

std::string RangeText(const LogListing& listing) {
  std::optional<Version> earliest = listing.EarliestReconstructableVersion();
  std::optional<Version> latest = listing.LatestVersion();
  if (!earliest || !latest) return "no version can be reconstructed";
  return StrCat("available versions are ", *earliest, " to ", *latest);
}

}  // namespace

std::string CommitKey(Version version) { return StrCat(kLogPrefix, ZeroPad(version, 20), ".json"); }

Result<LastCheckpointHint> ParseLastCheckpoint(std::string_view json) {
  nlohmann::json j = nlohmann::json::parse(json.begin(), json.end(), nullptr,
                                           /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::Corruption("_last_checkpoint is not a JSON object");
  }
  auto get_int = [&](const char* key) -> std::optional<int64_t> {
    auto it = j.find(key);
    if (it == j.end()) return std::nullopt;
    if (it->is_number_integer()) return it->get<int64_t>();
    return std::nullopt;
  };
  auto it = j.find("version");
  if (it == j.end() || !it->is_number_integer()) {
    return Status::Corruption("_last_checkpoint has no integer \"version\"");
  }
  if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    return Status::Corruption("_last_checkpoint \"version\" is out of range");
  }
  LastCheckpointHint hint;
  hint.version = it->get<int64_t>();
  if (hint.version < 0) return Status::Corruption("_last_checkpoint \"version\" is negative");
  hint.size = get_int("size");
  if (auto parts = get_int("parts"); parts && *parts > 0 && *parts <= INT32_MAX) {
    hint.parts = static_cast<int32_t>(*parts);
  }
  hint.size_in_bytes = get_int("sizeInBytes");
  hint.num_of_add_files = get_int("numOfAddFiles");
  return hint;
}

std::optional<Version> LogListing::LatestVersion() const {
  std::optional<Version> latest;
  if (!commits.empty()) latest = commits.back().version;
  if (!checkpoints.empty()) latest = std::max(latest.value_or(-1), checkpoints.back().version);
  return latest;
}

std::optional<Version> LogListing::EarliestReconstructableVersion() const {
  std::optional<Version> earliest;
  if (!checkpoints.empty()) earliest = checkpoints.front().version;
  if (!commits.empty() && commits.front().version == 0) earliest = 0;
  return earliest;
}

Result<LogListing> ListLog(storage::ObjectStore& store, std::string_view start_after) {
  LAKE_ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> objects,
                        store.ListAfter(kLogPrefix, start_after));
  LogListing listing;
  // Multi-part checkpoints: (version, parts) -> part index -> file; kept when complete.
  std::map<std::pair<Version, int32_t>, std::map<int32_t, storage::ObjectInfo>> multi;
  std::vector<CheckpointFiles> singles;
  for (storage::ObjectInfo& info : objects) {
    if (!start_after.empty() && info.key <= start_after) continue;  // strictly after
    std::string_view name = std::string_view(info.key).substr(kLogPrefix.size());
    std::optional<Classified> c = Classify(name);
    if (!c) continue;
    switch (c->kind) {
      case Classified::Kind::kCommit:
        listing.commits.push_back(CommitFile{c->version, std::move(info)});
        break;
      case Classified::Kind::kCrc:
        listing.crc_versions.push_back(c->version);
        break;
      case Classified::Kind::kCompaction:
        listing.compactions.push_back(CompactionFile{c->version, c->end_version, std::move(info)});
        break;
      case Classified::Kind::kCheckpoint:
        if (c->checkpoint_kind == CheckpointKind::kMultiPart) {
          multi[{c->version, c->num_parts}][c->part] = std::move(info);
        } else {
          singles.push_back(CheckpointFiles{c->version, c->checkpoint_kind, {std::move(info)}});
        }
        break;
    }
  }
  // Byte order of 20-digit names is version order, but be robust to other widths.
  auto by_version = [](const auto& a, const auto& b) { return a.version < b.version; };
  std::stable_sort(listing.commits.begin(), listing.commits.end(), by_version);
  listing.commits.erase(
      std::unique(listing.commits.begin(), listing.commits.end(),
                  [](const CommitFile& a, const CommitFile& b) { return a.version == b.version; }),
      listing.commits.end());
  std::sort(listing.crc_versions.begin(), listing.crc_versions.end());
  for (auto& [key, parts] : multi) {
    if (static_cast<int32_t>(parts.size()) != key.second) continue;  // incomplete: ignored
    CheckpointFiles cp{key.first, CheckpointKind::kMultiPart, {}};
    for (auto& [idx, info] : parts) cp.parts.push_back(std::move(info));
    singles.push_back(std::move(cp));
  }
  // One checkpoint per version: any complete one is correct; prefer single-file ones
  // (fewer reads), a classic name over a UUID one (no sidecars to chase).
  auto rank = [](CheckpointKind k) {
    return k == CheckpointKind::kClassic ? 0 : k == CheckpointKind::kUuid ? 1 : 2;
  };
  std::stable_sort(singles.begin(), singles.end(), [&](const auto& a, const auto& b) {
    return a.version != b.version ? a.version < b.version : rank(a.kind) < rank(b.kind);
  });
  for (CheckpointFiles& cp : singles) {
    if (!listing.checkpoints.empty() && listing.checkpoints.back().version == cp.version) continue;
    listing.checkpoints.push_back(std::move(cp));
  }
  std::sort(listing.compactions.begin(), listing.compactions.end(),
            [](const auto& a, const auto& b) {
              return a.start != b.start ? a.start < b.start : a.end < b.end;
            });
  return listing;
}

Result<LogSegment> SegmentFromListing(const LogListing& listing, std::string_view table,
                                      std::optional<Version> version) {
  std::optional<Version> latest = listing.LatestVersion();
  if (!latest) {
    return Status::NotFound(
               StrCat(table, ": not a Delta table (no commits or checkpoints in ", kLogPrefix, ")"))
        .WithHint("check the path: a Delta table is a folder holding _delta_log/");
  }
  std::optional<Version> earliest = listing.EarliestReconstructableVersion();
  const Version target = version.value_or(*latest);
  if (target < 0 || target > *latest) {
    return Status::NotFound(
               StrCat(table, ": version ", target, " does not exist; ", RangeText(listing)))
        .WithHint(StrCat("read a version between ", earliest.value_or(*latest), " and ", *latest));
  }
  LogSegment segment;
  segment.version = target;
  segment.latest_version = *latest;
  segment.earliest_version = earliest.value_or(*latest);

  // Newest complete checkpoint <= target (checkpoints are complete and ascending).
  for (auto it = listing.checkpoints.rbegin(); it != listing.checkpoints.rend(); ++it) {
    if (it->version <= target) {
      segment.checkpoint = *it;
      break;
    }
  }
  const Version first_needed = segment.checkpoint ? segment.checkpoint->version + 1 : 0;
  if (!segment.checkpoint && (listing.commits.empty() || listing.commits.front().version != 0)) {
    // Older commits were cleaned up (or the log starts with a gap) and no checkpoint at or
    // before the target covers them.
    if (!earliest || target < *earliest) {
      return Status::NotFound(StrCat(table, ": version ", target,
                                     " can no longer be reconstructed (its log files were "
                                     "cleaned up); ",
                                     RangeText(listing)))
          .WithHint(earliest ? StrCat("read version ", *earliest, " or later")
                             : std::string("restore the missing log files"));
    }
  }
  // Commits first_needed..target must all be there.
  auto it = std::lower_bound(listing.commits.begin(), listing.commits.end(), first_needed,
                             [](const CommitFile& c, Version v) { return c.version < v; });
  Version expected = first_needed;
  for (; it != listing.commits.end() && it->version <= target; ++it) {
    if (it->version != expected) break;
    segment.commits.push_back(*it);
    ++expected;
  }
  if (expected <= target) {
    return Status::Corruption(StrCat(table, ": commit ", expected,
                                     " is missing but later ones exist (", kLogPrefix,
                                     ZeroPad(expected, 20), ".json); version ", target,
                                     " cannot be reconstructed"))
        .WithHint(expected > 0
                      ? StrCat("restore that file, or read the table as of version ", expected - 1)
                      : std::string("restore that file"));
  }
  if (segment.checkpoint) {
    auto cp = std::lower_bound(listing.commits.begin(), listing.commits.end(),
                               segment.checkpoint->version,
                               [](const CommitFile& c, Version v) { return c.version < v; });
    if (cp != listing.commits.end() && cp->version == segment.checkpoint->version) {
      segment.checkpoint_commit = *cp;
    }
  }
  return segment;
}

Result<LogSegment> BuildLogSegment(storage::ObjectStore& store, std::string_view table,
                                   std::optional<Version> version) {
  // Design note 1: try the hint, fall back to a full listing whenever it does not hold up.
  std::optional<LastCheckpointHint> hint;
  Result<std::string> hint_text = store.Get(StrCat(kLogPrefix, "_last_checkpoint"));
  if (hint_text.ok()) {
    Result<LastCheckpointHint> parsed = ParseLastCheckpoint(*hint_text);
    if (parsed.ok()) hint = *parsed;
  } else if (hint_text.status().code() != StatusCode::kNotFound) {
    return hint_text.status();  // an I/O error is not "no hint": do not guess
  }
  if (hint && (!version || *version >= hint->version)) {
    LAKE_ASSIGN_OR_RETURN(LogListing listing,
                          ListLog(store, StrCat(kLogPrefix, ZeroPad(hint->version, 20))));
    listing.from_hint = true;
    bool hinted_checkpoint_present =
        !listing.checkpoints.empty() && listing.checkpoints.front().version == hint->version;
    if (hinted_checkpoint_present) {
      Result<LogSegment> segment = SegmentFromListing(listing, table, version);
      // Errors from a partial listing might be artefacts of it; only trust success.
      if (segment.ok()) {
        segment->earliest_version = std::min(segment->earliest_version, hint->version);
        return segment;
      }
    }
  }
  LAKE_ASSIGN_OR_RETURN(LogListing listing, ListLog(store));
  return SegmentFromListing(listing, table, version);
}

}  // namespace lake::delta
