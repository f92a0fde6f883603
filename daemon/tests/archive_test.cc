// SPDX-License-Identifier: GPL-2.0
//
// Tests of keel::Archive: round trips, export formats, retention,
// downsampling, the size cap, reopening, crash safety (a writer killed
// with SIGKILL) and bad files. No privilege needed; every test works in
// its own temporary directory.
#include "keel/archive.h"

#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sqlite3.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "keel/json.h"
#include "temp_dir.h"

namespace keel {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

constexpr int64_t kT0 = 1'699'999'980'000;  // epoch ms, a whole minute
constexpr int64_t kMinute = 60'000;

Counter counter(std::string group, std::string name, uint64_t value,
                std::string queue = "") {
  return Counter{std::move(group), std::move(name), std::move(queue), value};
}

IfaceCounters iface(const std::string &name, std::vector<Counter> counters) {
  IfaceCounters ic;
  ic.link.name = name;
  ic.counters = std::move(counters);
  return ic;
}

// A sweep of two interfaces; the values grow with n.
std::vector<IfaceCounters> sweep(uint64_t n) {
  return {iface("eth0", {counter("link", "rx_packets", 10 * n),
                         counter("link", "tx_packets", 20 * n),
                         counter("queue", "rx-packets", n, "rx-0")}),
          iface("eth1", {counter("link", "rx_packets", 100 + n)})};
}

ArchiveConfig config_for(const std::string &path) {
  ArchiveConfig c;
  c.path = path;
  return c;
}

std::unique_ptr<Archive> open_ok(const ArchiveConfig &c) {
  auto a = Archive::open(c);
  EXPECT_TRUE(a.has_value()) << (a ? "" : a.error().str());
  if (!a) return nullptr;
  return std::move(*a);
}

TEST(Archive, RecordHistoryRoundTrip) {
  TempDir dir;
  auto a = open_ok(config_for(dir.file("a.db")));
  ASSERT_NE(a, nullptr);
  for (uint64_t n = 1; n <= 5; n++)
    ASSERT_TRUE(a->record(kT0 + static_cast<int64_t>(n) * 1000, sweep(n)));

  auto h = a->history("eth0", "link.rx_packets");
  ASSERT_TRUE(h) << h.error().str();
  ASSERT_EQ(h->size(), 5U);
  EXPECT_EQ((*h)[0], (Sample{kT0 + 1000, 10}));
  EXPECT_EQ((*h)[4], (Sample{kT0 + 5000, 50}));

  auto range =
      a->history("eth0", "queue.rx-0.rx-packets", kT0 + 2000, kT0 + 3000);
  ASSERT_TRUE(range);
  EXPECT_EQ(*range, (std::vector<Sample>{{kT0 + 2000, 2}, {kT0 + 3000, 3}}));

  auto missing = a->history("eth0", "link.no_such");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().errnum(), ENOENT);
  auto empty = a->history("eth0", "link.rx_packets", kT0 + 9000);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(Archive, KeysMatchCounterName) {
  const Counter plain = counter("link", "rx_packets", 1);
  const Counter queued = counter("queue", "rx-packets", 1, "rx-3");
  TempDir dir;
  auto a = open_ok(config_for(dir.file("a.db")));
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->record(kT0, {iface("eth0", {plain, queued})}));
  auto keys = a->keys("eth0");
  ASSERT_TRUE(keys);
  EXPECT_EQ(*keys, (std::vector<std::string>{counter_name(plain),
                                             counter_name(queued)}));
}

TEST(Archive, KeysAndInterfaces) {
  TempDir dir;
  auto a = open_ok(config_for(dir.file("a.db")));
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->record(kT0, sweep(1)));
  auto ifs = a->interfaces();
  ASSERT_TRUE(ifs);
  EXPECT_EQ(*ifs, (std::vector<std::string>{"eth0", "eth1"}));
  auto keys = a->keys("eth0");
  ASSERT_TRUE(keys);
  EXPECT_EQ(*keys,
            (std::vector<std::string>{"link.rx_packets", "link.tx_packets",
                                      "queue.rx-0.rx-packets"}));
  auto none = a->keys("eth9");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(Archive, LargeValuesAndResetsStoredAsIs) {
  TempDir dir;
  auto a = open_ok(config_for(dir.file("a.db")));
  ASSERT_NE(a, nullptr);
  const uint64_t big = ~uint64_t{0} - 5;
  ASSERT_TRUE(a->record(kT0, {iface("eth0", {counter("link", "x", big)})}));
  // A driver reload: the counter starts again from a small value.
  ASSERT_TRUE(a->record(kT0 + 1, {iface("eth0", {counter("link", "x", 3)})}));
  auto h = a->history("eth0", "link.x");
  ASSERT_TRUE(h);
  EXPECT_EQ(*h, (std::vector<Sample>{{kT0, big}, {kT0 + 1, 3}}));
}

