// SPDX-License-Identifier: GPL-2.0
#include "keel/archive.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <ctime>
#include <limits>
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
  gone INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (series_id, ts_ms)
) WITHOUT ROWID;
CREATE INDEX samples_ts ON samples (ts_ms);
CREATE TABLE meta (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

// Is key counter_name(c)? Compares without building the key.
bool key_matches(std::string_view key, const Counter &c) {
  auto eat = [&key](std::string_view part) {
    if (!key.starts_with(part)) return false;
    key.remove_prefix(part.size());
    return true;
  };
  if (!eat(c.group) || !eat(".")) return false;
  if (!c.queue.empty() && (!eat(c.queue) || !eat("."))) return false;
  return key == c.name;
}

// Rounds down to a multiple of step (> 0), also below zero.
int64_t align_down(int64_t t, int64_t step) {
  int64_t q = t / step;
  if (t % step != 0 && t < 0) q--;
  return q * step;
}

// a - b without overflow, saturating.
int64_t minus(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_sub_overflow(a, b, &r))
    return b > 0 ? std::numeric_limits<int64_t>::min()
                 : std::numeric_limits<int64_t>::max();
  return r;
}

int64_t ms_of(std::chrono::milliseconds d) { return d.count(); }

// A cursor's series_id after every id: the rows of its ts_ms are done.
constexpr int64_t kNoMoreIds = std::numeric_limits<int64_t>::max();

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

Result<std::optional<int64_t>> Archive::meta(const char *name) {
  auto stmt = prepare("SELECT value FROM meta WHERE name = ?1", false);
  if (!stmt) return stmt.error();
  bind_text(stmt->get(), 1, name);
  const int rc = sqlite3_step(stmt->get());
  if (rc == SQLITE_ROW)
    return std::optional<int64_t>(sqlite3_column_int64(stmt->get(), 0));
  if (rc == SQLITE_DONE) return std::optional<int64_t>();
  return error("meta");
}

