// SPDX-License-Identifier: GPL-2.0
//
// keel::Archive: keeld's telemetry archive, an SQLite database holding
// every counter of every interface over time, a row per change.
//
// Schema (user_version 2):
//   series(id INTEGER PRIMARY KEY, iface TEXT, key TEXT, UNIQUE(iface, key))
//       key is keel::counter_name(): "group.name" or "group.queue.name"
//   samples(series_id, ts_ms, value, gone, PRIMARY KEY(series_id, ts_ms))
//       WITHOUT ROWID, plus an index on ts_ms for retention and export
//   meta(name TEXT PRIMARY KEY, value INTEGER)   bookkeeping: last_sweep_ms
//       (the time of the last record()), retention_until, downsampled_until
// Values are uint64 counters stored bit for bit in SQLite's signed 64-bit
// INTEGER and read back the same way. A counter that goes down (driver
// reload, device reset) is stored as it came: consumers handle resets
// the way Prometheus' rate() does.
//
// Change-only storage: a samples row (gone = 0) says "from ts_ms on the
// value was value"; record() writes one only when a series' value differs
// from its last row (the first sample of a series is always written). A
// row with gone = 1 (value 0) says "from ts_ms on the series was not
// seen": record() writes it at the first sweep that misses a series
// (interface removed, counter gone). Opening the archive read-write
// writes such a row at last_sweep_ms + 1 for every series still in force,
// since nothing is known of the time keeld was not running. Each series'
// last value lives in memory (loaded at open), so record() reads nothing.
// 1,000 idle interfaces of 30 counters cost a meta row update per sweep;
// archive_test measures the growth.
//
// Reading: history() and export_rows() describe, for a window [since,
// until], the step function "value in force at T" up to end = min(until,
// last_sweep_ms) (nothing is known past the last sweep): a row at ts_ms =
// since with the value in force at since (the last row at or before it,
// unless that is a gone row), every stored row with since < ts_ms < end
// (gone rows included), and a row at ts_ms = end with the value in force
// at end. A row stored exactly at since or end is reported as it is
// (gone or not). since > end gives nothing; since == end one row at most.
//
// Version 1 (a row per counter per sweep, no gone column) is upgraded in
// place by a read-write open: the column is added, gone rows are written
// where a series stopped appearing, its old rows stay (retention and
// downsampling thin them). A read-only open of a version 1 file reads the
// rows as they are, in [since, until], without the rows at since and end.
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
// maintain(now, budget) does one bounded step of the policy of
// ArchiveConfig and says whether more remains (MaintainStats::more); the
// caller calls it again, between sweeps, until it does not. A step reads
// at most budget sample rows, deletes at most budget rows, returns at
// most kVacuumPages pages to the file system and is one transaction.
// Cutoffs are rounded down to a multiple of step.
//   - retention: rows older than the cutoff now - retention are deleted,
//     except the value in force at the cutoff (a series' last value row
//     before it stays at its own time, so an idle counter keeps its
//     value); a series left without rows is removed;
//   - downsampling: rows older than now - raw_for are reduced to the
//     last row per series per step-aligned bucket (the value in force at
//     the bucket's end, at its own timestamp);
//   - size: while the database's pages in use exceed max_bytes the
//     cutoff moves past the retention one, towards the last sweep, and
//     the same deletion runs (values in force are kept: an archive whose
//     current values alone exceed max_bytes stays above it); then
//     incremental_vacuum and, when a pass is done, a passive WAL
//     checkpoint shrink the file.
//     The WAL itself is bounded by SQLite's automatic checkpoints and is
//     not counted.
// Progress lives in memory (cursors over (ts_ms, series_id)) and in meta
// (retention_until, downsampled_until) once a pass is complete.
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
#include <optional>
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
  // The series was not seen from ts_ms on (value 0); see the top.
  bool gone = false;

  friend bool operator==(const Sample &, const Sample &) = default;
};

// One sample of one series, as exported.
struct Row {
  int64_t ts_ms = 0;
  std::string iface;
  std::string key;  // "group[.queue].name"
  uint64_t value = 0;
  bool gone = false;  // as in Sample

  friend bool operator==(const Row &, const Row &) = default;
};

// What export_rows() returns. Empty strings match everything.
struct ExportFilter {
  std::string iface;       // exact interface name
  std::string key_prefix;  // "link." or "queue.rx-0." or a whole key
  int64_t since_ms = 0;    // inclusive
  int64_t until_ms = std::numeric_limits<int64_t>::max();  // inclusive
};

// What one maintain() step did.
struct MaintainStats {
  uint64_t examined = 0;      // sample rows read (at most the budget)
  uint64_t expired = 0;       // rows older than the retention
  uint64_t downsampled = 0;   // raw rows merged into their bucket's last
  uint64_t dropped_size = 0;  // rows deleted for the size cap
  uint64_t series_removed = 0;
  uint64_t vacuumed = 0;      // pages given back to the file system
  uint64_t bytes_before = 0;  // pages in use, before and after
  uint64_t bytes_after = 0;
  bool more = false;  // call maintain() again
};

class Archive {
  struct Token {
    explicit Token() = default;
  };

 public:
  static constexpr int kSchemaVersion = 2;
  static constexpr uint64_t kWalLimit = uint64_t{16} * 1024 * 1024;
  // Rows one maintain() step reads and deletes at most, by default.
  static constexpr uint64_t kMaintainBudget = 2048;
  // Pages one maintain() step returns to the file system at most.
  static constexpr int64_t kVacuumPages = 256;

