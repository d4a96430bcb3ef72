#include "demo_service/query_pool.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "demo_service/catalog_store.hpp"

namespace trafficsim::demo_service {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int64_t kRows = 50'000;
constexpr const char* kIndexName = "idx_products_category_active";
// Never ends by itself and returns no rows: only a deadline, a cancel or shutdown stops it.
constexpr const char* kEndlessSql =
    "WITH RECURSIVE forever(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM forever)"
    " SELECT x FROM forever WHERE x < 0";
// How long a test waits for something that should happen at once before calling it a failure.
constexpr auto kPatience = 10s;

// Exposes the test-only hook for running a deliberately long query on the scan pool.
class TestCatalogService : public CatalogService {
 public:
  using CatalogService::CatalogService;
  using CatalogService::run_sql_for_test;
};

// One query's outcome: its callback fulfils the future. A second call would throw
// std::future_error inside the callback (swallowed by the pool), so callback counts are checked
// separately where exactly-once is the point.
struct Pending {
  std::shared_ptr<std::promise<QueryResult>> promise =
      std::make_shared<std::promise<QueryResult>>();
  std::shared_future<QueryResult> future = promise->get_future().share();

  QueryCallback callback() const {
    return [promise = promise](QueryResult result) { promise->set_value(std::move(result)); };
  }
  bool ready() const { return future.wait_for(0s) == std::future_status::ready; }
  // The result, waiting at most `patience` for it (a test failure, not a hang, if it never comes).
  QueryResult get(std::chrono::milliseconds patience = kPatience) const {
    if (future.wait_for(patience) != std::future_status::ready) {
      throw std::runtime_error("no callback within the deadline");
    }
    return future.get();
  }
};

// A query that runs until stopped, and a way to know it has started.
struct Blocker {
  Pending pending;
  std::shared_ptr<std::atomic<bool>> cancel = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<std::promise<void>> started = std::make_shared<std::promise<void>>();

  void submit(TestCatalogService& service, Deadline deadline) {
    service.run_sql_for_test(kEndlessSql, deadline, cancel, pending.callback(),
                             [started = started] { started->set_value(); });
  }
  bool wait_started() {
    return started->get_future().wait_for(kPatience) == std::future_status::ready;
  }
};

Deadline in(Clock::duration d) {
  return Clock::now() + d;
}

// One catalog for the whole suite (generated once, a fraction of a second).
class QueryPoolTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string pattern = (fs::temp_directory_path() / "query-pool-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = new fs::path(pattern);
    CatalogOptions options;
    options.data_dir = *dir_;
    options.rows = kRows;
    db_path_ = new fs::path(prepare_catalog(options).path);
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete db_path_;
    delete dir_;
  }

  static CatalogService::Options options(int scan_threads = 1, size_t scan_queue = 4) {
    CatalogService::Options options;
    options.db_path = *db_path_;
    options.indexed_threads = 1;
    options.indexed_queue = 16;
    options.scan_threads = scan_threads;
    options.scan_queue = scan_queue;
    return options;
  }

