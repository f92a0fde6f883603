// SPDX-License-Identifier: GPL-2.0
#include "keel/archive.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>
#include <sqlite3.h>

namespace keel {

namespace {

// SQLite result code -> errno, see archive.h.
int errno_of(int rc, int system_errno) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return EBUSY;
    case SQLITE_NOMEM:
      return ENOMEM;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return EACCES;
    case SQLITE_FULL:
      return ENOSPC;
    case SQLITE_CANTOPEN:
      return system_errno != 0 ? system_errno : ENOENT;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return EBADMSG;
    default:
      return EIO;
  }
}

// The key of a counter in the archive; the same text as counter_name()
// of json.h (tested), without depending on the daemon library.
std::string series_key(const Counter &c) {
  std::string key = c.group;
  key += '.';
  if (!c.queue.empty()) {
    key += c.queue;
    key += '.';
  }
  key += c.name;
  return key;
}

// Resets a cached statement when the scope ends, whatever happened.
class ResetOnExit {
 public:
  explicit ResetOnExit(sqlite3_stmt *stmt) : stmt_(stmt) {}
  ResetOnExit(const ResetOnExit &) = delete;
  ResetOnExit &operator=(const ResetOnExit &) = delete;
  ResetOnExit(ResetOnExit &&) = delete;
  ResetOnExit &operator=(ResetOnExit &&) = delete;
  ~ResetOnExit() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

 private:
  sqlite3_stmt *stmt_;
};

// Text is bound without a copy (SQLITE_STATIC, i.e. a null destructor):
// every caller steps the statement while the string is alive.
int bind_text(sqlite3_stmt *stmt, int i, std::string_view text) {
  return sqlite3_bind_text(stmt, i, text.data(), static_cast<int>(text.size()),
                           nullptr);
}

int bind_u64(sqlite3_stmt *stmt, int i, uint64_t v) {
  // Bit for bit: C++20 defines the conversion modulo 2^64.
  return sqlite3_bind_int64(stmt, i, static_cast<sqlite3_int64>(v));
}

std::string column_text(sqlite3_stmt *stmt, int i) {
  const auto *p = sqlite3_column_text(stmt, i);
  if (p == nullptr) return {};
  return {reinterpret_cast<const char *>(p),
          static_cast<size_t>(sqlite3_column_bytes(stmt, i))};
}

uint64_t column_u64(sqlite3_stmt *stmt, int i) {
  return static_cast<uint64_t>(sqlite3_column_int64(stmt, i));
}

constexpr const char *kSchema = R"sql(
CREATE TABLE series (
  id INTEGER PRIMARY KEY,
  iface TEXT NOT NULL,
  key TEXT NOT NULL,
  UNIQUE (iface, key)
);
CREATE TABLE samples (
  series_id INTEGER NOT NULL,
  ts_ms INTEGER NOT NULL,
  value INTEGER NOT NULL,
  PRIMARY KEY (series_id, ts_ms)
) WITHOUT ROWID;
CREATE INDEX samples_ts ON samples (ts_ms);
CREATE TABLE meta (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

}  // namespace

void Archive::DbClose::operator()(sqlite3 *db) const noexcept {
  sqlite3_close_v2(db);
}

void Archive::StmtFinalize::operator()(sqlite3_stmt *stmt) const noexcept {
  sqlite3_finalize(stmt);
}

// BEGIN IMMEDIATE ... COMMIT; rolls back unless committed.
class Archive::Txn {
 public:
  static Result<Txn> begin(Archive &a) {
    auto r = a.exec("BEGIN IMMEDIATE");
    if (!r) return r.error();
    return Txn(a);
  }
  Txn(Txn &&other) noexcept
      : archive_(other.archive_), open_(std::exchange(other.open_, false)) {}
  Txn(const Txn &) = delete;
  Txn &operator=(const Txn &) = delete;
  Txn &operator=(Txn &&) = delete;
  ~Txn() {
    if (open_) (void)archive_.exec("ROLLBACK");
  }

  // A COMMIT that fails (SQLITE_BUSY) leaves the transaction open; the
  // destructor then rolls it back.
  Result<void> commit() {
    auto r = archive_.exec("COMMIT");
    if (r) open_ = false;
    return r;
  }

 private:
  explicit Txn(Archive &a) : archive_(a) {}
  Archive &archive_;
  bool open_ = true;
};

