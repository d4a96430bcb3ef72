// The incident store as its callers rely on it: incidents opened, deduplicated, acknowledged and
// resolved with a timeline; read back newest first through each filter; still there after a
// reopen and after a writer is killed with SIGKILL mid-burst; clear errors when the file cannot
// be written; consistent under several threads.
#include "incidents/incident_store.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "support/process.hpp"

namespace trafficsim::incidents {
namespace {

using storage::SqliteError;
using testing::TempDir;

// A clock the test moves by hand: one second per reading, so "newest first" is unambiguous.
struct StepClock {
  std::shared_ptr<std::atomic<int64_t>> t = std::make_shared<std::atomic<int64_t>>(1'800'000'000);
  std::function<double()> fn() const {
    auto shared = t;
    return [shared] { return static_cast<double>(shared->fetch_add(1)); };
  }
};

IncidentStoreOptions with_clock(const StepClock& clock) {
  IncidentStoreOptions options;
  options.now_unix_s = clock.fn();
  return options;
}

Incident draft(std::string title, std::string service, std::string dedup_key = {},
               IncidentSource source = IncidentSource::monitor) {
  Incident i;
  i.title = std::move(title);
  i.severity = "high";
  i.service = std::move(service);
  i.source = source;
  i.dedup_key = std::move(dedup_key);
  return i;
}

Incident full_incident() {
  Incident i = draft("LLM latency spike", "llm-classifier", "5c5b6f5f3d2e1a0b",
                     IncidentSource::alertmanager);
  i.id = "inc-0123456789ab";
  i.severity = "critical";
  i.monitor_id = "llm_latency_spike";
  i.dashboard_url = "http://127.0.0.1:8080/#incident=inc-0123456789ab";
  i.labels = {{"alertname", "LLMLatencySpike"}, {"service", "llm-classifier"}};
  i.created_at = 1'800'000'000.25;
  i.updated_at = 1'800'000'060.5;
  i.resolved_at = 1'800'000'120.75;
  i.status = IncidentStatus::resolved;
  i.timeline = {{1'800'000'000.25, "opened", "Opened from alertmanager"},
                {1'800'000'120.75, "resolved", "Resolved"}};
  i.evidence.metrics = {{"llm_request_duration_ms_p95", 4900, 800, 250, "ms"}};
  i.evidence.trace_ids = {"4bf92f3577b34da6a3ce929d0e0e4736"};
  i.evidence.active_faults = {"latency:llm"};
  i.evidence.slow_queries = {{"SELECT * FROM products WHERE name LIKE ?", 812.5, 17}};
  i.hypotheses = {{"dependency", "The model backend is slow", 0.8, {"p95 16σ above baseline"}}};
  i.actions = {{"circuit_breaker",
                "low",
                "llm-classifier only",
                {"Open the breaker", "Watch p95"},
                "docs/runbooks/llm.md"}};
  return i;
}

TEST(IncidentStoreJson, RoundTripsEveryFieldWithSnakeCaseKeys) {
  const Incident original = full_incident();
  const boost::json::object json = to_json(original);
  for (const char* key :
       {"id", "title", "status", "severity", "service", "source", "created_at", "timeline",
        "evidence", "hypotheses", "actions", "dedup_key", "dashboard_url", "resolved_at"}) {
    EXPECT_TRUE(json.contains(key)) << key;
  }
  EXPECT_EQ(json.at("created_at").as_string(), "2027-01-15T08:00:00.250000Z");
  EXPECT_EQ(json.at("status").as_string(), "resolved");
  EXPECT_EQ(json.at("source").as_string(), "alertmanager");
  EXPECT_DOUBLE_EQ(json.at("evidence").at("metrics").at(0).at("deviation_sigma").as_double(), 16.4);
  // Through text, as an API client sees it.
  const Incident back = incident_from_json(boost::json::parse(boost::json::serialize(json)));
  EXPECT_EQ(back, original);
}

TEST(IncidentStoreJson, FromJsonNamesTheFieldAtFault) {
  boost::json::object json = to_json(full_incident());
  json["timeline"].as_array()[1].as_object()["kind"] = 7;
  try {
    incident_from_json(json);
    FAIL() << "accepted a numeric kind";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "timeline[1].kind: must be a string");
  }
  json = to_json(full_incident());
  json["status"] = "closed";
  EXPECT_THROW(incident_from_json(json), std::invalid_argument);
  json = to_json(full_incident());
  json.erase("created_at");
  EXPECT_THROW(incident_from_json(json), std::invalid_argument);
}

TEST(IncidentStore, DefaultPathIsUnderTheDataDirectory) {
  EXPECT_EQ(default_incident_store_path("/var/lib/trafficsim"),
            std::filesystem::path("/var/lib/trafficsim/incidents.sqlite"));
}

TEST(IncidentStore, OpenCreatesAnIncidentThatGetReturns) {
  TempDir dir;
  StepClock clock;
  IncidentStore store(dir.path() / "sub" / "incidents.sqlite", with_clock(clock));
  Incident opened = store.open_or_update(draft("Checkout errors", "checkout"));
  EXPECT_EQ(opened.id.rfind("inc-", 0), 0u);
  EXPECT_EQ(opened.id.size(), 16u);
  EXPECT_EQ(opened.status, IncidentStatus::open);
  EXPECT_EQ(opened.created_at, 1'800'000'000);
  ASSERT_EQ(opened.timeline.size(), 1u);
  EXPECT_EQ(opened.timeline[0].kind, "opened");

  std::optional<Incident> got = store.get(opened.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, opened);
  EXPECT_FALSE(store.get("inc-000000000000"));
}

TEST(IncidentStore, ListsNewestFirstThroughEachFilter) {
  TempDir dir;
  StepClock clock;
  IncidentStore store(dir.path() / "incidents.sqlite", with_clock(clock));
  const Incident a = store.open_or_update(draft("a", "checkout"));
  const Incident b = store.open_or_update(draft("b", "users"));
  const Incident c = store.open_or_update(draft("c", "checkout"));
  ASSERT_TRUE(store.acknowledge(b.id));
  ASSERT_TRUE(store.resolve(c.id));

  auto ids = [](const std::vector<Incident>& incidents) {
    std::vector<std::string> out;
    for (const auto& i : incidents) out.push_back(i.id);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids(store.list()), (V{c.id, b.id, a.id}));
  EXPECT_EQ(ids(store.list({.status = IncidentStatus::open})), (V{a.id}));
  EXPECT_EQ(ids(store.list({.status = IncidentStatus::acknowledged})), (V{b.id}));
  EXPECT_EQ(ids(store.list({.status = IncidentStatus::resolved})), (V{c.id}));
  EXPECT_EQ(ids(store.list({.service = "checkout"})), (V{c.id, a.id}));
  EXPECT_EQ(ids(store.list({.since_unix_s = b.created_at})), (V{c.id, b.id}));
  EXPECT_EQ(ids(store.list({.limit = 1})), (V{c.id}));
  EXPECT_EQ(ids(store.list({.status = IncidentStatus::open, .service = "users"})), V{});
}

TEST(IncidentStore, AcknowledgeAndResolveAddTimelineEntriesAndResolveIsIdempotent) {
  TempDir dir;
  StepClock clock;
  IncidentStore store(dir.path() / "incidents.sqlite", with_clock(clock));
  const Incident opened = store.open_or_update(draft("Checkout errors", "checkout"));

  std::optional<Incident> acked = store.acknowledge(opened.id, "on it");
  ASSERT_TRUE(acked);
  EXPECT_EQ(acked->status, IncidentStatus::acknowledged);
  ASSERT_EQ(acked->timeline.size(), 2u);
  EXPECT_EQ(acked->timeline[1].kind, "acknowledged");
  EXPECT_EQ(acked->timeline[1].message, "Acknowledged: on it");
  EXPECT_GT(acked->updated_at, opened.updated_at);
  EXPECT_EQ(store.acknowledge(opened.id)->timeline.size(), 2u);  // already acknowledged

  std::optional<Incident> resolved = store.resolve(opened.id, "rolled back");
  ASSERT_TRUE(resolved);
  EXPECT_EQ(resolved->status, IncidentStatus::resolved);
  ASSERT_TRUE(resolved->resolved_at);
  ASSERT_EQ(resolved->timeline.size(), 3u);
  EXPECT_EQ(resolved->timeline[2].kind, "resolved");
  EXPECT_EQ(resolved->timeline[2].message, "Resolved: rolled back");

  std::optional<Incident> again = store.resolve(opened.id, "twice");
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *resolved);
  EXPECT_EQ(*store.get(opened.id), *resolved);
  EXPECT_EQ(store.acknowledge(opened.id)->status, IncidentStatus::resolved);

  EXPECT_FALSE(store.acknowledge("inc-unknown"));
  EXPECT_FALSE(store.resolve("inc-unknown"));
  EXPECT_FALSE(store.add_timeline("inc-unknown", {0, "note", "x"}));
  EXPECT_FALSE(store.set_analysis("inc-unknown", {}, {}, {}));
}

TEST(IncidentStore, SameDedupKeyWhileUnresolvedIsTheSameIncidentWithATimelineEntry) {
  TempDir dir;
  StepClock clock;
  IncidentStore store(dir.path() / "incidents.sqlite", with_clock(clock));
  const Incident first = store.open_or_update(draft("Latency", "llm", "fp-1"));
  const Incident second = store.open_or_update(draft("Latency again", "llm", "fp-1"));
  EXPECT_EQ(second.id, first.id);
  ASSERT_EQ(second.timeline.size(), 2u);
  EXPECT_EQ(second.timeline[1].kind, "repeated");
  EXPECT_EQ(second.timeline[1].message, "Latency again");
  EXPECT_EQ(store.list().size(), 1u);

  ASSERT_TRUE(store.acknowledge(first.id));  // acknowledged is still unresolved
  EXPECT_EQ(store.open_or_update(draft("Latency", "llm", "fp-1")).id, first.id);

  ASSERT_TRUE(store.resolve(first.id));
  const Incident third = store.open_or_update(draft("Latency", "llm", "fp-1"));
  EXPECT_NE(third.id, first.id);
  EXPECT_EQ(third.status, IncidentStatus::open);
  EXPECT_EQ(store.list().size(), 2u);

  // No key: never deduplicated.
  EXPECT_NE(store.open_or_update(draft("x", "llm")).id, store.open_or_update(draft("x", "llm")).id);
}

TEST(IncidentStore, ResolveByDedupKeyResolvesOnlyTheUnresolvedOne) {
  TempDir dir;
  StepClock clock;
  IncidentStore store(dir.path() / "incidents.sqlite", with_clock(clock));
  const Incident a = store.open_or_update(draft("a", "llm", "fp-a"));
  const Incident b = store.open_or_update(draft("b", "llm", "fp-b"));

  std::optional<Incident> resolved = store.resolve_by_dedup_key("fp-a", "alert resolved");
  ASSERT_TRUE(resolved);
  EXPECT_EQ(resolved->id, a.id);
  EXPECT_EQ(resolved->status, IncidentStatus::resolved);
  EXPECT_EQ(resolved->timeline.back().message, "Resolved: alert resolved");
  EXPECT_EQ(store.get(b.id)->status, IncidentStatus::open);
  EXPECT_FALSE(store.resolve_by_dedup_key("fp-a"));  // nothing unresolved left
  EXPECT_FALSE(store.resolve_by_dedup_key("fp-never"));
  EXPECT_FALSE(store.resolve_by_dedup_key(""));
}

TEST(IncidentStore, SetAnalysisAndAddTimelineAreStored) {
  TempDir dir;
  StepClock clock;
  IncidentStore store(dir.path() / "incidents.sqlite", with_clock(clock));
  const Incident opened = store.open_or_update(draft("Memory", "payment-service"));
  const Incident sample = full_incident();
  std::optional<Incident> analysed =
      store.set_analysis(opened.id, sample.hypotheses, sample.actions, sample.evidence);
  ASSERT_TRUE(analysed);
  EXPECT_EQ(analysed->hypotheses, sample.hypotheses);
  EXPECT_EQ(analysed->actions, sample.actions);
  EXPECT_EQ(analysed->evidence, sample.evidence);
  EXPECT_EQ(analysed->timeline.back().kind, "analysis");

  std::optional<Incident> noted = store.add_timeline(opened.id, {0, "note", "Paged the owner"});
  ASSERT_TRUE(noted);
  EXPECT_EQ(noted->timeline.back().kind, "note");
  EXPECT_GT(noted->timeline.back().t_unix, 0);
  EXPECT_EQ(*store.get(opened.id), *noted);
}

TEST(IncidentStore, EverythingIsReadableAfterReopening) {
  TempDir dir;
  const auto path = dir.path() / "incidents.sqlite";
  StepClock clock;
  std::vector<Incident> written;
  {
    IncidentStore store(path, with_clock(clock));
    Incident d = full_incident();
    d.id.clear();
    written.push_back(store.open_or_update(d));
    written.push_back(*store.acknowledge(store.open_or_update(draft("b", "users", "k")).id));
    written.push_back(*store.resolve(store.open_or_update(draft("c", "users")).id));
  }
  IncidentStore reopened(path, with_clock(clock));
  for (const auto& i : written) {
    std::optional<Incident> got = reopened.get(i.id);
    ASSERT_TRUE(got) << i.id;
    EXPECT_EQ(*got, i);
  }
  EXPECT_EQ(reopened.list().size(), 3u);
  // The dedup key of the still-acknowledged one survives too.
  EXPECT_EQ(reopened.open_or_update(draft("b", "users", "k")).id, written[1].id);
}

// Reads one line at a time from fd until `want` lines arrived or EOF; false on a 30 s stall.
bool read_lines(int fd, std::string& buffer, std::vector<std::string>& lines, size_t want) {
  while (lines.size() < want) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 30'000) <= 0) return false;
    char chunk[4096];
    const ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0) return false;
    if (n == 0) return true;  // EOF
    buffer.append(chunk, static_cast<size_t>(n));
    for (size_t nl; (nl = buffer.find('\n')) != std::string::npos;) {
      lines.push_back(buffer.substr(0, nl));
      buffer.erase(0, nl + 1);
    }
  }
  return true;
}

TEST(IncidentStoreDurability, EveryIdAWriterWasGivenSurvivesSigkillMidBurst) {
  TempDir dir;
  const auto path = dir.path() / "incidents.sqlite";
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The writer: an id goes to the pipe only after open_or_update returned it.
    close(fds[0]);
    try {
      IncidentStore store(path);
      for (int k = 0; k < 1'000'000; ++k) {
        Incident d = draft("burst " + std::to_string(k), "burst", "burst-" + std::to_string(k));
        d.evidence.trace_ids.assign(8, std::string(32, 'a'));
        const std::string line = store.open_or_update(d).id + "\n";
        if (write(fds[1], line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(3);
      }
    } catch (...) {
      _exit(2);
    }
    _exit(0);
  }
  close(fds[1]);
  std::string buffer;
  std::vector<std::string> ids;
  const bool enough = read_lines(fds[0], buffer, ids, 40);
  kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  read_lines(fds[0], buffer, ids, SIZE_MAX);  // what it printed before it died
  close(fds[0]);
  ASSERT_TRUE(enough) << "the writer stalled after " << ids.size() << " ids";
  ASSERT_TRUE(WIFSIGNALED(status)) << "the writer ended before the kill, status " << status;
  ASSERT_GE(ids.size(), 40u);

  IncidentStore reopened(path);  // opens (and recovers the WAL) without error
  for (const auto& id : ids) {
    std::optional<Incident> got = reopened.get(id);
    ASSERT_TRUE(got) << id << " was acknowledged to the writer but is gone";
    EXPECT_EQ(got->service, "burst");
  }
  EXPECT_GE(reopened.list({.limit = 1'000'000}).size(), ids.size());
  EXPECT_NO_THROW(reopened.open_or_update(draft("after", "burst")));
}

TEST(IncidentStoreErrors, ReadOnlyStoreRefusesWritesNamingTheFileAndStillReads) {
  TempDir dir;
  const auto path = dir.path() / "incidents.sqlite";
  std::string id;
  {
    IncidentStore store(path);
    id = store.open_or_update(draft("a", "users")).id;
  }
  IncidentStore reader(path, {.read_only = true});
  try {
    reader.open_or_update(draft("b", "users"));
    FAIL() << "a read-only store wrote";
  } catch (const SqliteError& e) {
    EXPECT_EQ(e.primary_code(), SQLITE_READONLY);
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("open_or_update"), std::string::npos) << e.what();
  }
  EXPECT_THROW(reader.resolve(id), SqliteError);
  ASSERT_TRUE(reader.get(id));
  EXPECT_EQ(reader.list().size(), 1u);
}

TEST(IncidentStoreErrors, OpeningAMissingFileReadOnlyNamesTheFile) {
  TempDir dir;
  const auto path = dir.path() / "missing.sqlite";
  try {
    IncidentStore store(path, {.read_only = true});
    FAIL() << "opened a missing file";
  } catch (const SqliteError& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
}

// Runs check() in a forked child (for process-wide settings: a file-size limit, another user)
// and returns what it returned: "" when all is well, else what went wrong.
std::string in_child(const std::function<std::string()>& check) {
  int fds[2];
  if (pipe(fds) != 0) return "pipe failed";
  const pid_t child = fork();
  if (child < 0) return "fork failed";
  if (child == 0) {
    close(fds[0]);
    std::string result;
    try {
      result = check();
    } catch (const std::exception& e) {
      result = std::string("unexpected exception: ") + e.what();
    }
    if (!result.empty() && write(fds[1], result.data(), result.size()) < 0) _exit(2);
    _exit(result.empty() ? 0 : 1);
  }
  close(fds[1]);
  std::string buffer;
  std::vector<std::string> lines;
  read_lines(fds[0], buffer, lines, SIZE_MAX);
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  return buffer.empty() ? "the child died, status " + std::to_string(status) : buffer;
}

// check() as a user without write permission: this process when it is not root, else a child
// that drops to nobody (root writes through chmod 0444).
std::string run_unprivileged(const std::function<std::string()>& check) {
  if (geteuid() != 0) return check();
  return in_child([&]() -> std::string {
    if (setgid(65534) != 0 || setuid(65534) != 0) return "cannot drop root";
    return check();
  });
}

TEST(IncidentStoreErrors, AWriteProtectedFileIsRefusedForWritingNamingItAndStillReadable) {
  TempDir dir;
  const auto path = dir.path() / "incidents.sqlite";
  std::string id;
  {
    IncidentStore store(path);
    id = store.open_or_update(draft("a", "users")).id;
  }
  ASSERT_EQ(chmod(dir.path().c_str(), 0555), 0);
  ASSERT_EQ(chmod(path.c_str(), 0444), 0);
  const std::string problem = run_unprivileged([&]() -> std::string {
    try {
      IncidentStore store(path);
      return "opened a write-protected file for writing";
    } catch (const SqliteError& e) {
      if (std::string(e.what()).find(path.string()) == std::string::npos) {
        return std::string("the error does not name the file: ") + e.what();
      }
    }
    try {
      IncidentStore reader(path, {.read_only = true});
      if (!reader.get(id)) return "the incident is not readable";
    } catch (const std::exception& e) {
      return std::string("a read-only open failed: ") + e.what();
    }
    return "";
  });
  chmod(dir.path().c_str(), 0700);
  EXPECT_EQ(problem, "");
}

TEST(IncidentStoreErrors, AFullDiskFailsTheWriteNamingTheFileAndKeepsEverythingCommitted) {
  TempDir dir;
  const auto path = dir.path() / "incidents.sqlite";
  std::vector<std::string> ids;
  // A file-size limit (RLIMIT_FSIZE) plays the full disk: writes past it fail with EFBIG.
  const std::string problem = in_child([&]() -> std::string {
    IncidentStore store(path);
    signal(SIGXFSZ, SIG_IGN);
    rlimit limit{256 * 1024, 256 * 1024};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) return "setrlimit failed";
    std::vector<std::string> written;
    for (int k = 0; k < 10'000; ++k) {
      Incident d = draft("full " + std::to_string(k), "disk");
      d.evidence.active_faults.assign(16, std::string(256, 'x'));
      try {
        written.push_back(store.open_or_update(d).id);
      } catch (const SqliteError& e) {
        if (std::string(e.what()).find(path.string()) == std::string::npos) {
          return std::string("the error does not name the file: ") + e.what();
        }
        // SQLITE_FULL, or SQLITE_IOERR_WRITE for EFBIG (the errno is not reported for the -wal).
        if (e.primary_code() != SQLITE_FULL && e.primary_code() != SQLITE_IOERR) {
          return std::string("not a full-disk error: ") + e.what();
        }
        if (written.empty()) return "the first write already failed";
        for (const auto& id : written) {  // reads keep working, nothing committed is lost
          if (!store.get(id)) return id + " is gone after the failed write";
        }
        if (store.list({.limit = 100'000}).size() != written.size()) return "a row appeared";
        return "";
      }
    }
    return "the limit never made a write fail";
  });
  EXPECT_EQ(problem, "");
  IncidentStore reopened(path);
  EXPECT_FALSE(reopened.list({.service = "disk"}).empty());
  EXPECT_NO_THROW(reopened.open_or_update(draft("after", "disk")));
}

TEST(IncidentStoreErrors, AFailedWriteLosesNothingCommittedAndTheStoreStaysUsable) {
  TempDir dir;
  const auto path = dir.path() / "incidents.sqlite";
  IncidentStore store(path);
  const Incident kept = store.open_or_update(draft("kept", "users"));
  {
    // Another process holds the write lock past the busy timeout: the write fails, cleanly.
    IncidentStore impatient(path, {.busy_timeout = std::chrono::milliseconds(50)});
    storage::Database other(path);
    other.exec("BEGIN IMMEDIATE");
    try {
      impatient.open_or_update(draft("blocked", "users"));
      FAIL() << "wrote through another writer's lock";
    } catch (const SqliteError& e) {
      EXPECT_EQ(e.primary_code(), SQLITE_BUSY);
      EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    }
    EXPECT_TRUE(impatient.get(kept.id));  // reads still work meanwhile
    other.exec("ROLLBACK");
    EXPECT_NO_THROW(impatient.open_or_update(draft("after", "users")));
  }
  EXPECT_EQ(*store.get(kept.id), kept);
  EXPECT_EQ(store.list().size(), 2u);
}

TEST(IncidentStoreConcurrency, ThreadsWritingAndReadingAtOnceAreAllAccountedFor) {
  TempDir dir;
  IncidentStore store(dir.path() / "incidents.sqlite");
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::atomic<int> read_failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kPerThread; ++k) {
        const std::string key = "t" + std::to_string(t) + "-" + std::to_string(k);
        const Incident i = store.open_or_update(draft(key, "svc" + std::to_string(t), key));
        ids[t].push_back(i.id);
        // Everyone also hammers one shared key: it must stay one incident.
        store.open_or_update(draft("shared", "shared", "shared-key"));
        if (!store.get(i.id)) ++read_failures;
        if (k % 5 == 0) store.acknowledge(i.id);
        store.list({.limit = 10});
      }
    });
  }
  for (auto& th : threads) th.join();

  EXPECT_EQ(read_failures.load(), 0);
  std::set<std::string> distinct;
  for (int t = 0; t < kThreads; ++t) {
    distinct.insert(ids[t].begin(), ids[t].end());
    EXPECT_EQ(store.list({.service = "svc" + std::to_string(t), .limit = 1000}).size(),
              static_cast<size_t>(kPerThread));
  }
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kThreads * kPerThread));
  const std::vector<Incident> shared = store.list({.service = "shared"});
  ASSERT_EQ(shared.size(), 1u);
  EXPECT_EQ(shared[0].timeline.size(), static_cast<size_t>(kThreads * kPerThread));  // 1 + repeats
  EXPECT_EQ(store.list({.limit = 1000}).size(), static_cast<size_t>(kThreads * kPerThread + 1));
  EXPECT_EQ(store.list({.status = IncidentStatus::acknowledged, .limit = 1000}).size(),
            static_cast<size_t>(kThreads * 5));
}

}  // namespace
}  // namespace trafficsim::incidents