  // Open or create the archive (the directory must exist).
  static Result<std::unique_ptr<Archive>> open(const ArchiveConfig &config);

  Archive(Token, ArchiveConfig config);
  Archive(const Archive &) = delete;
  Archive &operator=(const Archive &) = delete;
  Archive(Archive &&) = delete;
  Archive &operator=(Archive &&) = delete;
  ~Archive();

  // Store one sweep in one transaction: the series whose value changed,
  // new series, and a gone row for every series in force that the sweep
  // does not have. A row at a ts_ms the series already has is replaced.
  // Read-only archives refuse (EACCES).
  Result<void> record(int64_t ts_ms, const std::vector<IfaceCounters> &sweep);

  // The rows of one series in the window [since_ms, until_ms] as the top
  // describes them, oldest first; ENOENT if the archive has no such
  // series.
  Result<std::vector<Sample>> history(
      const std::string &ifname, const std::string &key, int64_t since_ms = 0,
      int64_t until_ms = std::numeric_limits<int64_t>::max());
  // The counter keys of an interface, sorted (empty if unknown).
  Result<std::vector<std::string>> keys(const std::string &ifname);
  // Every interface the archive has data of, sorted.
  Result<std::vector<std::string>> interfaces();

  // Call fn for every matching row (the window as for history()), ordered
  // by ts_ms, iface, key. fn must not call back into this Archive.
  Result<void> export_rows(const ExportFilter &filter,
                           const std::function<void(const Row &)> &fn);

  // One bounded step of retention, downsampling and the size cap (see
  // the top); budget > 0. Call again while the result's more is set.
  Result<MaintainStats> maintain(int64_t now_ms,
                                 uint64_t budget = kMaintainBudget);

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

  // What record() knows of a series: its id and its last row.
  struct SeriesState {
    int64_t id = 0;
    uint64_t value = 0;
    bool present = false;  // the last row is a value, not a gone row
    uint64_t seen = 0;     // the record() that last saw it
  };
  using SeriesMap = std::map<std::string, SeriesState, std::less<>>;
  struct IfaceState {
    SeriesMap series;  // by key
    // The last sweep's counters in their order: a sweep usually lists
    // them the same way, so record() compares instead of looking up.
    std::vector<SeriesMap::iterator> order;
  };
  // A position in (ts_ms, series_id) order.
  struct Cursor {
    int64_t ts_ms = std::numeric_limits<int64_t>::min();
    int64_t series_id = std::numeric_limits<int64_t>::min();
  };
  // One maintenance phase's budget, shared by the phases of a step.
  struct Budget {
    uint64_t rows = 0;
    uint64_t examined = 0;
    uint64_t changed = 0;
  };

  Result<void> setup();
  Result<void> checkpoint(int mode);
  Result<void> create_schema();
  Result<void> upgrade_v1();
  Result<void> load_state();
  Result<void> close_series();
  Result<void> exec(const char *sql);
  Result<Stmt> prepare(std::string_view sql, bool persistent);
  Result<int64_t> query_int(const char *sql);
  Result<std::optional<int64_t>> meta(const char *name);
  Result<void> set_meta(const char *name, int64_t value);
  Result<void> record_sweep(int64_t ts_ms,
                            const std::vector<IfaceCounters> &sweep);
  Result<SeriesMap::iterator> add_series(IfaceState &is,
                                         const std::string &iface,
                                         const Counter &c);
  Result<void> write_row(int64_t id, int64_t ts_ms, uint64_t value, bool gone);
  Result<void> run(sqlite3_stmt *stmt, std::string_view what);
  [[nodiscard]] Error error(std::string_view what) const;
  Result<int64_t> last_sweep();
  Result<void> maintain_step(int64_t now_ms, Budget &budget, MaintainStats &st);
  Result<void> retain(int64_t retention_cutoff, Budget &budget,
                      MaintainStats &st);
  Result<void> downsample(int64_t now_ms, Budget &budget, MaintainStats &st);
  Result<bool> advance_size_cutoff();
  void forget_series(const std::vector<int64_t> &ids);

  ArchiveConfig config_;
  int version_ = kSchemaVersion;  // of the file (1: read-only, as it is)
  // Destroyed last: the statements below are finalized before it closes.
  Db db_;
  Stmt insert_series_;
  Stmt select_series_;
  Stmt write_row_;
  Stmt set_meta_;
  // record()'s view of every series, by interface name; rebuilt from the
  // database when a transaction fails.
  std::map<std::string, IfaceState, std::less<>> state_;
  uint64_t generation_ = 0;  // record() calls
  // Maintenance progress: rows before retention_ (rows < cutoff_ts_ of
  // the pass done) have been thinned to the value in force.
  Cursor retention_;
  int64_t cutoff_ = std::numeric_limits<int64_t>::min();  // the last pass's
  int64_t size_cutoff_ = std::numeric_limits<int64_t>::min();
  bool retention_idle_ = false;
  Cursor downsampling_;
  int64_t downsample_target_ = std::numeric_limits<int64_t>::min();
  bool incremental_vacuum_ = false;
  bool pass_changed_ = false;  // checkpoint when the pass is done
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
// per row; fields with ',', '"', CR or LF are quoted; a gone row has an
// empty value. No trailing newline.
std::string csv_header();
std::string to_csv(const Row &row);
// {"ts_ms":1,"iface":"eth0","key":"link.rx_packets","value":2}, a gone
// row "value":null; bytes that are not UTF-8 become U+FFFD.
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