Error Archive::error(std::string_view what) const {
  const int rc = sqlite3_extended_errcode(db_.get());
  return Error(errno_of(rc, sqlite3_system_errno(db_.get())),
               std::string(what) + ": " + sqlite3_errmsg(db_.get()));
}

Result<void> Archive::exec(const char *sql) {
  if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr) != SQLITE_OK)
    return error(sql);
  return {};
}

Result<Archive::Stmt> Archive::prepare(std::string_view sql, bool persistent) {
  sqlite3_stmt *raw = nullptr;
  const int rc = sqlite3_prepare_v3(
      db_.get(), sql.data(), static_cast<int>(sql.size()),
      persistent ? SQLITE_PREPARE_PERSISTENT : 0, &raw, nullptr);
  Stmt stmt(raw);
  if (rc != SQLITE_OK) return error("prepare");
  return stmt;
}

Result<int64_t> Archive::query_int(const char *sql) {
  auto stmt = prepare(sql, false);
  if (!stmt) return stmt.error();
  const int rc = sqlite3_step(stmt->get());
  if (rc == SQLITE_ROW) return sqlite3_column_int64(stmt->get(), 0);
  if (rc == SQLITE_DONE) return int64_t{0};
  return error(sql);
}

Result<void> Archive::run(sqlite3_stmt *stmt, std::string_view what) {
  int rc = 0;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) return error(what);
  return {};
}

Archive::Archive(Token /*token*/, ArchiveConfig config)
    : config_(std::move(config)) {}

Archive::~Archive() = default;