TEST(Archive, ExportFilterAndOrder) {
  TempDir dir;
  auto a = open_ok(config_for(dir.file("a.db")));
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->record(kT0, sweep(1)));
  ASSERT_TRUE(a->record(kT0 + 1000, sweep(2)));

  std::vector<Row> rows;
  auto collect = [&rows](const Row &r) { rows.push_back(r); };
  ASSERT_TRUE(a->export_rows(ExportFilter{}, collect));
  ASSERT_EQ(rows.size(), 8U);
  EXPECT_EQ(rows[0], (Row{kT0, "eth0", "link.rx_packets", 10}));
  EXPECT_EQ(rows[3], (Row{kT0, "eth1", "link.rx_packets", 101}));
  EXPECT_EQ(rows[4].ts_ms, kT0 + 1000);

  rows.clear();
  ExportFilter f;
  f.iface = "eth0";
  f.key_prefix = "link.";
  f.since_ms = kT0 + 1;
  ASSERT_TRUE(a->export_rows(f, collect));
  // The values in force at since come first, at since.
  EXPECT_EQ(rows,
            (std::vector<Row>{{kT0 + 1, "eth0", "link.rx_packets", 10},
                              {kT0 + 1, "eth0", "link.tx_packets", 20},
                              {kT0 + 1000, "eth0", "link.rx_packets", 20},
                              {kT0 + 1000, "eth0", "link.tx_packets", 40}}));
}

TEST(ExportFormat, Csv) {
  EXPECT_EQ(csv_header(), "ts_ms,iface,key,value");
  EXPECT_EQ(to_csv(Row{5, "eth0", "link.rx_packets", 7}),
            "5,eth0,link.rx_packets,7");
  // Interface names may hold ',' and '"'; driver counter names anything.
  EXPECT_EQ(to_csv(Row{5, "a,b", "driver.say \"hi\"", 18446744073709551615U}),
            "5,\"a,b\",\"driver.say \"\"hi\"\"\",18446744073709551615");
  EXPECT_EQ(to_csv(Row{5, "eth0", "link.x", 0, true}), "5,eth0,link.x,");
}

TEST(ExportFormat, Json) {
  EXPECT_EQ(to_json(Row{5, "eth0", "link.rx_packets", 7}),
            R"({"ts_ms":5,"iface":"eth0","key":"link.rx_packets","value":7})");
  // Not UTF-8: replaced, still valid JSON.
  const auto j = nlohmann::json::parse(to_json(Row{1, "e\xff", "k", 1}));
  EXPECT_EQ(j["iface"], "e\xef\xbf\xbd");
  EXPECT_EQ(to_json(Row{5, "eth0", "k", 0, true}),
            R"({"ts_ms":5,"iface":"eth0","key":"k","value":null})");
}

std::string write_all(ExportFormat format, const std::vector<Row> &rows) {
  std::string out;
  ExportWriter w(format, [&out](std::string_view s) { out += s; });
  w.begin();
  for (const Row &r : rows) w.row(r);
  w.end();
  return out;
}

TEST(ExportFormat, Writer) {
  const std::vector<Row> rows{{1, "eth0", "link.a", 2},
                              {3, "eth1", "link.b", 4}};
  EXPECT_EQ(write_all(ExportFormat::kCsv, rows),
            "ts_ms,iface,key,value\n1,eth0,link.a,2\n3,eth1,link.b,4\n");
  const std::string lines = write_all(ExportFormat::kJsonLines, rows);
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 2);
  const auto arr =
      nlohmann::json::parse(write_all(ExportFormat::kJsonArray, rows));
  ASSERT_TRUE(arr.is_array());
  ASSERT_EQ(arr.size(), 2U);
  EXPECT_EQ(arr[1]["value"], 4);
  EXPECT_EQ(write_all(ExportFormat::kJsonArray, {}), "[\n]\n");

  ASSERT_TRUE(parse_export_format("csv"));
  EXPECT_EQ(*parse_export_format("json"), ExportFormat::kJsonArray);
  EXPECT_EQ(*parse_export_format("jsonl"), ExportFormat::kJsonLines);
  EXPECT_FALSE(parse_export_format("xml"));
}

TEST(ParseTime, Forms) {
  const int64_t now = kT0;
  EXPECT_EQ(*parse_time("now", now), now);
  EXPECT_EQ(*parse_time("90s", now), now - 90'000);
  EXPECT_EQ(*parse_time("15m", now), now - 15 * kMinute);
  EXPECT_EQ(*parse_time("2h", now), now - 120 * kMinute);
  EXPECT_EQ(*parse_time("7d", now), now - int64_t{7} * 24 * 60 * kMinute);
  EXPECT_EQ(*parse_time("1w", now), now - int64_t{7} * 24 * 60 * kMinute);
  EXPECT_EQ(*parse_time("1764691200000", now), 1764691200000);
  EXPECT_EQ(*parse_time("2025-12-02T16:00:00Z", now), 1764691200000);
  EXPECT_EQ(*parse_time("2025-12-02 16:00:00", now), 1764691200000);
  for (const char *bad :
       {"", "m", "-5m", "5y", "yesterday", "2025-13-02T00:00:00Z",
        "2025-12-02T16:00Z", "99999999999999999999s"}) {
    auto r = parse_time(bad, now);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().errnum(), EINVAL);
    }
  }
}

// maintain() in steps until it has nothing more to do; the sums.
struct Maintained {
  MaintainStats sum;
  int steps = 0;
  bool within_budget = true;  // every step read and deleted <= budget
  std::chrono::microseconds slowest{0};
};

