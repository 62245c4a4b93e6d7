#include "audit/reader.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>

#include <boost/json.hpp>

#include "common/clock.h"
#include "common/strings.h"
#include "crypto/ed25519.h"

namespace perimeter::audit {

namespace {

Result<std::optional<std::string>> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::optional<std::string>();
    return Unavailable("cannot read '" + path + "': " + std::strerror(errno));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Unavailable("cannot read '" + path + "'");
  return std::optional<std::string>(ss.str());
}

// MTH(D[a:b]) from the log: leaf hashes for the kept part, the pruned compact range for the
// part that is gone (only its perfect subtrees can be asked for, which is all RFC 9162's proofs
// of trees at least as large as the pruned prefix need).
class SubtreeHasher {
 public:
  explicit SubtreeHasher(const LogContents& log) : log_(log) {
    if (log.pruned) {
      uint64_t start = 0;
      for (int bit = 63, i = 0; bit >= 0; --bit) {
        const uint64_t width = uint64_t{1} << bit;
        if ((log.pruned->pruned_size & width) == 0) continue;
        pruned_.push_back({start, start + width, log.pruned->compact_range[i++]});
        start += width;
      }
    }
  }

  Result<Hash> Mth(uint64_t a, uint64_t b) const {
    if (a >= log_.first_index) {
      if (b > log_.size())
        return InvalidArgument("the log has only " + std::to_string(log_.size()));
      return RootFromLeafHashes(
          std::span<const Hash>(log_.leaf_hashes).subspan(a - log_.first_index, b - a));
    }
    for (const auto& p : pruned_) {
      if (p.a == a && p.b == b) return p.hash;
    }
    if (b - a <= 1) {
      return FailedPrecondition("record " + std::to_string(a) +
                                " was pruned; proofs can only use trees from the pruned size on");
    }
    const uint64_t k = std::bit_floor(b - a - 1);
    auto left = Mth(a, a + k);
    if (!left.ok()) return left;
    auto right = Mth(a + k, b);
    if (!right.ok()) return right;
    return NodeHash(*left, *right);
  }

 private:
  struct Part {
    uint64_t a, b;
    Hash hash;
  };
  const LogContents& log_;
  std::vector<Part> pruned_;
};

std::string SegmentOf(const LogContents& log, uint64_t index) {
  // segments: (first index, name); the last one whose first <= index.
  std::string name = "?";
  uint64_t line = 0;
  for (const auto& [first, n] : log.segments) {
    if (first > index) break;
    name = n;
    line = index - first + 1;
  }
  return name + " line " + std::to_string(line);
}

}  // namespace

Result<LogContents> ReadLog(const std::string& dir, const ReadOptions& options) {
  LogContents log;
  auto pruned = ReadWholeFile(JoinPath(dir, kPrunedFile));
  if (!pruned.ok()) return pruned.status();
  if (*pruned) {
    auto p = ParsePrunedState(**pruned);
    if (!p.ok()) return FailedPrecondition(std::string(kPrunedFile) + ": " + p.status().message());
    log.first_index = p->pruned_size;
    log.pruned = std::move(*p);
  }
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return Unavailable("cannot open the audit directory '" + dir + "': " + std::strerror(errno));
  }
  std::vector<std::pair<uint64_t, std::string>> segments;
  while (dirent* e = ::readdir(d)) {
    auto first = ParseSegmentFileName(e->d_name);
    if (first.ok()) segments.emplace_back(*first, e->d_name);
  }
  ::closedir(d);
  std::sort(segments.begin(), segments.end());
  for (size_t s = 0; s < segments.size(); ++s) {
    const auto& [first, name] = segments[s];
    // Left behind by a prune that stopped between writing pruned.json and deleting files.
    if (first < log.first_index) continue;
    auto data = ReadWholeFile(JoinPath(dir, name));
    if (!data.ok()) return data.status();
    if (!*data) continue;  // deleted while we listed
    if (first != log.size()) {
      log.segment_gaps.push_back({first, log.size(), name});
    }
    log.segments.emplace_back(log.size(), name);
    const std::string& text = **data;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) {
        if (s + 1 == segments.size()) {
          log.torn_tail = text.size() - pos;
        } else {
          log.unterminated.push_back(name);
        }
        break;
      }
      std::string_view line = std::string_view(text).substr(pos, nl - pos);
      log.leaf_hashes.push_back(LeafHash(line));
      if (options.keep_lines) {
        log.lines.emplace_back(line);
      } else {
        log.lines.emplace_back();
      }
      pos = nl + 1;
    }
  }
  auto cps = ReadWholeFile(JoinPath(dir, kCheckpointsFile));
  if (!cps.ok()) return cps.status();
  if (*cps) {
    const std::string& text = **cps;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) break;  // a torn checkpoint write
      log.checkpoint_lines.emplace_back(text.substr(pos, nl - pos));
      pos = nl + 1;
    }
  }
  for (const auto& line : log.checkpoint_lines) {
    auto cp = ParseCheckpointLine(line);
    if (cp.ok()) log.checkpoints.push_back(std::move(*cp));
  }
  return log;
}