Result<void> Archive::set_meta(const char *name, int64_t value) {
  sqlite3_stmt *st = set_meta_.get();
  ResetOnExit reset(st);
  bind_text(st, 1, name);
  sqlite3_bind_int64(st, 2, value);
  return run(st, "meta");
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
  version_ = *version == 0 ? kSchemaVersion : static_cast<int>(*version);
  if (config_.read_only) return {};

  const std::string limit =
      "PRAGMA journal_size_limit=" + std::to_string(kWalLimit);
  for (const char *sql : {"PRAGMA journal_mode=WAL",
                          "PRAGMA synchronous=NORMAL", limit.c_str()}) {
    auto r = exec(sql);
    if (!r) return r;
  }
  auto vacuum = query_int("PRAGMA auto_vacuum");
  if (!vacuum) return vacuum.error();
  incremental_vacuum_ = *vacuum == 2;
  auto ins_series = prepare(
      "INSERT INTO series (iface, key) VALUES (?1, ?2) "
      "ON CONFLICT DO NOTHING",
      true);
  if (!ins_series) return ins_series.error();
  auto sel_series =
      prepare("SELECT id FROM series WHERE iface = ?1 AND key = ?2", true);
  if (!sel_series) return sel_series.error();
  auto ins_meta = prepare(
      "INSERT INTO meta (name, value) VALUES (?1, ?2) "
      "ON CONFLICT DO UPDATE SET value = excluded.value",
      true);
  if (!ins_meta) return ins_meta.error();
  insert_series_ = std::move(*ins_series);
  select_series_ = std::move(*sel_series);
  set_meta_ = std::move(*ins_meta);
  if (version_ == 1) {
    auto r = upgrade_v1();
    if (!r) return r.error().with_context("upgrade from schema version 1");
  }
  auto ins_row = prepare(
      "INSERT INTO samples (series_id, ts_ms, value, gone) "
      "VALUES (?1, ?2, ?3, ?4) "
      "ON CONFLICT DO UPDATE SET value = excluded.value, gone = excluded.gone",
      true);
  if (!ins_row) return ins_row.error();
  write_row_ = std::move(*ins_row);

  auto done = meta("retention_until");
  if (!done) return done.error();
  if (*done) retention_ = Cursor{**done - 1, kNoMoreIds};
  auto loaded = load_state();
  if (!loaded) return loaded;
  return close_series();
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

// Version 1 stored every counter at every sweep: add the gone column,
// write a gone row where a series stopped appearing (at the next sweep,
// the first later time any series has), and remember the last sweep.
// One transaction; it costs two index look-ups per series.
Result<void> Archive::upgrade_v1() {
  auto txn = Txn::begin(*this);
  if (!txn) return txn.error();
  auto r =
      exec("ALTER TABLE samples ADD COLUMN gone INTEGER NOT NULL DEFAULT 0");
  if (!r) return r;
  r = exec(
      "INSERT INTO samples (series_id, ts_ms, value, gone) "
      "SELECT id, (SELECT min(ts_ms) FROM samples WHERE ts_ms > last), 0, 1 "
      "FROM (SELECT id, (SELECT max(ts_ms) FROM samples WHERE series_id = id) "
      "AS last FROM series) "
      "WHERE last < (SELECT max(ts_ms) FROM samples)");
  if (!r) return r;
  r = exec(
      "INSERT INTO meta (name, value) "
      "SELECT 'last_sweep_ms', max(ts_ms) FROM samples "
      "HAVING max(ts_ms) IS NOT NULL ON CONFLICT DO NOTHING");
  if (!r) return r;
  const std::string version =
      "PRAGMA user_version=" + std::to_string(kSchemaVersion);
  r = exec(version.c_str());
  if (!r) return r;
  r = txn->commit();
  if (!r) return r;
  version_ = kSchemaVersion;
  return {};
}

// Every series and its last row.
Result<void> Archive::load_state() {
  state_.clear();
  auto stmt = prepare(
      "SELECT r.id, r.iface, r.key, s.value, s.gone FROM series AS r "
      "LEFT JOIN samples AS s ON s.series_id = r.id AND s.ts_ms = "
      "(SELECT max(ts_ms) FROM samples WHERE series_id = r.id)",
      false);
  if (!stmt) return stmt.error();
  sqlite3_stmt *st = stmt->get();
  int rc = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    SeriesState s;
    s.id = sqlite3_column_int64(st, 0);
    s.value = column_u64(st, 3);
    s.present = sqlite3_column_type(st, 3) != SQLITE_NULL &&
                sqlite3_column_int64(st, 4) == 0;
    state_[column_text(st, 1)].series.emplace(column_text(st, 2), s);
  }
  if (rc != SQLITE_DONE) {
    state_.clear();
    return error("load series");
  }
  return {};
}

// At open: nothing is known of the time keeld did not run, so every
// series in force ends just after the last sweep.
Result<void> Archive::close_series() {
  bool any = false;
  for (const auto &[name, is] : state_)
    for (const auto &[key, s] : is.series) any = any || s.present;
  if (!any) return {};
  auto last = last_sweep();
  if (!last) return last.error();
  const int64_t end = *last == std::numeric_limits<int64_t>::min()
                          ? std::numeric_limits<int64_t>::min()
                          : *last + 1;
  auto txn = Txn::begin(*this);
  if (!txn) return txn.error();
  for (auto &[name, is] : state_) {
    for (auto &[key, s] : is.series) {
      if (!s.present) continue;
      auto r = write_row(s.id, end, 0, true);
      if (!r) return r;
    }
  }
  auto r = txn->commit();
  if (!r) return r;
  for (auto &[name, is] : state_)
    for (auto &[key, s] : is.series) s.present = false;
  return {};
}

// The time of the last sweep, or the minimum if there was none.
Result<int64_t> Archive::last_sweep() {
  if (version_ < 2) return std::numeric_limits<int64_t>::max();
  auto last = meta("last_sweep_ms");
  if (!last) return last.error();
  return last->value_or(std::numeric_limits<int64_t>::min());
}

Result<void> Archive::write_row(int64_t id, int64_t ts_ms, uint64_t value,
                                bool gone) {
  sqlite3_stmt *st = write_row_.get();
  ResetOnExit reset(st);
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_int64(st, 2, ts_ms);
  bind_u64(st, 3, value);
  sqlite3_bind_int(st, 4, gone ? 1 : 0);
  return run(st, "record sample");
}