Maintained maintain_all(Archive &a, int64_t now,
                        uint64_t budget = Archive::kMaintainBudget) {
  Maintained m;
  for (;;) {
    const auto start = std::chrono::steady_clock::now();
    auto st = a.maintain(now, budget);
    m.slowest = std::max(m.slowest,
                         std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::steady_clock::now() - start));
    EXPECT_TRUE(st) << (st ? "" : st.error().str());
    if (!st) break;
    m.steps++;
    const uint64_t deleted = st->expired + st->downsampled + st->dropped_size;
    if (st->examined > budget || deleted > budget) m.within_budget = false;
    m.sum.examined += st->examined;
    m.sum.expired += st->expired;
    m.sum.downsampled += st->downsampled;
    m.sum.dropped_size += st->dropped_size;
    m.sum.series_removed += st->series_removed;
    m.sum.vacuumed += st->vacuumed;
    if (m.steps == 1) m.sum.bytes_before = st->bytes_before;
    m.sum.bytes_after = st->bytes_after;
    if (!st->more) break;
    if (m.steps > 100000) {
      ADD_FAILURE() << "maintain() does not converge";
      break;
    }
  }
  return m;
}

// Runs one statement on the file with plain SQLite, behind Archive's back.
void poke(const std::string &path, const char *sql) {
  sqlite3 *raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  const std::unique_ptr<sqlite3, int (*)(sqlite3 *)> db(raw, sqlite3_close);
  ASSERT_EQ(sqlite3_exec(raw, sql, nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(raw);
}

// A number from the file, with plain SQLite behind Archive's back.
int64_t query(const std::string &path, const char *sql) {
  sqlite3 *raw = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  const std::unique_ptr<sqlite3, int (*)(sqlite3 *)> db(raw, sqlite3_close);
  sqlite3_stmt *st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(raw, sql, -1, &st, nullptr), SQLITE_OK)
      << sqlite3_errmsg(raw);
  const std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt *)> stmt(
      st, sqlite3_finalize);
  EXPECT_EQ(sqlite3_step(st), SQLITE_ROW) << sqlite3_errmsg(raw);
  return sqlite3_column_int64(st, 0);
}

