// SPDX-License-Identifier: GPL-2.0
//
// keel::Archive: keeld's telemetry archive, an SQLite database holding
// every counter of every interface over time.
//
// Schema (user_version 1):
//   series(id INTEGER PRIMARY KEY, iface TEXT, key TEXT, UNIQUE(iface, key))
//       key is keel::counter_name(): "group.name" or "group.queue.name"
//   samples(series_id, ts_ms, value, PRIMARY KEY(series_id, ts_ms))
//       WITHOUT ROWID, plus an index on ts_ms for retention and export
//   meta(name TEXT PRIMARY KEY, value INTEGER)   bookkeeping (downsampling)
// Values are uint64 counters stored bit for bit in SQLite's signed 64-bit
// INTEGER and read back the same way. A counter that goes down (driver
// reload, device reset) is stored as it came: consumers handle resets
// the way Prometheus' rate() does.
//
// Durability: journal_mode=WAL with synchronous=NORMAL; each record() is
// one transaction, so a crash (even SIGKILL in the middle of a write)
// loses at most the sweep in flight and the file opens intact. flush()
// checkpoints the WAL into the main file and truncates it (SIGTERM); it
// may wait up to busy_timeout for readers. Nothing else waits on
// readers: record() is never blocked by them in WAL mode, and maintain()
// checkpoints passively. After a checkpoint the WAL file is cut back to
// kWalLimit bytes (journal_size_limit).
// auto_vacuum=INCREMENTAL is set when the file is created, so maintain()
// can give freed pages back to the file system.
//
// maintain(now) applies the policy of ArchiveConfig:
//   - retention: samples older than now - retention are deleted;
//   - downsampling: raw samples older than now - raw_for are reduced to
//     one sample per series per step-aligned bucket, the last one (the
//     counters are monotonic, so the last value is the bucket's value;
//     it keeps its own timestamp);
//   - size: if the database's pages in use exceed max_bytes, the oldest
//     samples are deleted until they do not, then incremental_vacuum
//     and a passive WAL checkpoint shrink the file. The WAL itself is
//     bounded by SQLite's automatic checkpoints and is not counted.
// Series left without samples are removed.
//
// Errors: Result with the sqlite3_errmsg() text. errno mapping: busy or
// locked EBUSY, no memory ENOMEM, read-only/permission EACCES, disk full
// ENOSPC, cannot open ENOENT (or the OS errno), corrupt or not a
// database EBADMSG, a newer schema than this build knows ENOTSUP,
// anything else EIO.
//
// Ownership: an Archive owns its sqlite3 connection and its cached
// prepared statements (std::unique_ptr with sqlite deleters); nothing
// leaves this module. Threading: one thread at a time (the connection is
// opened with SQLITE_OPEN_NOMUTEX). Other processes (keelctl) may open
// the same file read-only at the same time; WAL lets them read while
// keeld writes.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keel/nic.h"
#include "keel/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace keel {

struct ArchiveConfig {
  std::string path;
  // Samples older than this are deleted.
  std::chrono::seconds retention{std::chrono::hours(24 * 7)};
  // Upper bound of the database's pages in use (the WAL not counted).
  uint64_t max_bytes = uint64_t{256} * 1024 * 1024;
  // Raw samples older than this are downsampled ...
  std::chrono::seconds raw_for{std::chrono::hours(1)};
  // ... to one sample per series per step.
  std::chrono::seconds step{60};
  // Open an existing archive for reading only (keelctl); never creates.
  bool read_only = false;
  // How long a statement waits for another process' lock.
  std::chrono::milliseconds busy_timeout{5000};
};

struct Sample {
  int64_t ts_ms = 0;  // wall clock, ms since the epoch
  uint64_t value = 0;

  friend bool operator==(const Sample &, const Sample &) = default;
};

// One sample of one series, as exported.
struct Row {
  int64_t ts_ms = 0;
  std::string iface;
  std::string key;  // "group[.queue].name"
  uint64_t value = 0;

  friend bool operator==(const Row &, const Row &) = default;
};

// What export_rows() returns. Empty strings match everything.
struct ExportFilter {
  std::string iface;       // exact interface name
  std::string key_prefix;  // "link." or "queue.rx-0." or a whole key
  int64_t since_ms = 0;    // inclusive
  int64_t until_ms = std::numeric_limits<int64_t>::max();  // inclusive
};

struct MaintainStats {
  uint64_t expired = 0;       // samples older than the retention
  uint64_t downsampled = 0;   // raw samples merged into their bucket's last
  uint64_t dropped_size = 0;  // samples deleted for the size cap
  uint64_t series_removed = 0;
  uint64_t bytes_before = 0;  // pages in use, before and after
  uint64_t bytes_after = 0;
};

class Archive {
  struct Token {
    explicit Token() = default;
  };

 public:
  static constexpr int kSchemaVersion = 1;
  static constexpr uint64_t kWalLimit = uint64_t{16} * 1024 * 1024;