  // Rows of `sql` as seen by an independent connection, first column only.
  static std::vector<std::string> column(const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_open_v2(db_path_->c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* stmt = nullptr;
    std::vector<std::string> out;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
      while (sqlite3_step(stmt) == SQLITE_ROW) {
        out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
      }
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  }

  static fs::path* dir_;
  static fs::path* db_path_;
};

fs::path* QueryPoolTest::dir_ = nullptr;
fs::path* QueryPoolTest::db_path_ = nullptr;

TEST_F(QueryPoolTest, ProductsReturnsActiveProductsOfTheCategoryThroughTheIndex) {
  CatalogService service(options());
  Pending pending;
  service.products("books", 20, in(5s), nullptr, pending.callback());
  QueryResult result = pending.get();

  ASSERT_EQ(result.status, QueryStatus::ok) << result.error;
  EXPECT_TRUE(result.error.empty());
  ASSERT_EQ(result.products.size(), 20u);
  std::vector<std::string> ids;
  for (const Product& product : result.products) {
    EXPECT_EQ(product.category, "books");
    EXPECT_TRUE(product.active);
    EXPECT_EQ(product.name, "Books item " + std::to_string(product.id));
    EXPECT_GE(product.price, 1.0);
    EXPECT_LE(product.price, 2000.0);
    ids.push_back(std::to_string(product.id));
  }
  // The index is ordered by (category, active, rowid): the first 20 active books by id.
  EXPECT_EQ(ids, column("SELECT id FROM products WHERE category = 'books' AND active = 1"
                        " ORDER BY id LIMIT 20"));
  EXPECT_EQ(result.stats.index_used, kIndexName);
  EXPECT_FALSE(result.stats.full_scan);
  EXPECT_EQ(result.stats.rows_returned, 20);
  EXPECT_EQ(result.stats.rows_scanned, 20);
  EXPECT_GE(result.stats.queue_wait_seconds, 0);
  EXPECT_GT(result.stats.execution_seconds, 0);
}

TEST_F(QueryPoolTest, RecommendationsScanTheTableForTheMostPopularInThePriceRange) {
  CatalogService service(options());
  Pending pending;
  service.recommendations("toys", 100.0, 500.0, 10, in(5s), nullptr, pending.callback());
  QueryResult result = pending.get();

  ASSERT_EQ(result.status, QueryStatus::ok) << result.error;
  ASSERT_EQ(result.products.size(), 10u);
  std::vector<std::string> popularity;
  for (size_t i = 0; i < result.products.size(); ++i) {
    const Product& product = result.products[i];
    EXPECT_EQ(product.category, "toys");
    EXPECT_TRUE(product.active);
    EXPECT_GE(product.price, 100.0);
    EXPECT_LE(product.price, 500.0);
    if (i > 0) {
      EXPECT_GE(result.products[i - 1].popularity, product.popularity);
    }
    popularity.push_back(std::to_string(product.popularity));
  }
  EXPECT_EQ(popularity, column("SELECT popularity FROM products WHERE category = 'toys' AND"
                               " active = 1 AND price BETWEEN 100 AND 500"
                               " ORDER BY popularity DESC LIMIT 10"));
  EXPECT_TRUE(result.stats.full_scan);
  EXPECT_EQ(result.stats.index_used, "NONE");
  EXPECT_GE(result.stats.rows_scanned, kRows - 1);  // every row of the table, not just the toys
  EXPECT_LE(result.stats.rows_scanned, kRows);
  EXPECT_EQ(result.stats.rows_returned, 10);
}

TEST_F(QueryPoolTest, UnknownCategoryAndZeroLimitReturnNothing) {
  CatalogService service(options());
  Pending unknown, zero, negative;
  service.products("spaceships", 50, in(5s), nullptr, unknown.callback());
  service.recommendations("books", 1, 2000, 0, in(5s), nullptr, zero.callback());
  service.products("books", -3, in(5s), nullptr, negative.callback());
  for (const Pending* pending : {&unknown, &zero, &negative}) {
    QueryResult result = pending->get();
    EXPECT_EQ(result.status, QueryStatus::ok) << result.error;
    EXPECT_TRUE(result.products.empty());
  }
}

TEST_F(QueryPoolTest, ScanPoolSaturationRejectsTheExcessWhileIndexedQueriesStayFast) {
  TestCatalogService service(options(/*scan_threads=*/1, /*scan_queue=*/2));
  Blocker blocker;
  blocker.submit(service, in(60s));
  ASSERT_TRUE(blocker.wait_started());

  std::vector<Pending> scans(10);
  for (Pending& scan : scans) {
    service.recommendations("electronics", 10, 500, 10, in(60s), nullptr, scan.callback());
  }
  // The one thread is busy, so exactly two wait and the rest are refused on the spot.
  for (size_t i = 0; i < scans.size(); ++i) {
    SCOPED_TRACE(i);
    if (i < 2) {
      EXPECT_FALSE(scans[i].ready());
    } else {
      ASSERT_TRUE(scans[i].ready());  // called before recommendations() returned
      QueryResult result = scans[i].get();
      EXPECT_EQ(result.status, QueryStatus::rejected);
      EXPECT_NE(result.error.find("queue full"), std::string::npos) << result.error;
    }
  }
  PoolStats saturated = service.scan_stats();
  EXPECT_EQ(saturated.threads, 1u);
  EXPECT_EQ(saturated.busy, 1u);
  EXPECT_EQ(saturated.queued, 2u);
  EXPECT_EQ(saturated.queue_limit, 2u);
  EXPECT_EQ(saturated.rejected, 8u);

  // Meanwhile the indexed pool answers at once.
  Pending indexed;
  auto submitted = Clock::now();
  service.products("electronics", 50, in(5s), nullptr, indexed.callback());
  QueryResult fast = indexed.get(2s);
  EXPECT_EQ(fast.status, QueryStatus::ok) << fast.error;
  EXPECT_EQ(fast.products.size(), 50u);
  EXPECT_LT(Clock::now() - submitted, 1s);
  EXPECT_FALSE(blocker.pending.ready());  // the scan pool is still saturated
  EXPECT_EQ(service.indexed_stats().completed, 1u);

  blocker.cancel->store(true);
  EXPECT_EQ(blocker.pending.get().status, QueryStatus::cancelled);
  for (size_t i = 0; i < 2; ++i) EXPECT_EQ(scans[i].get().status, QueryStatus::ok);
  PoolStats drained = service.scan_stats();
  EXPECT_EQ(drained.completed, 2u);
  EXPECT_EQ(drained.cancelled, 1u);
  EXPECT_EQ(drained.rejected, 8u);
  EXPECT_EQ(drained.busy, 0u);
  EXPECT_EQ(drained.queued, 0u);
}

TEST_F(QueryPoolTest, DeadlinePassingWhileQueuedTimesOutWithoutRunning) {
  TestCatalogService service(options());
  auto t0 = Clock::now();
  Blocker blocker;
  blocker.submit(service, t0 + 300ms);  // ends only after the queued query's deadline
  ASSERT_TRUE(blocker.wait_started());
  Pending queued;
  service.recommendations("books", 1, 2000, 10, t0 + 50ms, nullptr, queued.callback());

  QueryResult running = blocker.pending.get();
  EXPECT_EQ(running.status, QueryStatus::timed_out);
  EXPECT_NE(running.error.find("while the query ran"), std::string::npos) << running.error;
  EXPECT_GE(Clock::now() - t0, 300ms);

  QueryResult result = queued.get();
  EXPECT_EQ(result.status, QueryStatus::timed_out);
  EXPECT_NE(result.error.find("in the scan pool queue"), std::string::npos) << result.error;
  EXPECT_TRUE(result.products.empty());
  EXPECT_EQ(result.stats.execution_seconds, 0);  // never ran
  EXPECT_GE(result.stats.queue_wait_seconds, 0.2);
  EXPECT_EQ(service.scan_stats().timed_out, 2u);
}

TEST_F(QueryPoolTest, DeadlinePassingWhileRunningInterruptsTheQueryAndTheConnectionStaysUsable) {
  TestCatalogService service(options());
  Blocker blocker;
  auto t0 = Clock::now();
  blocker.submit(service, t0 + 100ms);
  QueryResult result = blocker.pending.get();
  auto took = Clock::now() - t0;

  EXPECT_EQ(result.status, QueryStatus::timed_out);
  EXPECT_GE(took, 100ms);
  EXPECT_LT(took, 10s);  // interrupted near its 100 ms deadline, not run to the end
  EXPECT_GT(result.stats.execution_seconds, 0.05);

  // The same (only) connection, reset after the interrupt, serves the next query.
  Pending next;
  service.recommendations("books", 1, 2000, 5, in(5s), nullptr, next.callback());
  QueryResult after = next.get();
  EXPECT_EQ(after.status, QueryStatus::ok) << after.error;
  EXPECT_EQ(after.products.size(), 5u);
}

TEST_F(QueryPoolTest, CancelTokenStopsARunningQueryPromptly) {
  TestCatalogService service(options());
  Blocker blocker;
  blocker.submit(service, in(60s));
  ASSERT_TRUE(blocker.wait_started());

  auto cancelled_at = Clock::now();
  blocker.cancel->store(true);
  QueryResult result = blocker.pending.get();

  EXPECT_LT(Clock::now() - cancelled_at, 10s);  // promptly: the query's own deadline is 60 s
  EXPECT_EQ(result.status, QueryStatus::cancelled);
  EXPECT_NE(result.error.find("went away"), std::string::npos) << result.error;
  EXPECT_GT(result.stats.execution_seconds, 0);
  EXPECT_EQ(service.scan_stats().cancelled, 1u);

  Pending next;
  service.recommendations("garden", 1, 2000, 5, in(5s), nullptr, next.callback());
  EXPECT_EQ(next.get().status, QueryStatus::ok);
}

TEST_F(QueryPoolTest, QueryCancelledWhileQueuedNeverRuns) {
  TestCatalogService service(options());
  Blocker blocker;
  blocker.submit(service, in(60s));
  ASSERT_TRUE(blocker.wait_started());
  auto gone = std::make_shared<std::atomic<bool>>(false);
  Pending queued;
  service.recommendations("books", 1, 2000, 10, in(60s), gone, queued.callback());

  gone->store(true);
  blocker.cancel->store(true);

  QueryResult result = queued.get();
  EXPECT_EQ(result.status, QueryStatus::cancelled);
  EXPECT_EQ(result.stats.execution_seconds, 0);
  EXPECT_EQ(service.scan_stats().cancelled, 2u);
}

TEST_F(QueryPoolTest, DestructionCompletesEveryQueuedAndRunningQueryExactlyOnce) {
  constexpr int kQueued = 4;
  constexpr int kExtra = 3;  // beyond the queue bound: rejected at once
  constexpr int kIndexed = 5;
  std::vector<std::atomic<int>> calls(1 + kQueued + kExtra + kIndexed);
  std::vector<QueryStatus> statuses(calls.size());
  auto counting = [&](size_t i) {
    return [&calls, &statuses, i](QueryResult result) {
      statuses[i] = result.status;  // each slot written by one callback only
      calls[i].fetch_add(1);
    };
  };
  auto started = std::make_shared<std::promise<void>>();
  auto service = std::make_unique<TestCatalogService>(options(1, kQueued));
  service->run_sql_for_test(kEndlessSql, in(60s), nullptr, counting(0),
                            [started] { started->set_value(); });
  ASSERT_EQ(started->get_future().wait_for(kPatience), std::future_status::ready);
  for (size_t i = 1; i <= kQueued + kExtra; ++i) {
    service->recommendations("books", 1, 2000, 10, in(60s), nullptr, counting(i));
  }
  for (size_t i = 1 + kQueued + kExtra; i < calls.size(); ++i) {
    service->products("books", 10, in(60s), nullptr, counting(i));
  }

  auto destroying = Clock::now();
  service.reset();
  EXPECT_LT(Clock::now() - destroying, 2s);  // the endless query was interrupted

  for (size_t i = 0; i < calls.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(calls[i].load(), 1);
  }
  EXPECT_EQ(statuses[0], QueryStatus::cancelled);
  for (size_t i = 1; i <= kQueued; ++i) EXPECT_EQ(statuses[i], QueryStatus::cancelled);
  for (size_t i = 1 + kQueued; i <= kQueued + kExtra; ++i) {
    EXPECT_EQ(statuses[i], QueryStatus::rejected);
  }
  for (size_t i = 1 + kQueued + kExtra; i < calls.size(); ++i) {
    EXPECT_TRUE(statuses[i] == QueryStatus::ok || statuses[i] == QueryStatus::cancelled);
  }
}

TEST_F(QueryPoolTest, ThrowingCallbackDoesNotStopThePool) {
  CatalogService service(options());
  service.products("books", 1, in(5s), nullptr,
                   [](QueryResult) { throw std::runtime_error("handler bug"); });
  Pending next;
  service.products("books", 1, in(5s), nullptr, next.callback());
  EXPECT_EQ(next.get().status, QueryStatus::ok);
}

TEST_F(QueryPoolTest, FailingSqlIsReportedAsFailed) {
  TestCatalogService service(options());
  Pending pending;
  service.run_sql_for_test("SELECT * FROM no_such_table", in(5s), nullptr, pending.callback());
  QueryResult result = pending.get();
  EXPECT_EQ(result.status, QueryStatus::failed);
  EXPECT_NE(result.error.find("no_such_table"), std::string::npos) << result.error;
  EXPECT_EQ(service.scan_stats().failed, 1u);
}

TEST_F(QueryPoolTest, DatabaseThatCannotBeOpenedIsAnErrorNamingThePath) {
  fs::path missing = *dir_ / "missing.sqlite";
  fs::path foreign = *dir_ / "foreign.sqlite";
  std::ofstream(foreign) << "this is not a database, it is a text file of some length";
  for (const fs::path& path : {missing, foreign}) {
    SCOPED_TRACE(path);
    CatalogService::Options bad = options();
    bad.db_path = path;
    try {
      CatalogService service(bad);
      ADD_FAILURE() << "no CatalogError";
    } catch (const CatalogError& error) {
      EXPECT_NE(std::string(error.what()).find(path.string()), std::string::npos) << error.what();
    }
  }
  fs::remove(foreign);
}

TEST_F(QueryPoolTest, ZeroThreadsOrQueueBoundIsInvalid) {
  CatalogService::Options no_threads = options();
  no_threads.scan_threads = 0;
  EXPECT_THROW(CatalogService{no_threads}, std::invalid_argument);
  CatalogService::Options no_queue = options();
  no_queue.indexed_queue = 0;
  EXPECT_THROW(CatalogService{no_queue}, std::invalid_argument);
}

TEST(QueryStatusTest, NamesAreStable) {
  EXPECT_EQ(query_status_name(QueryStatus::ok), "ok");
  EXPECT_EQ(query_status_name(QueryStatus::rejected), "rejected");
  EXPECT_EQ(query_status_name(QueryStatus::timed_out), "timed_out");
  EXPECT_EQ(query_status_name(QueryStatus::cancelled), "cancelled");
  EXPECT_EQ(query_status_name(QueryStatus::failed), "failed");
}

}  // namespace
}  // namespace trafficsim::demo_service