Result<Archive::SeriesMap::iterator> Archive::add_series(
    IfaceState &is, const std::string &iface, const Counter &c) {
  std::string key = series_key(c);
  auto found = is.series.find(key);
  if (found != is.series.end()) return found;
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
  SeriesState s;
  s.id = sqlite3_column_int64(sel, 0);
  return is.series.emplace(std::move(key), s).first;
}

Result<void> Archive::record(int64_t ts_ms,
                             const std::vector<IfaceCounters> &sweep) {
  if (config_.read_only)
    return Error(EACCES, "record: the archive is open read-only");
  auto r = record_sweep(ts_ms, sweep);
  if (!r) {
    // Rolled back: what record_sweep() changed in memory is void.
    auto reloaded = load_state();
    if (!reloaded) state_.clear();
    return r.error().with_context("record");
  }
  return {};
}

Result<void> Archive::record_sweep(int64_t ts_ms,
                                   const std::vector<IfaceCounters> &sweep) {
  const uint64_t gen = ++generation_;
  auto txn = Txn::begin(*this);
  if (!txn) return txn.error();
  for (const IfaceCounters &ic : sweep) {
    auto [it, added] = state_.try_emplace(ic.link.name);
    IfaceState &is = it->second;
    std::vector<SeriesMap::iterator> order;
    order.reserve(ic.counters.size());
    for (size_t i = 0; i < ic.counters.size(); i++) {
      const Counter &c = ic.counters[i];
      SeriesMap::iterator s;
      if (i < is.order.size() && key_matches(is.order[i]->first, c)) {
        s = is.order[i];
      } else {
        auto found = add_series(is, ic.link.name, c);
        if (!found) return found.error();
        s = *found;
      }
      order.push_back(s);
      SeriesState &st = s->second;
      // A key twice in one sweep: the last value counts, as a replace.
      const bool again = st.seen == gen;
      st.seen = gen;
      if (st.present && st.value == c.value && !again) continue;
      auto r = write_row(st.id, ts_ms, c.value, false);
      if (!r) return r;
      st.present = true;
      st.value = c.value;
    }
    is.order = std::move(order);
  }
  // Series in force that this sweep does not have end here.
  for (auto &[name, is] : state_) {
    for (auto &[key, st] : is.series) {
      if (!st.present || st.seen == gen) continue;
      auto r = write_row(st.id, ts_ms, 0, true);
      if (!r) return r;
      st.present = false;
    }
  }
  auto r = set_meta("last_sweep_ms", ts_ms);
  if (!r) return r;
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

  std::vector<Sample> out;
  if (version_ < 2) {
    // As stored: a row per sweep, no gone rows.
    auto stmt = prepare(
        "SELECT ts_ms, value FROM samples WHERE series_id = ?1 "
        "AND ts_ms BETWEEN ?2 AND ?3 ORDER BY ts_ms",
        false);
    if (!stmt) return stmt.error();
    sqlite3_bind_int64(stmt->get(), 1, id);
    sqlite3_bind_int64(stmt->get(), 2, since_ms);
    sqlite3_bind_int64(stmt->get(), 3, until_ms);
    int step = 0;
    while ((step = sqlite3_step(stmt->get())) == SQLITE_ROW)
      out.push_back(Sample{sqlite3_column_int64(stmt->get(), 0),
                           column_u64(stmt->get(), 1)});
    if (step != SQLITE_DONE) return error("history");
    return out;
  }

  auto last = last_sweep();
  if (!last) return last.error();
  const int64_t end = std::min(until_ms, *last);
  if (since_ms > end) return out;
  auto at = prepare(
      "SELECT ts_ms, value, gone FROM samples WHERE series_id = ?1 "
      "AND ts_ms <= ?2 ORDER BY ts_ms DESC LIMIT 1",
      false);
  if (!at) return at.error();
  // The value in force at t, reported at t; a row stored at t as it is.
  auto in_force = [&](int64_t t) -> Result<void> {
    sqlite3_stmt *st = at->get();
    ResetOnExit reset(st);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, t);
    const int step = sqlite3_step(st);
    if (step == SQLITE_DONE) return {};
    if (step != SQLITE_ROW) return error("history");
    const bool gone = sqlite3_column_int64(st, 2) != 0;
    if (sqlite3_column_int64(st, 0) == t || !gone)
      out.push_back(Sample{t, column_u64(st, 1), gone});
    return {};
  };
  auto r = in_force(since_ms);
  if (!r) return r.error();
  if (end == since_ms) return out;
  auto stmt = prepare(
      "SELECT ts_ms, value, gone FROM samples WHERE series_id = ?1 "
      "AND ts_ms > ?2 AND ts_ms < ?3 ORDER BY ts_ms",
      false);
  if (!stmt) return stmt.error();
  sqlite3_bind_int64(stmt->get(), 1, id);
  sqlite3_bind_int64(stmt->get(), 2, since_ms);
  sqlite3_bind_int64(stmt->get(), 3, end);
  int step = 0;
  while ((step = sqlite3_step(stmt->get())) == SQLITE_ROW)
    out.push_back(Sample{sqlite3_column_int64(stmt->get(), 0),
                         column_u64(stmt->get(), 1),
                         sqlite3_column_int64(stmt->get(), 2) != 0});
  if (step != SQLITE_DONE) return error("history");
  r = in_force(end);
  if (!r) return r.error();
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
  const bool v1 = version_ < 2;
  int64_t end = filter.until_ms;
  if (!v1) {
    auto last = last_sweep();
    if (!last) return last.error();
    end = std::min(end, *last);
    if (filter.since_ms > end) return {};
  }
  Row row;
  // The value in force at t of every matching series, at t.
  auto in_force = [&](int64_t t) -> Result<void> {
    auto stmt = prepare(
        "SELECT s.ts_ms, r.iface, r.key, s.value, s.gone "
        "FROM series AS r JOIN samples AS s ON s.series_id = r.id "
        "AND s.ts_ms = (SELECT max(ts_ms) FROM samples "
        "WHERE series_id = r.id AND ts_ms <= ?3) "
        "WHERE (?1 = '' OR r.iface = ?1) "
        "AND (?2 = '' OR substr(r.key, 1, length(?2)) = ?2) "
        "ORDER BY r.iface, r.key",
        false);
    if (!stmt) return stmt.error();
    sqlite3_stmt *st = stmt->get();
    bind_text(st, 1, filter.iface);
    bind_text(st, 2, filter.key_prefix);
    sqlite3_bind_int64(st, 3, t);
    int rc = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      const bool gone = sqlite3_column_int64(st, 4) != 0;
      if (sqlite3_column_int64(st, 0) != t && gone) continue;
      row.ts_ms = t;
      row.iface = column_text(st, 1);
      row.key = column_text(st, 2);
      row.value = column_u64(st, 3);
      row.gone = gone;
      fn(row);
    }
    if (rc != SQLITE_DONE) return error("export");
    return {};
  };
  if (!v1) {
    auto r = in_force(filter.since_ms);
    if (!r) return r;
    if (end == filter.since_ms) return {};
  }
  auto stmt =
      prepare(v1 ? "SELECT s.ts_ms, r.iface, r.key, s.value, 0 "
                   "FROM samples AS s JOIN series AS r ON r.id = s.series_id "
                   "WHERE (?1 = '' OR r.iface = ?1) "
                   "AND (?2 = '' OR substr(r.key, 1, length(?2)) = ?2) "
                   "AND s.ts_ms BETWEEN ?3 AND ?4 "
                   "ORDER BY s.ts_ms, r.iface, r.key"
                 : "SELECT s.ts_ms, r.iface, r.key, s.value, s.gone "
                   "FROM samples AS s JOIN series AS r ON r.id = s.series_id "
                   "WHERE (?1 = '' OR r.iface = ?1) "
                   "AND (?2 = '' OR substr(r.key, 1, length(?2)) = ?2) "
                   "AND s.ts_ms > ?3 AND s.ts_ms < ?4 "
                   "ORDER BY s.ts_ms, r.iface, r.key",
              false);
  if (!stmt) return stmt.error();
  sqlite3_stmt *st = stmt->get();
  bind_text(st, 1, filter.iface);
  bind_text(st, 2, filter.key_prefix);
  sqlite3_bind_int64(st, 3, filter.since_ms);
  sqlite3_bind_int64(st, 4, end);
  int rc = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    row.ts_ms = sqlite3_column_int64(st, 0);
    row.iface = column_text(st, 1);
    row.key = column_text(st, 2);
    row.value = column_u64(st, 3);
    row.gone = sqlite3_column_int64(st, 4) != 0;
    fn(row);
  }
  if (rc != SQLITE_DONE) return error("export");
  if (v1) return {};
  return in_force(end);
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

