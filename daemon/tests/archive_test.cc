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
  EXPECT_EQ(rows,
            (std::vector<Row>{{kT0 + 1000, "eth0", "link.rx_packets", 20},
                              {kT0 + 1000, "eth0", "link.tx_packets", 40}}));
}

TEST(ExportFormat, Csv) {
  EXPECT_EQ(csv_header(), "ts_ms,iface,key,value");
  EXPECT_EQ(to_csv(Row{5, "eth0", "link.rx_packets", 7}),
            "5,eth0,link.rx_packets,7");
  // Interface names may hold ',' and '"'; driver counter names anything.
  EXPECT_EQ(to_csv(Row{5, "a,b", "driver.say \"hi\"", 18446744073709551615U}),
            "5,\"a,b\",\"driver.say \"\"hi\"\"\",18446744073709551615");
}

TEST(ExportFormat, Json) {
  EXPECT_EQ(to_json(Row{5, "eth0", "link.rx_packets", 7}),
            R"({"ts_ms":5,"iface":"eth0","key":"link.rx_packets","value":7})");
  // Not UTF-8: replaced, still valid JSON.
  const auto j = nlohmann::json::parse(to_json(Row{1, "e\xff", "k", 1}));
  EXPECT_EQ(j["iface"], "e\xef\xbf\xbd");
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

TEST(Archive, Retention) {
  TempDir dir;
  auto c = config_for(dir.file("a.db"));
  c.retention = seconds(3600);
  c.raw_for = seconds(3600 * 24);  // no downsampling here
  auto a = open_ok(c);
  ASSERT_NE(a, nullptr);
  for (int64_t m = 0; m < 120; m++)
    ASSERT_TRUE(a->record(kT0 + m * kMinute,
                          {iface("eth0", {counter("link", "x", 0)})}));
  ASSERT_TRUE(a->record(kT0, {iface("old0", {counter("link", "y", 1)})}));
  const int64_t now = kT0 + 120 * kMinute;
  auto st = a->maintain(now);
  ASSERT_TRUE(st) << st.error().str();
  EXPECT_EQ(st->expired, 61U);  // minutes 0..59 of x, and old0's y
  EXPECT_EQ(st->series_removed, 1U);
  auto h = a->history("eth0", "link.x");
  ASSERT_TRUE(h);
  ASSERT_EQ(h->size(), 60U);
  EXPECT_EQ(h->front().ts_ms, now - 60 * kMinute);
  auto ifs = a->interfaces();
  ASSERT_TRUE(ifs);
  EXPECT_EQ(*ifs, std::vector<std::string>{"eth0"});
  // Recording again after series were removed works (no stale ids).
  ASSERT_TRUE(a->record(now, {iface("old0", {counter("link", "y", 2)})}));
  EXPECT_TRUE(a->history("old0", "link.y"));
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
    ASSERT_TRUE(a->record(kT0 + n * 1000, {iface("eth0", many)}));
  }
  auto before = a->used_bytes();
  ASSERT_TRUE(before);
  ASSERT_GT(*before, c.max_bytes);

  auto st = a->maintain(kT0 + sweeps * 1000);
  ASSERT_TRUE(st) << st.error().str();
  EXPECT_GT(st->dropped_size, 0U);
  EXPECT_LE(st->bytes_after, c.max_bytes);
  // The file shrank too (incremental vacuum + checkpoint).
  EXPECT_LE(fs::file_size(c.path), c.max_bytes + 4096);
  auto h = a->history("eth0", "driver.c7");
  ASSERT_TRUE(h);
  ASSERT_FALSE(h->empty());
  EXPECT_GT(h->front().ts_ms, kT0);                       // oldest went
  EXPECT_EQ(h->back().ts_ms, kT0 + (sweeps - 1) * 1000);  // newest stayed
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
  EXPECT_EQ(*h, (std::vector<Sample>{{kT0, 101}, {kT0 + 1000, 102}}));

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
  EXPECT_EQ(again->size(), 2U);

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

// Runs one statement on the file with plain SQLite, behind Archive's back.
void poke(const std::string &path, const char *sql) {
  sqlite3 *raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  const std::unique_ptr<sqlite3, int (*)(sqlite3 *)> db(raw, sqlite3_close);
  ASSERT_EQ(sqlite3_exec(raw, sql, nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(raw);
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

}  // namespace
}  // namespace keel