  // Open or create the archive (the directory must exist).
  static Result<std::unique_ptr<Archive>> open(const ArchiveConfig &config);

  Archive(Token, ArchiveConfig config);
  Archive(const Archive &) = delete;
  Archive &operator=(const Archive &) = delete;
  Archive(Archive &&) = delete;
  Archive &operator=(Archive &&) = delete;
  ~Archive();

  // Store one sweep in one transaction. A sample at a ts_ms the series
  // already has replaces it.
  Result<void> record(int64_t ts_ms, const std::vector<IfaceCounters> &sweep);

  // The samples of one series with since_ms <= ts_ms <= until_ms, oldest
  // first; ENOENT if the archive has no such series.
  Result<std::vector<Sample>> history(
      const std::string &ifname, const std::string &key, int64_t since_ms = 0,
      int64_t until_ms = std::numeric_limits<int64_t>::max());
  // The counter keys of an interface, sorted (empty if unknown).
  Result<std::vector<std::string>> keys(const std::string &ifname);
  // Every interface the archive has data of, sorted.
  Result<std::vector<std::string>> interfaces();

  // Call fn for every matching row, ordered by ts_ms, iface, key. fn must
  // not call back into this Archive.
  Result<void> export_rows(const ExportFilter &filter,
                           const std::function<void(const Row &)> &fn);

  // Apply retention, downsampling and the size cap (see the top).
  Result<MaintainStats> maintain(int64_t now_ms);

  // Checkpoint the WAL into the database file and truncate it.
  Result<void> flush();

  // Bytes of the pages in use ((page_count - freelist_count) * page_size)
  // and of the whole database (page_count * page_size).
  Result<uint64_t> used_bytes();
  Result<uint64_t> file_bytes();

  // PRAGMA integrity_check: "ok", or the problems it found.
  Result<std::string> integrity_check();

  [[nodiscard]] const ArchiveConfig &config() const noexcept { return config_; }

 private:
  struct DbClose {
    void operator()(sqlite3 *db) const noexcept;
  };
  struct StmtFinalize {
    void operator()(sqlite3_stmt *stmt) const noexcept;
  };
  using Db = std::unique_ptr<sqlite3, DbClose>;
  using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalize>;
  class Txn;

  Result<void> setup();
  Result<void> checkpoint(int mode);
  Result<void> create_schema();
  Result<void> exec(const char *sql);
  Result<Stmt> prepare(std::string_view sql, bool persistent);
  Result<int64_t> query_int(const char *sql);
  Result<void> record_sweep(int64_t ts_ms,
                            const std::vector<IfaceCounters> &sweep);
  Result<int64_t> series_id(const std::string &iface, const std::string &key);
  Result<void> run(sqlite3_stmt *stmt, std::string_view what);
  [[nodiscard]] Error error(std::string_view what) const;
  Result<uint64_t> delete_older(sqlite3_stmt *stmt, int64_t cutoff);
  Result<uint64_t> downsample(int64_t now_ms);
  Result<uint64_t> enforce_size();

  ArchiveConfig config_;
  // Destroyed last: the statements below are finalized before it closes.
  Db db_;
  Stmt insert_series_;
  Stmt select_series_;
  Stmt insert_sample_;
  // (iface, key) -> series id, for record(); cleared when series go.
  std::map<std::pair<std::string, std::string>, int64_t> ids_;
};

// A point in time for keelctl's --since and --until, in epoch ms:
//   "15m", "90s", "2h", "7d", "1w"   that long before now_ms
//   "now"                             now_ms
//   "2026-12-02T16:00:00Z"            RFC 3339, UTC only ('T' or ' ',
//                                     the 'Z' optional)
//   "1764691200000"                   epoch milliseconds
// Anything else is EINVAL.
Result<int64_t> parse_time(std::string_view spec, int64_t now_ms);

// Export formats of keelctl export.
enum class ExportFormat { kCsv, kJsonLines, kJsonArray };

// "csv", "json" (an array) or "jsonl"/"ndjson" (one object per line).
Result<ExportFormat> parse_export_format(std::string_view name);

// CSV (RFC 4180): the header line "ts_ms,iface,key,value" and one line
// per row; fields with ',', '"', CR or LF are quoted. No trailing newline.
std::string csv_header();
std::string to_csv(const Row &row);
// {"ts_ms":1,"iface":"eth0","key":"link.rx_packets","value":2}; bytes
// that are not UTF-8 become U+FFFD.
std::string to_json(const Row &row);

// Streams rows in one of the formats to a sink: begin(), row() for each
// row, end(); the pieces given to the sink, concatenated, are the whole
// output, which ends with a newline. kJsonArray writes one JSON array
// with a row per line.
class ExportWriter {
 public:
  using Sink = std::function<void(std::string_view)>;
  ExportWriter(ExportFormat format, Sink sink);

  void begin();
  void row(const Row &row);
  void end();

 private:
  ExportFormat format_;
  Sink sink_;
  bool first_ = true;
};

}  // namespace keel