Result<std::unique_ptr<Archive>> Archive::open(const ArchiveConfig &config) {
  auto archive = std::make_unique<Archive>(Token{}, config);
  const int flags =
      (config.read_only ? SQLITE_OPEN_READONLY
                        : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
      SQLITE_OPEN_NOMUTEX;
  sqlite3 *raw = nullptr;
  const int rc = sqlite3_open_v2(config.path.c_str(), &raw, flags, nullptr);
  archive->db_.reset(raw);  // closed on every path, even a failed open
  const std::string what = "open archive " + config.path;
  if (rc != SQLITE_OK) {
    if (raw == nullptr) return Error(ENOMEM, what + ": out of memory");
    return archive->error(what);
  }
  auto setup = archive->setup();
  if (!setup) return setup.error().with_context(what);
  return archive;
}

Result<void> Archive::setup() {
  sqlite3_extended_result_codes(db_.get(), 1);
  sqlite3_busy_timeout(db_.get(),
                       static_cast<int>(config_.busy_timeout.count()));
  // The first read of the file: a file that is not SQLite fails here.
  auto version = query_int("PRAGMA user_version");
  if (!version) return version.error();
  if (*version > kSchemaVersion)
    return Error(ENOTSUP, "schema version " + std::to_string(*version) +
                              " is newer than this keeld supports (" +
                              std::to_string(kSchemaVersion) + ")");
  if (*version == 0) {
    auto tables = query_int("SELECT count(*) FROM sqlite_schema");
    if (!tables) return tables.error();
    if (*tables != 0)
      return Error(EBADMSG, "an SQLite database but not a keel archive");
    if (config_.read_only) return Error(ENOENT, "the archive is empty");
    auto created = create_schema();
    if (!created) return created;
  }
  if (!config_.read_only) {
    const std::string limit =
        "PRAGMA journal_size_limit=" + std::to_string(kWalLimit);
    for (const char *sql : {"PRAGMA journal_mode=WAL",
                            "PRAGMA synchronous=NORMAL", limit.c_str()}) {
      auto r = exec(sql);
      if (!r) return r;
    }
  }
  auto ins_series = prepare(
      "INSERT INTO series (iface, key) VALUES (?1, ?2) "
      "ON CONFLICT DO NOTHING",
      true);
  if (!ins_series) return ins_series.error();
  auto sel_series =
      prepare("SELECT id FROM series WHERE iface = ?1 AND key = ?2", true);
  if (!sel_series) return sel_series.error();
  auto ins_sample = prepare(
      "INSERT INTO samples (series_id, ts_ms, value) VALUES (?1, ?2, ?3) "
      "ON CONFLICT DO UPDATE SET value = excluded.value",
      true);
  if (!ins_sample) return ins_sample.error();
  insert_series_ = std::move(*ins_series);
  select_series_ = std::move(*sel_series);
  insert_sample_ = std::move(*ins_sample);
  return {};
}

Result<void> Archive::create_schema() {
  // auto_vacuum only takes effect before the first table exists.
  auto r = exec("PRAGMA auto_vacuum=INCREMENTAL");
  if (!r) return r;
  r = exec("PRAGMA journal_mode=WAL");
  if (!r) return r;
  auto txn = Txn::begin(*this);
  if (!txn) return txn.error();
  r = exec(kSchema);
  if (!r) return r;
  const std::string version =
      "PRAGMA user_version=" + std::to_string(kSchemaVersion);
  r = exec(version.c_str());
  if (!r) return r;
  return txn->commit();
}

Result<int64_t> Archive::series_id(const std::string &iface,
                                   const std::string &key) {
  auto cached = ids_.find({iface, key});
  if (cached != ids_.end()) return cached->second;
  {
    sqlite3_stmt *ins = insert_series_.get();
    ResetOnExit reset(ins);
    bind_text(ins, 1, iface);
    bind_text(ins, 2, key);
    auto r = run(ins, "add series");
    if (!r) return r.error();
  }
  sqlite3_stmt *sel = select_series_.get();
  ResetOnExit reset(sel);
  bind_text(sel, 1, iface);
  bind_text(sel, 2, key);
  if (sqlite3_step(sel) != SQLITE_ROW) return error("look up series");
  const int64_t id = sqlite3_column_int64(sel, 0);
  ids_.emplace(std::make_pair(iface, key), id);
  return id;
}

Result<void> Archive::record(int64_t ts_ms,
                             const std::vector<IfaceCounters> &sweep) {
  auto r = record_sweep(ts_ms, sweep);
  if (!r) {
    // Rolled back: ids of series created in the transaction are void.
    ids_.clear();
    return r.error().with_context("record");
  }
  return {};
}

Result<void> Archive::record_sweep(int64_t ts_ms,
                                   const std::vector<IfaceCounters> &sweep) {
  auto txn = Txn::begin(*this);
  if (!txn) return txn.error();
  sqlite3_stmt *ins = insert_sample_.get();
  for (const IfaceCounters &ic : sweep) {
    for (const Counter &c : ic.counters) {
      auto id = series_id(ic.link.name, series_key(c));
      if (!id) return id.error();
      ResetOnExit reset(ins);
      sqlite3_bind_int64(ins, 1, *id);
      sqlite3_bind_int64(ins, 2, ts_ms);
      bind_u64(ins, 3, c.value);
      auto r = run(ins, "record sample");
      if (!r) return r;
    }
  }
  return txn->commit();
}

Result<std::vector<Sample>> Archive::history(const std::string &ifname,
                                             const std::string &key,
                                             int64_t since_ms,
                                             int64_t until_ms) {
  auto sel =
      prepare("SELECT id FROM series WHERE iface = ?1 AND key = ?2", false);
  if (!sel) return sel.error();
  bind_text(sel->get(), 1, ifname);
  bind_text(sel->get(), 2, key);
  const int rc = sqlite3_step(sel->get());
  if (rc == SQLITE_DONE)
    return Error(ENOENT, "the archive has no counter " + key + " of " + ifname);
  if (rc != SQLITE_ROW) return error("history");
  const int64_t id = sqlite3_column_int64(sel->get(), 0);

  auto stmt = prepare(
      "SELECT ts_ms, value FROM samples WHERE series_id = ?1 "
      "AND ts_ms BETWEEN ?2 AND ?3 ORDER BY ts_ms",
      false);
  if (!stmt) return stmt.error();
  sqlite3_bind_int64(stmt->get(), 1, id);
  sqlite3_bind_int64(stmt->get(), 2, since_ms);
  sqlite3_bind_int64(stmt->get(), 3, until_ms);
  std::vector<Sample> out;
  int step = 0;
  while ((step = sqlite3_step(stmt->get())) == SQLITE_ROW)
    out.push_back(Sample{sqlite3_column_int64(stmt->get(), 0),
                         column_u64(stmt->get(), 1)});
  if (step != SQLITE_DONE) return error("history");
  return out;
}

Result<std::vector<std::string>> Archive::keys(const std::string &ifname) {
  auto stmt =
      prepare("SELECT key FROM series WHERE iface = ?1 ORDER BY key", false);
  if (!stmt) return stmt.error();
  bind_text(stmt->get(), 1, ifname);
  std::vector<std::string> out;
  int rc = 0;
  while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW)
    out.push_back(column_text(stmt->get(), 0));
  if (rc != SQLITE_DONE) return error("keys");
  return out;
}