// Maintenance.

Result<MaintainStats> Archive::maintain(int64_t now_ms, uint64_t budget) {
  if (config_.read_only)
    return Error(EACCES, "maintain: the archive is open read-only");
  MaintainStats st;
  auto before = used_bytes();
  if (!before) return before.error().with_context("maintain");
  st.bytes_before = *before;
  Budget b{std::max<uint64_t>(budget, 2), 0, 0};
  {
    auto txn = Txn::begin(*this);
    if (!txn) return txn.error().with_context("maintain");
    auto r = maintain_step(now_ms, b, st);
    if (r) r = txn->commit();
    if (!r) {
      // Rolled back: start the passes again, from what is stored.
      retention_ = Cursor{};
      downsampling_ = Cursor{};
      downsample_target_ = std::numeric_limits<int64_t>::min();
      retention_idle_ = false;
      auto reloaded = load_state();
      if (!reloaded) state_.clear();
      return r.error().with_context("maintain");
    }
  }
  st.examined = b.examined;
  if (incremental_vacuum_) {
    auto free_before = query_int("PRAGMA freelist_count");
    if (!free_before) return free_before.error().with_context("maintain");
    if (*free_before > 0) {
      const std::string sql =
          "PRAGMA incremental_vacuum(" + std::to_string(kVacuumPages) + ")";
      auto r = exec(sql.c_str());
      if (!r) return r.error().with_context("maintain");
      auto free_after = query_int("PRAGMA freelist_count");
      if (!free_after) return free_after.error().with_context("maintain");
      st.vacuumed = static_cast<uint64_t>(*free_before - *free_after);
      st.more = st.more || *free_after > 0;
    }
  }
  pass_changed_ = pass_changed_ || b.changed != 0 || st.vacuumed != 0;
  auto after = used_bytes();
  if (!after) return after.error().with_context("maintain");
  st.bytes_after = *after;
  if (*after > config_.max_bytes && retention_idle_) {
    // Over the cap with the pass done: move the cutoff on if it can.
    auto moved = advance_size_cutoff();
    if (!moved) return moved.error().with_context("size cap");
    st.more = st.more || *moved;
  }
  if (!st.more && pass_changed_) {
    // The pass is done: the checkpoint copies what the WAL still holds
    // (SQLite's automatic checkpoints keep that bounded) and truncates
    // the file.
    auto r = checkpoint(SQLITE_CHECKPOINT_PASSIVE);
    if (!r) return r.error().with_context("maintain");
    pass_changed_ = false;
  }
  return st;
}