Result<Hash> RootAt(const LogContents& log, uint64_t size) {
  if (size > log.size()) {
    return InvalidArgument("the log holds " + std::to_string(log.size()) + " records, not " +
                           std::to_string(size));
  }
  if (size < log.first_index) {
    return FailedPrecondition("records before " + std::to_string(log.first_index) +
                              " were pruned; no root of a smaller tree can be computed");
  }
  if (size == 0) return EmptyRootHash();
  return SubtreeHasher(log).Mth(0, size);
}

Result<std::string> ReadPublicKeyPem(const std::string& path) {
  auto text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  if (!*text) return NotFound("no public key file '" + path + "'");
  auto raw = crypto::Ed25519PublicKeyFromPem(**text);
  if (!raw.ok()) return InvalidArgument("'" + path + "': " + raw.status().message());
  return raw;
}

Result<VerifyReport> VerifyLog(const std::string& dir, std::string_view public_key32) {
  auto read = ReadLog(dir);
  if (!read.ok()) return read.status();
  const LogContents& log = *read;
  VerifyReport rep;
  rep.pruned = log.first_index;
  auto fail_record = [&](uint64_t index, const std::string& why) {
    rep.ok = false;
    rep.bad_record = index;
    rep.first_failure =
        "record " + std::to_string(index) + " (" + SegmentOf(log, index) + "): " + why;
    return rep;
  };
  if (log.torn_tail > 0) {
    rep.warnings.push_back("the last segment ends in " + std::to_string(log.torn_tail) +
                           " bytes of an unfinished record (a write cut short by a crash; it was "
                           "never acknowledged and the next writer removes it)");
  }
  if (!log.unterminated.empty()) {
    rep.first_failure =
        log.unterminated.front() + " ends in a partial record but is not the last segment";
    return rep;
  }
  // Records: parse, position, chain.
  CompactRange range;
  if (log.pruned) {
    auto r = CompactRange::FromParts(log.pruned->pruned_size, log.pruned->compact_range);
    if (!r.ok()) {
      rep.first_failure = std::string(kPrunedFile) + ": " + r.status().message();
      return rep;
    }
    range = std::move(*r);
  }
  Hash prev = log.pruned ? log.pruned->last_leaf_hash : Hash{};
  // Checkpoints in file order; roots checked as the tree grows past each size.
  std::vector<std::optional<Checkpoint>> cps;
  for (size_t k = 0; k < log.checkpoint_lines.size(); ++k) {
    auto cp = ParseCheckpointLine(log.checkpoint_lines[k]);
    if (!cp.ok()) {
      rep.bad_checkpoint = k;
      rep.first_failure =
          "checkpoint " + std::to_string(k) + " does not parse: " + cp.status().message();
      return rep;
    }
    Status sig = VerifyCheckpointSignature(*cp, public_key32);
    if (!sig.ok()) {
      rep.bad_checkpoint = k;
      rep.first_failure = "checkpoint " + std::to_string(k) + " (treeSize " +
                          std::to_string(cp->tree_size) + "): " + sig.message();
      return rep;
    }
    if (k > 0 && cps.back() &&
        (cp->tree_size < cps.back()->tree_size || cp->time < cps.back()->time)) {
      rep.bad_checkpoint = k;
      rep.first_failure = "checkpoint " + std::to_string(k) + " (treeSize " +
                          std::to_string(cp->tree_size) +
                          ") goes back in size or time from the one before it";
      return rep;
    }
    auto cr = CompactRange::FromParts(cp->tree_size, cp->compact_range);
    if (!cr.ok() || cr->Root() != cp->root) {
      rep.bad_checkpoint = k;
      rep.first_failure = "checkpoint " + std::to_string(k) + " (treeSize " +
                          std::to_string(cp->tree_size) +
                          "): its compact range does not hash to its root";
      return rep;
    }
    cps.push_back(std::move(*cp));
  }
  // Index of the next checkpoint to compare, by tree size (file order is size order).
  size_t next_cp = 0;
  uint64_t last_good_cp_size = log.first_index;
  auto check_checkpoints_at = [&](uint64_t size) -> bool {
    while (next_cp < cps.size() && cps[next_cp]->tree_size <= size) {
      const Checkpoint& cp = *cps[next_cp];
      if (cp.tree_size < log.first_index) {
        ++next_cp;  // before the pruned prefix: its signature was checked, its root cannot be
        continue;
      }
      if (cp.tree_size == size) {
        if (range.Root() != cp.root) {
          rep.bad_checkpoint = next_cp;
          // The records since the last good checkpoint differ from what was signed; the chain
          // above found no break, so the last of them was altered (or the chain was rewritten).
          const uint64_t last = size == 0 ? 0 : size - 1;
          fail_record(last, "the records " + std::to_string(last_good_cp_size) + ".." +
                                std::to_string(last) + " do not hash to checkpoint " +
                                std::to_string(next_cp) + "'s signed root (treeSize " +
                                std::to_string(size) + "); a record in that range was altered");
          rep.bad_checkpoint = next_cp;
          return false;
        }
        last_good_cp_size = size;
        ++rep.checkpoints;
      }
      ++next_cp;
    }
    return true;
  };
  if (!check_checkpoints_at(range.size())) return rep;
  // A misplaced segment is reported at its first record.
  auto gap_at = [&](uint64_t index) -> const LogContents::Gap* {
    for (const auto& gap : log.segment_gaps) {
      if (gap.expected == index) return &gap;
    }
    return nullptr;
  };
  auto fail_gap = [&](const LogContents::Gap& gap) {
    return fail_record(gap.expected, gap.name + " is named for record " +
                                         std::to_string(gap.named_first) + " but record " +
                                         std::to_string(gap.expected) +
                                         " comes next: records are missing, or a segment was "
                                         "renamed");
  };
  for (size_t i = 0; i < log.lines.size(); ++i) {
    const uint64_t index = log.first_index + i;
    if (const auto* gap = gap_at(index)) return fail_gap(*gap);
    auto rec = ParseRecordLine(log.lines[i]);
    if (!rec.ok()) return fail_record(index, "does not parse: " + rec.status().message());
    if (rec->index != index) {
      return fail_record(index, "holds record " + std::to_string(rec->index) + " where record " +
                                    std::to_string(index) +
                                    " should be: a record was dropped, inserted or moved");
    }
    if (rec->prev != prev) {
      const uint64_t altered = index == 0 ? 0 : index - 1;
      rep.bad_record = altered;
      rep.first_failure = "record " + std::to_string(altered) + " (" + SegmentOf(log, altered) +
                          "): altered; its hash is not the one record " + std::to_string(index) +
                          " chains to";
      return rep;
    }
    prev = log.leaf_hashes[i];
    range.Append(prev);
    ++rep.records;
    if (!check_checkpoints_at(range.size())) return rep;
  }
  if (const auto* gap = gap_at(log.size())) return fail_gap(*gap);
  if (next_cp < cps.size()) {
    const uint64_t want = cps.back()->tree_size;
    rep.bad_record = log.size();
    rep.bad_checkpoint = next_cp;
    rep.first_failure = "the log ends at record " + std::to_string(log.size()) +
                        " but checkpoint " + std::to_string(cps.size() - 1) + " covers " +
                        std::to_string(want) + " records: records " + std::to_string(log.size()) +
                        ".." + std::to_string(want - 1) + " were removed (truncation)";
    return rep;
  }
  rep.ok = true;
  return rep;
}