Result<std::vector<std::string>> Archive::interfaces() {
  auto stmt =
      prepare("SELECT DISTINCT iface FROM series ORDER BY iface", false);
  if (!stmt) return stmt.error();
  std::vector<std::string> out;
  int rc = 0;
  while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW)
    out.push_back(column_text(stmt->get(), 0));
  if (rc != SQLITE_DONE) return error("interfaces");
  return out;
}

Result<void> Archive::export_rows(const ExportFilter &filter,
                                  const std::function<void(const Row &)> &fn) {
  auto stmt = prepare(
      "SELECT s.ts_ms, r.iface, r.key, s.value "
      "FROM samples AS s JOIN series AS r ON r.id = s.series_id "
      "WHERE (?1 = '' OR r.iface = ?1) "
      "AND (?2 = '' OR substr(r.key, 1, length(?2)) = ?2) "
      "AND s.ts_ms BETWEEN ?3 AND ?4 "
      "ORDER BY s.ts_ms, r.iface, r.key",
      false);
  if (!stmt) return stmt.error();
  sqlite3_stmt *st = stmt->get();
  bind_text(st, 1, filter.iface);
  bind_text(st, 2, filter.key_prefix);
  sqlite3_bind_int64(st, 3, filter.since_ms);
  sqlite3_bind_int64(st, 4, filter.until_ms);
  Row row;
  int rc = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    row.ts_ms = sqlite3_column_int64(st, 0);
    row.iface = column_text(st, 1);
    row.key = column_text(st, 2);
    row.value = column_u64(st, 3);
    fn(row);
  }
  if (rc != SQLITE_DONE) return error("export");
  return {};
}

Result<uint64_t> Archive::used_bytes() {
  auto pages = query_int("PRAGMA page_count");
  if (!pages) return pages.error();
  auto free_pages = query_int("PRAGMA freelist_count");
  if (!free_pages) return free_pages.error();
  auto size = query_int("PRAGMA page_size");
  if (!size) return size.error();
  return static_cast<uint64_t>(std::max<int64_t>(*pages - *free_pages, 0) *
                               *size);
}

Result<uint64_t> Archive::file_bytes() {
  auto pages = query_int("PRAGMA page_count");
  if (!pages) return pages.error();
  auto size = query_int("PRAGMA page_size");
  if (!size) return size.error();
  return static_cast<uint64_t>(*pages * *size);
}

Result<uint64_t> Archive::delete_older(sqlite3_stmt *stmt, int64_t cutoff) {
  sqlite3_bind_int64(stmt, 1, cutoff);
  auto r = run(stmt, "delete samples");
  if (!r) return r.error();
  return static_cast<uint64_t>(sqlite3_changes64(db_.get()));
}

Result<uint64_t> Archive::downsample(int64_t now_ms) {
  const int64_t step_ms = std::max<int64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(config_.step)
          .count(),
      1);
  const int64_t raw_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(config_.raw_for)
          .count();
  const int64_t cutoff = (now_ms - raw_ms) / step_ms * step_ms;
  auto done =
      query_int("SELECT value FROM meta WHERE name = 'downsampled_until'");
  if (!done) return done.error();
  const int64_t from = *done;
  if (cutoff <= from) return uint64_t{0};
  // Within [from, cutoff) every bucket is whole (both are multiples of
  // the step); a sample goes when a later one of its series shares its
  // bucket.
  auto stmt = prepare(
      "DELETE FROM samples WHERE ts_ms >= ?1 AND ts_ms < ?2 AND EXISTS ("
      "SELECT 1 FROM samples AS later "
      "WHERE later.series_id = samples.series_id "
      "AND later.ts_ms > samples.ts_ms "
      "AND later.ts_ms < (samples.ts_ms / ?3 + 1) * ?3)",
      false);
  if (!stmt) return stmt.error();
  sqlite3_bind_int64(stmt->get(), 1, from);
  sqlite3_bind_int64(stmt->get(), 2, cutoff);
  sqlite3_bind_int64(stmt->get(), 3, step_ms);
  auto r = run(stmt->get(), "downsample");
  if (!r) return r.error();
  const auto merged = static_cast<uint64_t>(sqlite3_changes64(db_.get()));
  auto mark = prepare(
      "INSERT INTO meta (name, value) VALUES ('downsampled_until', ?1) "
      "ON CONFLICT DO UPDATE SET value = excluded.value",
      false);
  if (!mark) return mark.error();
  sqlite3_bind_int64(mark->get(), 1, cutoff);
  r = run(mark->get(), "downsample");
  if (!r) return r.error();
  return merged;
}