Result<void> Archive::maintain_step(int64_t now_ms, Budget &budget,
                                    MaintainStats &st) {
  const int64_t step_ms = std::max<int64_t>(ms_of(config_.step), 1);
  const int64_t retention_cutoff =
      align_down(minus(now_ms, ms_of(config_.retention)), step_ms);
  auto r = retain(retention_cutoff, budget, st);
  if (!r) return r.error().with_context("retention");
  r = downsample(now_ms, budget, st);
  if (!r) return r.error().with_context("downsample");
  st.more = !retention_idle_ ||
            downsample_target_ != std::numeric_limits<int64_t>::min();
  return {};
}

// Deletes the rows before the cutoff (the retention's or the size cap's,
// the later) except each series' value in force there. In (ts_ms,
// series_id) order from the cursor, a row deletes its series' previous
// row (all earlier ones are gone already: at most one, the value that was
// in force), and itself if it is a gone row; a series left without rows
// goes.
Result<void> Archive::retain(int64_t retention_cutoff, Budget &budget,
                             MaintainStats &st) {
  const int64_t cutoff = std::max(retention_cutoff, size_cutoff_);
  cutoff_ = cutoff;
  retention_idle_ = false;
  if (budget.examined >= budget.rows || budget.changed + 2 > budget.rows)
    return {};
  auto sel = prepare(
      "SELECT series_id, ts_ms, gone FROM samples "
      "WHERE ts_ms >= ?1 AND ts_ms < ?3 AND (ts_ms > ?1 OR series_id > ?2) "
      "ORDER BY ts_ms, series_id LIMIT ?4",
      false);
  if (!sel) return sel.error();
  auto del_prev = prepare(
      "DELETE FROM samples WHERE series_id = ?1 AND ts_ms = "
      "(SELECT max(ts_ms) FROM samples WHERE series_id = ?1 AND ts_ms < ?2)",
      false);
  if (!del_prev) return del_prev.error();
  auto del_row =
      prepare("DELETE FROM samples WHERE series_id = ?1 AND ts_ms = ?2", false);
  if (!del_row) return del_row.error();
  auto del_series = prepare(
      "DELETE FROM series WHERE id = ?1 AND NOT EXISTS "
      "(SELECT 1 FROM samples WHERE series_id = ?1)",
      false);
  if (!del_series) return del_series.error();

  const uint64_t want = budget.rows - budget.examined;
  sqlite3_stmt *s = sel->get();
  sqlite3_bind_int64(s, 1, retention_.ts_ms);
  sqlite3_bind_int64(s, 2, retention_.series_id);
  sqlite3_bind_int64(s, 3, cutoff);
  sqlite3_bind_int64(s, 4, static_cast<int64_t>(want));
  struct Item {
    int64_t id, ts;
    bool gone;
  };
  std::vector<Item> items;
  int rc = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    items.push_back(Item{sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1),
                         sqlite3_column_int64(s, 2) != 0});
  if (rc != SQLITE_DONE) return error("select old rows");

  std::vector<int64_t> removed;
  size_t done = 0;
  for (const Item &it : items) {
    if (budget.changed + 2 > budget.rows) break;
    uint64_t deleted = 0;
    {
      ResetOnExit reset(del_prev->get());
      sqlite3_bind_int64(del_prev->get(), 1, it.id);
      sqlite3_bind_int64(del_prev->get(), 2, it.ts);
      auto r = run(del_prev->get(), "delete old rows");
      if (!r) return r;
      deleted += static_cast<uint64_t>(sqlite3_changes64(db_.get()));
    }
    if (it.gone) {
      {
        ResetOnExit reset(del_row->get());
        sqlite3_bind_int64(del_row->get(), 1, it.id);
        sqlite3_bind_int64(del_row->get(), 2, it.ts);
        auto r = run(del_row->get(), "delete old rows");
        if (!r) return r;
        deleted += static_cast<uint64_t>(sqlite3_changes64(db_.get()));
      }
      ResetOnExit reset(del_series->get());
      sqlite3_bind_int64(del_series->get(), 1, it.id);
      auto r = run(del_series->get(), "remove series");
      if (!r) return r;
      if (sqlite3_changes64(db_.get()) > 0) removed.push_back(it.id);
    }
    budget.examined++;
    budget.changed += deleted;
    (it.ts < retention_cutoff ? st.expired : st.dropped_size) += deleted;
    retention_ = Cursor{it.ts, it.id};
    done++;
  }
  if (!removed.empty()) {
    st.series_removed += removed.size();
    forget_series(removed);
  }
  if (done == items.size() && items.size() < want) {
    // Caught up with the cutoff: remember it, for the next open.
    retention_idle_ = true;
    auto r = set_meta("retention_until", cutoff);
    if (!r) return r;
  }
  return {};
}