Result<uint64_t> FindEventIndex(const LogContents& log, std::string_view event_id) {
  if (event_id.empty() || event_id.size() > 128) return InvalidArgument("bad event id");
  const std::string needle = "\"eventID\":\"" + std::string(event_id) + "\"";
  for (size_t i = 0; i < log.lines.size(); ++i) {
    if (log.lines[i].find(needle) == std::string::npos) continue;
    auto rec = ParseRecordLine(log.lines[i]);
    if (!rec.ok()) continue;
    boost::system::error_code ec;
    auto v = boost::json::parse(rec->event_json, ec);
    if (ec || !v.is_object()) continue;
    const auto* id = v.as_object().if_contains("eventID");
    if (id != nullptr && id->is_string() && id->as_string() == event_id) {
      return log.first_index + i;
    }
  }
  return NotFound("no record with eventID '" + std::string(event_id) + "'");
}

Result<InclusionProofResult> ProveInclusion(const LogContents& log, uint64_t index,
                                            std::optional<uint64_t> tree_size) {
  InclusionProofResult out;
  out.index = index;
  if (index < log.first_index || index >= log.size()) {
    return NotFound("record " + std::to_string(index) + " is not in the log (it holds " +
                    std::to_string(log.first_index) + ".." + std::to_string(log.size()) + ")");
  }
  if (tree_size) {
    out.tree_size = *tree_size;
  } else {
    // The first checkpoint that covers the record, else the whole log.
    out.tree_size = log.size();
    for (const auto& cp : log.checkpoints) {
      if (cp.tree_size > index && cp.tree_size <= log.size()) {
        out.tree_size = cp.tree_size;
        break;
      }
    }
  }
  if (out.tree_size <= index || out.tree_size > log.size()) {
    return InvalidArgument("tree size " + std::to_string(out.tree_size) +
                           " does not contain record " + std::to_string(index));
  }
  for (const auto& cp : log.checkpoints) {
    if (cp.tree_size == out.tree_size) out.checkpoint = cp;
  }
  SubtreeHasher h(log);
  auto mth = [&h](uint64_t a, uint64_t b) { return h.Mth(a, b); };
  auto path = InclusionProof(mth, index, out.tree_size);
  if (!path.ok()) return path.status();
  out.path = std::move(*path);
  out.leaf_hash = log.leaf_hashes[index - log.first_index];
  auto root = h.Mth(0, out.tree_size);
  if (!root.ok()) return root.status();
  out.root = *root;
  out.record_line = log.lines[index - log.first_index];
  return out;
}