Result<uint64_t> Archive::enforce_size() {
  auto stmt = prepare(
      "DELETE FROM samples WHERE ts_ms <= "
      "(SELECT ts_ms FROM samples ORDER BY ts_ms LIMIT 1 OFFSET ?1)",
      false);
  if (!stmt) return stmt.error();
  uint64_t dropped = 0;
  // Each round deletes the oldest share of the rows that the excess
  // suggests, and a little more since pages do not empty linearly.
  for (int round = 0; round < 100; round++) {
    auto used = used_bytes();
    if (!used) return used.error();
    if (*used <= config_.max_bytes) break;
    auto rows = query_int("SELECT count(*) FROM samples");
    if (!rows) return rows.error();
    if (*rows == 0) break;
    const double share = static_cast<double>(*used - config_.max_bytes) /
                             static_cast<double>(*used) +
                         0.02;
    const auto n = std::clamp<int64_t>(
        static_cast<int64_t>(static_cast<double>(*rows) * share), 0, *rows - 1);
    ResetOnExit reset(stmt->get());
    sqlite3_bind_int64(stmt->get(), 1, n);
    auto r = run(stmt->get(), "delete for the size cap");
    if (!r) return r.error();
    dropped += static_cast<uint64_t>(sqlite3_changes64(db_.get()));
  }
  return dropped;
}

Result<MaintainStats> Archive::maintain(int64_t now_ms) {
  MaintainStats st;
  auto before = used_bytes();
  if (!before) return before.error().with_context("maintain");
  st.bytes_before = *before;
  {
    auto txn = Txn::begin(*this);
    if (!txn) return txn.error().with_context("maintain");
    auto del = prepare("DELETE FROM samples WHERE ts_ms < ?1", false);
    if (!del) return del.error().with_context("maintain");
    const int64_t retention_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(config_.retention)
            .count();
    auto expired = delete_older(del->get(), now_ms - retention_ms);
    if (!expired) return expired.error().with_context("retention");
    st.expired = *expired;
    auto merged = downsample(now_ms);
    if (!merged) return merged.error().with_context("downsample");
    st.downsampled = *merged;
    auto dropped = enforce_size();
    if (!dropped) return dropped.error().with_context("size cap");
    st.dropped_size = *dropped;
    auto orphans = exec(
        "DELETE FROM series WHERE NOT EXISTS "
        "(SELECT 1 FROM samples WHERE series_id = series.id)");
    if (!orphans) return orphans.error().with_context("maintain");
    st.series_removed = static_cast<uint64_t>(sqlite3_changes64(db_.get()));
    auto r = txn->commit();
    ids_.clear();  // series may be gone
    if (!r) return r.error().with_context("maintain");
  }
  if (st.expired + st.downsampled + st.dropped_size != 0) {
    // Give the freed pages back; the checkpoint truncates the file.
    auto r = exec("PRAGMA incremental_vacuum");
    if (!r) return r.error().with_context("maintain");
    r = checkpoint(SQLITE_CHECKPOINT_PASSIVE);
    if (!r) return r.error().with_context("maintain");
  }
  auto after = used_bytes();
  if (!after) return after.error().with_context("maintain");
  st.bytes_after = *after;
  return st;
}

Result<void> Archive::checkpoint(int mode) {
  if (sqlite3_wal_checkpoint_v2(db_.get(), nullptr, mode, nullptr, nullptr) !=
      SQLITE_OK)
    return error("checkpoint " + config_.path);
  return {};
}

Result<void> Archive::flush() { return checkpoint(SQLITE_CHECKPOINT_TRUNCATE); }

Result<std::string> Archive::integrity_check() {
  auto stmt = prepare("PRAGMA integrity_check", false);
  if (!stmt) return stmt.error();
  std::string out;
  int rc = 0;
  while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
    if (!out.empty()) out += '\n';
    out += column_text(stmt->get(), 0);
  }
  if (rc != SQLITE_DONE) return error("integrity check");
  return out;
}