// Keeps the last row per series per step-aligned bucket of the rows
// older than now - raw_for, in passes from downsampled_until.
Result<void> Archive::downsample(int64_t now_ms, Budget &budget,
                                 MaintainStats &st) {
  constexpr int64_t kNone = std::numeric_limits<int64_t>::min();
  const int64_t step_ms = std::max<int64_t>(ms_of(config_.step), 1);
  if (downsample_target_ == kNone) {
    const int64_t cutoff =
        align_down(minus(now_ms, ms_of(config_.raw_for)), step_ms);
    auto from = meta("downsampled_until");
    if (!from) return from.error();
    const int64_t start = from->value_or(kNone);
    if (cutoff <= start) return {};
    downsample_target_ = cutoff;
    downsampling_ = Cursor{start == kNone ? kNone : start - 1, kNoMoreIds};
  }
  // Retention first: what it deletes needs no downsampling.
  if (!retention_idle_ || budget.examined >= budget.rows ||
      budget.changed + 1 > budget.rows)
    return {};
  auto sel = prepare(
      "SELECT series_id, ts_ms FROM samples "
      "WHERE ts_ms >= ?1 AND ts_ms < ?3 AND (ts_ms > ?1 OR series_id > ?2) "
      "ORDER BY ts_ms, series_id LIMIT ?4",
      false);
  if (!sel) return sel.error();
  // A row goes when a later row of its series shares its bucket.
  auto del = prepare(
      "DELETE FROM samples WHERE series_id = ?1 AND ts_ms = ?2 AND EXISTS "
      "(SELECT 1 FROM samples WHERE series_id = ?1 AND ts_ms > ?2 "
      "AND ts_ms < ?3)",
      false);
  if (!del) return del.error();
  const uint64_t want = budget.rows - budget.examined;
  sqlite3_stmt *s = sel->get();
  sqlite3_bind_int64(s, 1, downsampling_.ts_ms);
  sqlite3_bind_int64(s, 2, downsampling_.series_id);
  sqlite3_bind_int64(s, 3, downsample_target_);
  sqlite3_bind_int64(s, 4, static_cast<int64_t>(want));
  std::vector<Cursor> items;
  int rc = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    items.push_back(
        Cursor{sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 0)});
  if (rc != SQLITE_DONE) return error("select raw rows");
  size_t done = 0;
  for (const Cursor &it : items) {
    if (budget.changed + 1 > budget.rows) break;
    ResetOnExit reset(del->get());
    sqlite3_bind_int64(del->get(), 1, it.series_id);
    sqlite3_bind_int64(del->get(), 2, it.ts_ms);
    sqlite3_bind_int64(del->get(), 3, align_down(it.ts_ms, step_ms) + step_ms);
    auto r = run(del->get(), "downsample");
    if (!r) return r;
    const auto deleted = static_cast<uint64_t>(sqlite3_changes64(db_.get()));
    budget.examined++;
    budget.changed += deleted;
    st.downsampled += deleted;
    downsampling_ = it;
    done++;
  }
  if (done == items.size() && items.size() < want) {
    auto r = set_meta("downsampled_until", downsample_target_);
    if (!r) return r;
    downsample_target_ = kNone;
  }
  return {};
}