Result<ConsistencyProofResult> ProveConsistency(const LogContents& log, uint64_t from,
                                                uint64_t to) {
  if (from > to || to > log.size()) {
    return InvalidArgument("need 0 <= from <= to <= " + std::to_string(log.size()) +
                           " (the log's size); got from " + std::to_string(from) + ", to " +
                           std::to_string(to));
  }
  if (from < log.first_index && from != 0) {
    return FailedPrecondition("records before " + std::to_string(log.first_index) +
                              " were pruned; prove from " + std::to_string(log.first_index) +
                              " or later");
  }
  ConsistencyProofResult out;
  out.from = from;
  out.to = to;
  SubtreeHasher h(log);
  auto mth = [&h](uint64_t a, uint64_t b) { return h.Mth(a, b); };
  auto path = ConsistencyProof(mth, from, to);
  if (!path.ok()) return path.status();
  out.path = std::move(*path);
  auto fr = from == 0 ? Result<Hash>(EmptyRootHash()) : h.Mth(0, from);
  if (!fr.ok()) return fr.status();
  auto tr = to == 0 ? Result<Hash>(EmptyRootHash()) : h.Mth(0, to);
  if (!tr.ok()) return tr.status();
  out.from_root = *fr;
  out.to_root = *tr;
  return out;
}