TEST(Archive, UnchangedValuesNotStored) {
  TempDir dir;
  const auto c = config_for(dir.file("a.db"));
  auto a = open_ok(c);
  ASSERT_NE(a, nullptr);
  for (uint64_t n = 0; n < 100; n++)
    ASSERT_TRUE(a->record(kT0 + static_cast<int64_t>(n) * 1000,
                          {iface("eth0", {counter("link", "idle", 7),
                                          counter("link", "busy", n / 10)})}));
  // idle once, busy at each of its 10 changes.
  EXPECT_EQ(query(c.path, "SELECT count(*) FROM samples"), 11);
  auto h = a->history("eth0", "link.idle");
  ASSERT_TRUE(h);
  // Stored once, in force until the last sweep.
  EXPECT_EQ(*h, (std::vector<Sample>{{kT0, 7}, {kT0 + 99'000, 7}}));
  auto busy = a->history("eth0", "link.busy", kT0 + 15'000, kT0 + 30'000);
  ASSERT_TRUE(busy);
  EXPECT_EQ(*busy,
            (std::vector<Sample>{
                {kT0 + 15'000, 1}, {kT0 + 20'000, 2}, {kT0 + 30'000, 3}}));
}

TEST(Archive, ValueInForceAtWindowStart) {
  TempDir dir;
  auto a = open_ok(config_for(dir.file("a.db")));
  ASSERT_NE(a, nullptr);
  for (int64_t s = 0; s <= 20; s++)
    ASSERT_TRUE(a->record(kT0 + s * 1000,
                          {iface("eth0", {counter("link", "x", s <= 10 ? 5 : 7),
                                          counter("link", "y", 1)})}));
  // Changed at 11 s: the window [5 s, 15 s] starts with 5, at 5 s.
  auto h = a->history("eth0", "link.x", kT0 + 5000, kT0 + 15'000);
  ASSERT_TRUE(h);
  EXPECT_EQ(*h, (std::vector<Sample>{
                    {kT0 + 5000, 5}, {kT0 + 11'000, 7}, {kT0 + 15'000, 7}}));
  // A window without a change: its two ends.
  auto quiet = a->history("eth0", "link.x", kT0 + 2000, kT0 + 3000);
  ASSERT_TRUE(quiet);
  EXPECT_EQ(*quiet, (std::vector<Sample>{{kT0 + 2000, 5}, {kT0 + 3000, 5}}));
  // One point in time.
  auto at = a->history("eth0", "link.y", kT0 + 4000, kT0 + 4000);
  ASSERT_TRUE(at);
  EXPECT_EQ(*at, (std::vector<Sample>{{kT0 + 4000, 1}}));
  // Before the first sample nothing was in force.
  auto early = a->history("eth0", "link.x", kT0 - 5000, kT0 + 1000);
  ASSERT_TRUE(early);
  EXPECT_EQ(*early, (std::vector<Sample>{{kT0, 5}, {kT0 + 1000, 5}}));

  std::vector<Row> rows;
  ExportFilter f;
  f.since_ms = kT0 + 5000;
  f.until_ms = kT0 + 15'000;
  ASSERT_TRUE(a->export_rows(f, [&rows](const Row &r) { rows.push_back(r); }));
  EXPECT_EQ(rows, (std::vector<Row>{{kT0 + 5000, "eth0", "link.x", 5},
                                    {kT0 + 5000, "eth0", "link.y", 1},
                                    {kT0 + 11'000, "eth0", "link.x", 7},
                                    {kT0 + 15'000, "eth0", "link.x", 7},
                                    {kT0 + 15'000, "eth0", "link.y", 1}}));
}

TEST(Archive, VanishedSeriesDoesNotExtend) {
  TempDir dir;
  auto a = open_ok(config_for(dir.file("a.db")));
  ASSERT_NE(a, nullptr);
  for (int64_t s = 0; s <= 20; s++) {
    std::vector<IfaceCounters> sw;
    // eth0's counter "late" exists from 3 s to 5 s; eth1 until 6 s, and
    // again from 15 s.
    std::vector<Counter> cs{counter("link", "x", 1)};
    if (s >= 3 && s <= 5) cs.push_back(counter("link", "late", 2));
    sw.push_back(iface("eth0", cs));
    if (s <= 6 || s >= 15)
      sw.push_back(iface("eth1", {counter("link", "y", 9)}));
    ASSERT_TRUE(a->record(kT0 + s * 1000, sw));
  }
  auto gone = a->history("eth1", "link.y", kT0 + 8000, kT0 + 12'000);
  ASSERT_TRUE(gone);
  EXPECT_TRUE(gone->empty());
  auto across = a->history("eth1", "link.y", kT0 + 2000);
  ASSERT_TRUE(across);
  EXPECT_EQ(*across, (std::vector<Sample>{{kT0 + 2000, 9},
                                          {kT0 + 7000, 0, true},
                                          {kT0 + 15'000, 9},
                                          {kT0 + 20'000, 9}}));
  auto late = a->history("eth0", "link.late");
  ASSERT_TRUE(late);
  EXPECT_EQ(*late,
            (std::vector<Sample>{{kT0 + 3000, 2}, {kT0 + 6000, 0, true}}));

  std::vector<Row> rows;
  ExportFilter f;
  f.since_ms = kT0 + 10'000;
  f.until_ms = kT0 + 14'000;
  ASSERT_TRUE(a->export_rows(f, [&rows](const Row &r) { rows.push_back(r); }));
  EXPECT_EQ(rows, (std::vector<Row>{{kT0 + 10'000, "eth0", "link.x", 1},
                                    {kT0 + 14'000, "eth0", "link.x", 1}}));
}

// Version 1's schema and a row per counter per sweep, as keeld 1 wrote.
void write_v1(const std::string &path, bool rows = true) {
  poke(path,
       "PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=WAL;"
       "CREATE TABLE series (id INTEGER PRIMARY KEY, iface TEXT NOT NULL,"
       "  key TEXT NOT NULL, UNIQUE (iface, key));"
       "CREATE TABLE samples (series_id INTEGER NOT NULL,"
       "  ts_ms INTEGER NOT NULL, value INTEGER NOT NULL,"
       "  PRIMARY KEY (series_id, ts_ms)) WITHOUT ROWID;"
       "CREATE INDEX samples_ts ON samples (ts_ms);"
       "CREATE TABLE meta (name TEXT PRIMARY KEY,"
       "  value INTEGER NOT NULL) WITHOUT ROWID;"
       "PRAGMA user_version=1;");
  if (!rows) return;
  poke(path,
       "INSERT INTO series VALUES (1, 'eth0', 'link.x'), (2, 'eth1', 'link.y');"
       // eth0: 10 sweeps, 0..9 s, value 4 then 6; eth1 until 4 s.
       "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n "
       "  WHERE i < 9) INSERT INTO samples "
       "  SELECT 1, 1699999980000 + i * 1000, CASE WHEN i < 5 THEN 4 ELSE 6 "
       "  END FROM n;"
       "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n "
       "  WHERE i < 4) INSERT INTO samples "
       "  SELECT 2, 1699999980000 + i * 1000, 8 FROM n;");
}

TEST(Archive, Version1ReadOnlyAsStored) {
  TempDir dir;
  auto c = config_for(dir.file("v1.db"));
  write_v1(c.path);
  c.read_only = true;
  auto a = open_ok(c);
  ASSERT_NE(a, nullptr);
  auto h = a->history("eth1", "link.y", kT0 + 3000);
  ASSERT_TRUE(h) << h.error().str();
  EXPECT_EQ(*h, (std::vector<Sample>{{kT0 + 3000, 8}, {kT0 + 4000, 8}}));
  auto x = a->history("eth0", "link.x", kT0 + 4000, kT0 + 5000);
  ASSERT_TRUE(x);
  EXPECT_EQ(*x, (std::vector<Sample>{{kT0 + 4000, 4}, {kT0 + 5000, 6}}));
  uint64_t n = 0;
  ASSERT_TRUE(a->export_rows(ExportFilter{}, [&n](const Row &) { n++; }));
  EXPECT_EQ(n, 15U);
  EXPECT_EQ(query(c.path, "PRAGMA user_version"), 1);  // left as it is
}

TEST(Archive, Version1UpgradedInPlace) {
  TempDir dir;
  const auto c = config_for(dir.file("v1.db"));
  write_v1(c.path);
  {
    auto a = open_ok(c);
    ASSERT_NE(a, nullptr);
    // eth1 vanished at 5 s, eth0 is in force until the last sweep (9 s).
    // Version 1's rows stay as they were.
    auto y = a->history("eth1", "link.y", kT0 + 3000);
    ASSERT_TRUE(y) << y.error().str();
    EXPECT_EQ(*y,
              (std::vector<Sample>{
                  {kT0 + 3000, 8}, {kT0 + 4000, 8}, {kT0 + 5000, 0, true}}));
    auto x = a->history("eth0", "link.x", kT0 + 7500);
    ASSERT_TRUE(x);
    EXPECT_EQ(*x, (std::vector<Sample>{
                      {kT0 + 7500, 6}, {kT0 + 8000, 6}, {kT0 + 9000, 6}}));
    ASSERT_TRUE(
        a->record(kT0 + 10'000, {iface("eth0", {counter("link", "x", 6)}),
                                 iface("eth1", {counter("link", "y", 8)})}));
    auto again = a->history("eth1", "link.y", kT0 + 6000);
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, (std::vector<Sample>{{kT0 + 10'000, 8}}));
    auto ok = a->integrity_check();
    ASSERT_TRUE(ok);
    EXPECT_EQ(*ok, "ok");
  }
  EXPECT_EQ(query(c.path, "PRAGMA user_version"), Archive::kSchemaVersion);
  auto ro_config = c;
  ro_config.read_only = true;
  auto ro = open_ok(ro_config);
  ASSERT_NE(ro, nullptr);
  auto x = ro->history("eth0", "link.x", kT0 + 8000);
  ASSERT_TRUE(x);
  // keeld 1 stopped after 9 s; keeld 2 saw it again at 10 s.
  EXPECT_EQ(*x, (std::vector<Sample>{{kT0 + 8000, 6},
                                     {kT0 + 9000, 6},
                                     {kT0 + 9001, 0, true},
                                     {kT0 + 10'000, 6}}));
}

TEST(Archive, Version1EmptyUpgraded) {
  TempDir dir;
  const auto c = config_for(dir.file("v1.db"));
  write_v1(c.path, false);
  auto a = open_ok(c);
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->record(kT0, sweep(1)));
  auto h = a->history("eth1", "link.rx_packets");
  ASSERT_TRUE(h);
  EXPECT_EQ(*h, (std::vector<Sample>{{kT0, 101}}));
  EXPECT_EQ(query(c.path, "PRAGMA user_version"), Archive::kSchemaVersion);
}

TEST(Archive, RetentionKeepsValueInForce) {
  TempDir dir;
  auto c = config_for(dir.file("a.db"));
  c.retention = seconds(3600);
  c.raw_for = seconds(3600 * 24);  // no downsampling here
  auto a = open_ok(c);
  ASSERT_NE(a, nullptr);
  // idle never changes; busy changes every minute; old0 is seen once.
  for (int64_t m = 0; m < 120; m++) {
    std::vector<IfaceCounters> sw{
        iface("eth0", {counter("link", "idle", 3),
                       counter("link", "busy", static_cast<uint64_t>(m))})};
    if (m == 0) sw.push_back(iface("old0", {counter("link", "y", 1)}));
    ASSERT_TRUE(a->record(kT0 + m * kMinute, sw));
  }
  const int64_t now = kT0 + 120 * kMinute;
  const auto m = maintain_all(*a, now);
  // busy's minutes 0..58 (59 goes on, in force at the cutoff), old0's
  // value and gone row.
  EXPECT_EQ(m.sum.expired, 59U + 2U);
  EXPECT_EQ(m.sum.series_removed, 1U);
  auto idle = a->history("eth0", "link.idle", now - 90 * kMinute);
  ASSERT_TRUE(idle);
  // Stored at kT0, before the cutoff, and still the value in force.
  EXPECT_EQ(*idle,
            (std::vector<Sample>{{now - 90 * kMinute, 3}, {now - kMinute, 3}}));
  auto busy = a->history("eth0", "link.busy");
  ASSERT_TRUE(busy);
  ASSERT_EQ(busy->size(), 61U);
  EXPECT_EQ(busy->front(), (Sample{kT0 + 59 * kMinute, 59}));
  EXPECT_EQ((*busy)[1].ts_ms, now - 60 * kMinute);
  auto ifs = a->interfaces();
  ASSERT_TRUE(ifs);
  EXPECT_EQ(*ifs, std::vector<std::string>{"eth0"});
  // Idempotent; recording again after series were removed works.
  EXPECT_EQ(maintain_all(*a, now).sum.expired, 0U);
  ASSERT_TRUE(a->record(now, {iface("old0", {counter("link", "y", 2)})}));
  EXPECT_TRUE(a->history("old0", "link.y"));
  // And a reopened archive remembers how far retention went.
  a.reset();
  auto b = open_ok(c);
  ASSERT_NE(b, nullptr);
  const auto again = maintain_all(*b, now);
  EXPECT_LT(again.sum.examined, 10U);
}

TEST(Archive, MaintainInBoundedSteps) {
  TempDir dir;
  auto c = config_for(dir.file("a.db"));
  c.retention = seconds(1800);
  c.raw_for = seconds(600);
  c.step = seconds(60);
  auto a = open_ok(c);
  ASSERT_NE(a, nullptr);
  std::vector<Counter> many;
  many.reserve(21);
  for (int i = 0; i < 20; i++)
    many.push_back(counter("driver", "c" + std::to_string(i), 0));
  many.push_back(counter("driver", "idle", 42));
  // An hour of 5 s sweeps, 20 counters changing each time: 14,400 rows.
  const int64_t sweeps = 720;
  for (int64_t n = 0; n < sweeps; n++) {
    for (int i = 0; i < 20; i++) many[static_cast<size_t>(i)].value = n;
    ASSERT_TRUE(a->record(kT0 + n * 5000, {iface("eth0", many)}));
  }
  const int64_t now = kT0 + sweeps * 5000;
  const auto m = maintain_all(*a, now, 300);
  EXPECT_TRUE(m.within_budget);
  EXPECT_GT(m.steps, 10);
  // Retention: 30 minutes of 20 counters go, but for the value in force.
  EXPECT_EQ(m.sum.expired, 20U * (360 - 1));
  // Downsampling: 20 min of 12 sweeps a minute down to one.
  EXPECT_EQ(m.sum.downsampled, 20U * 20 * 11);
  auto h = a->history("eth0", "driver.c3");
  ASSERT_TRUE(h);
  ASSERT_FALSE(h->empty());
  EXPECT_EQ(h->front(), (Sample{kT0 + int64_t{359} * 5000, 359}));
  // One a minute from the cutoff to now - raw_for, then every sweep.
  EXPECT_EQ(h->size(), 1U + 20U + 120U);
  auto idle = a->history("eth0", "driver.idle", now - 45 * kMinute);
  ASSERT_TRUE(idle);
  ASSERT_FALSE(idle->empty());
  EXPECT_EQ(idle->front(), (Sample{now - 45 * kMinute, 42}));
  // The same as in one go.
  TempDir dir2;
  auto c2 = c;
  c2.path = dir2.file("b.db");
  auto b = open_ok(c2);
  ASSERT_NE(b, nullptr);
  for (int64_t n = 0; n < sweeps; n++) {
    for (int i = 0; i < 20; i++) many[static_cast<size_t>(i)].value = n;
    ASSERT_TRUE(b->record(kT0 + n * 5000, {iface("eth0", many)}));
  }
  const auto one = maintain_all(*b, now, 1'000'000);
  EXPECT_EQ(one.sum.expired, m.sum.expired);
  EXPECT_EQ(one.sum.downsampled, m.sum.downsampled);
  auto h2 = b->history("eth0", "driver.c3");
  ASSERT_TRUE(h2);
  EXPECT_EQ(*h2, *h);
}

TEST(Archive, DownsampleKeepsLastValuePerBucket) {
  TempDir dir;
  auto c = config_for(dir.file("a.db"));
  c.raw_for = seconds(600);
  c.step = seconds(60);
  auto a = open_ok(c);
  ASSERT_NE(a, nullptr);
  // One sample every 10 s for 20 minutes, value = seconds since kT0;
  // kT0 is a multiple of a minute.
  ASSERT_EQ(kT0 % kMinute, 0);
  for (int64_t s = 0; s < 1200; s += 10)
    ASSERT_TRUE(a->record(
        kT0 + s * 1000,
        {iface("eth0", {counter("link", "x", static_cast<uint64_t>(s))})}));
  const int64_t now = kT0 + int64_t{1200} * 1000;
  auto st = a->maintain(now);
  ASSERT_TRUE(st) << st.error().str();
  EXPECT_FALSE(st->more);
  // Minutes 0..9 are older than raw_for: 6 samples each become 1.
  EXPECT_EQ(st->downsampled, 50U);
  auto h = a->history("eth0", "link.x");
  ASSERT_TRUE(h);
  ASSERT_EQ(h->size(), 10U + 60U);
  for (size_t m = 0; m < 10; m++) {
    const int64_t s = static_cast<int64_t>(m) * 60 + 50;  // last of bucket
    EXPECT_EQ((*h)[m], (Sample{kT0 + s * 1000, static_cast<uint64_t>(s)}));
  }
  EXPECT_EQ((*h)[10].ts_ms, kT0 + int64_t{600} * 1000);  // raw from here on

  // Idempotent, and the next call only looks at the new range.
  auto again = a->maintain(now);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->downsampled, 0U);
  auto later = a->maintain(now + 5 * kMinute);
  ASSERT_TRUE(later);
  EXPECT_EQ(later->downsampled, 25U);
}

TEST(Archive, SizeCapDropsOldestData) {
  TempDir dir;
  auto c = config_for(dir.file("a.db"));
  c.max_bytes = uint64_t{256} * 1024;
  c.raw_for = seconds(3600 * 24 * 365);
  c.retention = seconds(3600 * 24 * 365);
  auto a = open_ok(c);
  ASSERT_NE(a, nullptr);
  std::vector<Counter> many;
  many.reserve(50);
  for (int i = 0; i < 50; i++)
    many.push_back(counter("driver", "c" + std::to_string(i), 0));
  const int64_t sweeps = 400;
  for (int64_t n = 0; n < sweeps; n++) {
    for (auto &cnt : many) cnt.value = static_cast<uint64_t>(n);
    ASSERT_TRUE(a->record(
        kT0 + n * 1000,
        {iface("eth0", many), iface("idle0", {counter("link", "x", 5)})}));
  }
  auto before = a->used_bytes();
  ASSERT_TRUE(before);
  ASSERT_GT(*before, c.max_bytes);

  const auto m = maintain_all(*a, kT0 + sweeps * 1000, 1000);
  EXPECT_TRUE(m.within_budget);
  EXPECT_GT(m.steps, 1);
  EXPECT_GT(m.sum.dropped_size, 0U);
  EXPECT_LE(m.sum.bytes_after, c.max_bytes);
  // The file shrank too (incremental vacuum + checkpoint).
  EXPECT_LE(fs::file_size(c.path), c.max_bytes + 4096);
  auto h = a->history("eth0", "driver.c7");
  ASSERT_TRUE(h);
  ASSERT_FALSE(h->empty());
  EXPECT_GT(h->front().ts_ms, kT0);                       // oldest went
  EXPECT_EQ(h->back().ts_ms, kT0 + (sweeps - 1) * 1000);  // newest stayed
  // A value stored at the start and in force since stays.
  auto idle = a->history("idle0", "link.x", kT0 + (sweeps - 1) * 1000);
  ASSERT_TRUE(idle);
  EXPECT_EQ(*idle, (std::vector<Sample>{{kT0 + (sweeps - 1) * 1000, 5}}));
  auto ok = a->integrity_check();
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, "ok");
}

TEST(Archive, ReopenAfterClose) {
  TempDir dir;
  const auto c = config_for(dir.file("a.db"));
  {
    auto a = open_ok(c);
    ASSERT_NE(a, nullptr);
    ASSERT_TRUE(a->record(kT0, sweep(1)));
    ASSERT_TRUE(a->flush());
    EXPECT_EQ(fs::file_size(c.path + "-wal"), 0U);  // TRUNCATE checkpoint
  }
  auto b = open_ok(c);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->record(kT0 + 1000, sweep(2)));
  auto h = b->history("eth1", "link.rx_packets");
  ASSERT_TRUE(h);
  // Nothing is known of the time between the runs.
  EXPECT_EQ(*h, (std::vector<Sample>{
                    {kT0, 101}, {kT0 + 1, 0, true}, {kT0 + 1000, 102}}));

  // A reader next to the writer, as keelctl would be.
  auto ro_config = c;
  ro_config.read_only = true;
  auto ro = open_ok(ro_config);
  ASSERT_NE(ro, nullptr);
  auto ifs = ro->interfaces();
  ASSERT_TRUE(ifs);
  EXPECT_EQ(ifs->size(), 2U);
  EXPECT_FALSE(ro->record(kT0 + 2000, sweep(3)));
  ro.reset();
  b.reset();

  // And one after the writer is gone (keelctl while keeld is stopped).
  auto alone = open_ok(ro_config);
  ASSERT_NE(alone, nullptr);
  auto again = alone->history("eth1", "link.rx_packets");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->size(), 3U);

  // Read-only never creates a file.
  ro_config.path = c.path + ".missing";
  EXPECT_FALSE(Archive::open(ro_config));
  EXPECT_FALSE(fs::exists(ro_config.path));
}

TEST(Archive, CrashSafetyAfterSigkill) {
  TempDir dir;
  const auto c = config_for(dir.file("a.db"));
  {
    auto a = open_ok(c);  // created before the child starts
    ASSERT_NE(a, nullptr);
  }
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto a = Archive::open(c);
    if (!a) ::_exit(2);
    std::vector<Counter> many;
    many.reserve(200);
    for (int i = 0; i < 200; i++)
      many.push_back(counter("driver", "c" + std::to_string(i), 0));
    for (uint64_t n = 1;; n++) {
      for (auto &cnt : many) cnt.value = n;
      if (!(*a)->record(kT0 + static_cast<int64_t>(n), {iface("eth0", many)}))
        ::_exit(3);
      if (n % 50 == 0) (void)(*a)->maintain(kT0 + static_cast<int64_t>(n));
    }
  }
  // Let it write for a while, then kill it wherever it is.
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited " << WEXITSTATUS(status);

  auto a = open_ok(c);
  ASSERT_NE(a, nullptr);
  auto ok = a->integrity_check();
  ASSERT_TRUE(ok) << ok.error().str();
  EXPECT_EQ(*ok, "ok");
  auto h = a->history("eth0", "driver.c199");
  ASSERT_TRUE(h) << h.error().str();
  ASSERT_FALSE(h->empty());
  // Every committed sweep is whole: all 200 counters have the last one.
  auto last = a->history("eth0", "driver.c0", h->back().ts_ms);
  ASSERT_TRUE(last);
  ASSERT_EQ(last->size(), 1U);
  EXPECT_EQ(last->front().value, h->back().value);
  EXPECT_TRUE(a->record(h->back().ts_ms + 1, sweep(1)));
}

TEST(Archive, NotADatabase) {
  TempDir dir;
  const std::string path = dir.file("junk.db");
  {
    std::ofstream f(path);
    for (int i = 0; i < 200; i++) f << "this is not an SQLite database\n";
  }
  auto a = Archive::open(config_for(path));
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().errnum(), EBADMSG);
  EXPECT_NE(a.error().message().find(path), std::string::npos);
  EXPECT_NE(a.error().message().find("not a database"), std::string::npos)
      << a.error().str();
}

TEST(Archive, CorruptHeader) {
  TempDir dir;
  const auto c = config_for(dir.file("a.db"));
  {
    auto a = open_ok(c);
    ASSERT_NE(a, nullptr);
    ASSERT_TRUE(a->record(kT0, sweep(1)));
    ASSERT_TRUE(a->flush());
  }
  {
    // Overwrite the page size and the first page's b-tree header.
    std::fstream f(c.path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(16);
    const std::string garbage(100, '\x7f');
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  auto a = Archive::open(c);
  if (a) {
    // SQLite may open it; then reads fail or the check reports it.
    auto ok = (*a)->integrity_check();
    EXPECT_TRUE(!ok || *ok != "ok");
  } else {
    EXPECT_EQ(a.error().errnum(), EBADMSG) << a.error().str();
  }
}

TEST(Archive, NewerSchemaRefused) {
  TempDir dir;
  const auto c = config_for(dir.file("a.db"));
  {
    auto a = open_ok(c);
    ASSERT_NE(a, nullptr);
  }
  poke(c.path, "PRAGMA user_version=99");  // as a future keeld would
  auto a = Archive::open(c);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().errnum(), ENOTSUP);
  EXPECT_NE(a.error().message().find("newer"), std::string::npos);
}

TEST(Archive, ForeignDatabaseRefused) {
  TempDir dir;
  const auto c = config_for(dir.file("other.db"));
  poke(c.path, "CREATE TABLE t (x)");
  auto a = Archive::open(c);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().errnum(), EBADMSG);
  EXPECT_NE(a.error().message().find("not a keel archive"), std::string::npos);
}

TEST(Archive, MissingDirectory) {
  auto a = Archive::open(config_for("/nonexistent-keel-dir/a.db"));
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().message().find("/nonexistent-keel-dir/a.db"),
            std::string::npos);
}

// Issue 11: 1,000 idle veth interfaces filled 57 MB in 30 sweeps. An
// hour of them (30 counters each, 10 counters changing per sweep) must
// fit 16 MiB. kSweeps sweeps are recorded; the growth per sweep after
// the first is extrapolated to an hour.
TEST(Archive, IdleInterfacesGrowSlowly) {
  constexpr int kIfaces = 1000;
  constexpr int kCounters = 30;
  constexpr int64_t kSweeps = 600;
  constexpr int64_t kHour = 3600;
  constexpr uint64_t kLimit = uint64_t{16} * 1024 * 1024;
  TempDir dir;
  auto c = config_for(dir.file("a.db"));
  c.retention = seconds(300);  // for the maintenance afterwards
  c.raw_for = seconds(120);
  auto a = open_ok(c);
  ASSERT_NE(a, nullptr);
  std::vector<IfaceCounters> sw;
  sw.reserve(kIfaces);
  for (int i = 0; i < kIfaces; i++) {
    std::vector<Counter> cs;
    cs.reserve(kCounters);
    for (int k = 0; k < kCounters; k++)
      cs.push_back(counter(k < 24 ? "link" : "queue",
                           "counter_" + std::to_string(k),
                           uint64_t{1000} * static_cast<uint64_t>(i + k),
                           k < 24 ? "" : "rx-" + std::to_string(k % 3)));
    sw.push_back(iface("veth" + std::to_string(i), std::move(cs)));
  }
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(a->record(kT0, sw));
  auto first = a->used_bytes();
  ASSERT_TRUE(first);
  size_t turn = 0;
  for (int64_t n = 1; n < kSweeps; n++) {
    for (int j = 0; j < 10; j++, turn++)
      sw[turn * 7 % kIfaces].counters[turn % kCounters].value++;
    ASSERT_TRUE(a->record(kT0 + n * 1000, sw));
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  auto used = a->used_bytes();
  ASSERT_TRUE(used);
  const double per_sweep =
      static_cast<double>(*used - *first) / static_cast<double>(kSweeps - 1);
  const double hour = static_cast<double>(*first) + per_sweep * (kHour - 1);
  std::printf(
      "first sweep %llu bytes, %.0f bytes per sweep, an hour %.1f MiB; "
      "%lld sweeps took %lld ms\n",
      static_cast<unsigned long long>(*first), per_sweep, hour / 1024 / 1024,
      static_cast<long long>(kSweeps), static_cast<long long>(took.count()));
  EXPECT_LE(hour, static_cast<double>(kLimit));
  EXPECT_EQ(query(a->config().path, "SELECT count(*) FROM samples"),
            int64_t{kIfaces} * kCounters + (kSweeps - 1) * 10);

  // Maintenance of such an archive in default steps: 30,000 values in
  // force before the retention's cutoff to look at.
  const auto m = maintain_all(*a, kT0 + kSweeps * 1000);
  EXPECT_TRUE(m.within_budget);
  std::printf("maintenance: %d steps, %llu rows examined, slowest %lld us\n",
              m.steps, static_cast<unsigned long long>(m.sum.examined),
              static_cast<long long>(m.slowest.count()));
  auto h = a->history("veth500", "link.counter_3", kT0 + 400'000);
  ASSERT_TRUE(h);
  ASSERT_FALSE(h->empty());
  EXPECT_EQ(h->front().ts_ms, kT0 + 400'000);
}

}  // namespace
}  // namespace keel