// Times for --since and --until.

namespace {

std::optional<int64_t> number(std::string_view s) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty())
    return std::nullopt;
  return v;
}

std::optional<int64_t> utc_time(std::string_view s) {
  if (!s.empty() && s.back() == 'Z') s.remove_suffix(1);
  // YYYY-MM-DDTHH:MM:SS
  if (s.size() != 19 || s[4] != '-' || s[7] != '-' ||
      (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  const auto year = number(s.substr(0, 4));
  const auto mon = number(s.substr(5, 2));
  const auto day = number(s.substr(8, 2));
  const auto hour = number(s.substr(11, 2));
  const auto min = number(s.substr(14, 2));
  const auto sec = number(s.substr(17, 2));
  if (!year || !mon || !day || !hour || !min || !sec || *mon < 1 || *mon > 12 ||
      *day < 1 || *day > 31 || *hour > 23 || *min > 59 || *sec > 60)
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = static_cast<int>(*year - 1900);
  tm.tm_mon = static_cast<int>(*mon - 1);
  tm.tm_mday = static_cast<int>(*day);
  tm.tm_hour = static_cast<int>(*hour);
  tm.tm_min = static_cast<int>(*min);
  tm.tm_sec = static_cast<int>(*sec);
  const time_t t = ::timegm(&tm);
  if (t == static_cast<time_t>(-1)) return std::nullopt;
  return int64_t{t} * 1000;
}

}  // namespace

Result<int64_t> parse_time(std::string_view spec, int64_t now_ms) {
  if (spec == "now") return now_ms;
  if (auto ms = number(spec); ms && *ms >= 0) return *ms;
  if (auto t = utc_time(spec)) return *t;
  if (spec.size() >= 2) {
    static constexpr std::array<std::pair<char, int64_t>, 5> kUnits{
        {{'s', 1000},
         {'m', 60'000},
         {'h', 3'600'000},
         {'d', 86'400'000},
         {'w', 604'800'000}}};
    const auto n = number(spec.substr(0, spec.size() - 1));
    for (const auto &[unit, ms] : kUnits)
      if (n && *n >= 0 && spec.back() == unit &&
          *n <= std::numeric_limits<int64_t>::max() / ms)
        return now_ms - *n * ms;
  }
  return Error(EINVAL, "bad time '" + std::string(spec) +
                           "' (15m, 2h, 7d, now, 2026-12-02T16:00:00Z or "
                           "epoch ms)");
}

// Export formats.

Result<ExportFormat> parse_export_format(std::string_view name) {
  if (name == "csv") return ExportFormat::kCsv;
  if (name == "json") return ExportFormat::kJsonArray;
  if (name == "jsonl" || name == "ndjson") return ExportFormat::kJsonLines;
  return Error(EINVAL, "unknown export format '" + std::string(name) +
                           "' (csv, json, jsonl)");
}

namespace {

std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos)
    return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace

std::string csv_header() { return "ts_ms,iface,key,value"; }

std::string to_csv(const Row &row) {
  return std::to_string(row.ts_ms) + "," + csv_field(row.iface) + "," +
         csv_field(row.key) + "," + std::to_string(row.value);
}

std::string to_json(const Row &row) {
  const nlohmann::ordered_json j{{"ts_ms", row.ts_ms},
                                 {"iface", row.iface},
                                 {"key", row.key},
                                 {"value", row.value}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ExportWriter::ExportWriter(ExportFormat format, Sink sink)
    : format_(format), sink_(std::move(sink)) {}

void ExportWriter::begin() {
  first_ = true;
  if (format_ == ExportFormat::kCsv) sink_(csv_header() + "\n");
  if (format_ == ExportFormat::kJsonArray) sink_("[\n");
}

void ExportWriter::row(const Row &row) {
  switch (format_) {
    case ExportFormat::kCsv:
      sink_(to_csv(row) + "\n");
      break;
    case ExportFormat::kJsonLines:
      sink_(to_json(row) + "\n");
      break;
    case ExportFormat::kJsonArray:
      // The separator goes with the next row, so end() needs no lookback.
      sink_((first_ ? "" : ",\n") + to_json(row));
      break;
  }
  first_ = false;
}

void ExportWriter::end() {
  if (format_ == ExportFormat::kJsonArray) sink_(first_ ? "]\n" : "\n]\n");
}

}  // namespace keel