Result<uint64_t> Prune(const std::string& dir, std::chrono::system_clock::time_point now) {
  const std::string lock_path = JoinPath(dir, kLockFile);
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0) return Unavailable("cannot open '" + lock_path + "': " + std::strerror(errno));
  struct Unlock {
    int fd;
    ~Unlock() {
      ::flock(fd, LOCK_UN);
      ::close(fd);
    }
  } unlock{lock_fd};
  while (::flock(lock_fd, LOCK_EX) != 0 && errno == EINTR) {
  }
  auto read = ReadLog(dir);
  if (!read.ok()) return read.status();
  const LogContents& log = *read;
  if (!log.segment_gaps.empty() || !log.unterminated.empty()) {
    return FailedPrecondition(
        "the log's segments do not line up; run `perimeter audit verify` "
        "before pruning");
  }
  uint64_t covered = 0;  // the last checkpoint's size: only what it covers may go
  for (const auto& cp : log.checkpoints) covered = std::max(covered, cp.tree_size);
  uint64_t new_first = log.first_index;
  std::vector<std::string> doomed;
  // Whole segments, oldest first, never the last one (it is being written).
  for (size_t s = 0; s + 1 < log.segments.size(); ++s) {
    const uint64_t first = log.segments[s].first;
    const uint64_t end = log.segments[s + 1].first;
    if (end > covered) break;
    bool expired = true;
    for (uint64_t i = first; i < end && expired; ++i) {
      auto rec = ParseRecordLine(log.lines[i - log.first_index]);
      if (!rec.ok()) {
        return FailedPrecondition("record " + std::to_string(i) +
                                  " does not parse; run `perimeter audit verify` before pruning");
      }
      expired = rec->retain_until <= now;
    }
    if (!expired) break;
    doomed.push_back(log.segments[s].second);
    new_first = end;
  }
  // Leftovers of an interrupted prune.
  DIR* d = ::opendir(dir.c_str());
  if (d != nullptr) {
    while (dirent* e = ::readdir(d)) {
      auto first = ParseSegmentFileName(e->d_name);
      if (first.ok() && *first < log.first_index) doomed.emplace_back(e->d_name);
    }
    ::closedir(d);
  }
  if (new_first > log.first_index) {
    PrunedState p;
    p.pruned_size = new_first;
    CompactRange range;
    if (log.pruned) {
      range = *CompactRange::FromParts(log.pruned->pruned_size, log.pruned->compact_range);
    }
    for (uint64_t i = log.first_index; i < new_first; ++i) {
      range.Append(log.leaf_hashes[i - log.first_index]);
    }
    p.compact_range = range.hashes();
    p.last_leaf_hash = log.leaf_hashes[new_first - 1 - log.first_index];
    const std::string tmp = JoinPath(dir, std::string(kPrunedFile) + ".tmp");
    const std::string text = FormatPrunedState(p);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return Unavailable("cannot write '" + tmp + "': " + std::strerror(errno));
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
              ::fsync(fd) == 0;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), JoinPath(dir, kPrunedFile).c_str()) != 0) {
      return Unavailable("cannot write '" + JoinPath(dir, kPrunedFile) +
                         "': " + std::strerror(errno));
    }
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }
  for (const auto& name : doomed) {
    if (::unlink(JoinPath(dir, name).c_str()) != 0 && errno != ENOENT) {
      return Unavailable("cannot delete '" + name + "': " + std::strerror(errno));
    }
  }
  return new_first - log.first_index;
}

}  // namespace perimeter::audit