// The size cap: the cutoff moves from where it is towards the last sweep
// by the share of the pages in use that is too much (and a little more,
// as pages do not empty linearly), at least a step. False if it cannot
// move (an archive whose values in force alone exceed the cap).
Result<bool> Archive::advance_size_cutoff() {
  const int64_t step_ms = std::max<int64_t>(ms_of(config_.step), 1);
  auto used = used_bytes();
  if (!used) return used.error();
  auto oldest = query_int("SELECT min(ts_ms) FROM samples");
  if (!oldest) return oldest.error();
  auto newest = query_int("SELECT max(ts_ms) FROM samples");
  if (!newest) return newest.error();
  const int64_t from = std::max(cutoff_, align_down(*oldest, step_ms));
  const int64_t last = align_down(*newest, step_ms);
  if (from >= last || *used <= config_.max_bytes) return false;
  const double share = static_cast<double>(*used - config_.max_bytes) /
                           static_cast<double>(*used) +
                       0.02;
  const double span =
      (static_cast<double>(last) - static_cast<double>(from)) * share;
  const int64_t by =
      span >= static_cast<double>(last) - static_cast<double>(from)
          ? last - from
          : std::max(step_ms, align_down(static_cast<int64_t>(span), step_ms));
  size_cutoff_ = std::min(last, from + by);
  retention_idle_ = false;
  return true;
}

void Archive::forget_series(const std::vector<int64_t> &ids) {
  for (auto it = state_.begin(); it != state_.end();) {
    IfaceState &is = it->second;
    for (auto s = is.series.begin(); s != is.series.end();) {
      if (std::find(ids.begin(), ids.end(), s->second.id) != ids.end()) {
        is.order.clear();  // it may point there
        s = is.series.erase(s);
      } else {
        ++s;
      }
    }
    it = is.series.empty() ? state_.erase(it) : std::next(it);
  }
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
         csv_field(row.key) + "," +
         (row.gone ? std::string() : std::to_string(row.value));
}

std::string to_json(const Row &row) {
  const nlohmann::ordered_json j{
      {"ts_ms", row.ts_ms},
      {"iface", row.iface},
      {"key", row.key},
      {"value", row.gone ? nlohmann::ordered_json(nullptr)
                         : nlohmann::ordered_json(row.value)}};
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
