#pragma once
// The catalog's database capacity, made real: a fixed number of threads, each with its own
// read-only SQLite connection, behind a bounded FIFO queue. The indexed /products query and the
// unindexed recommendations scan run in separate pools, so when Black Friday traffic saturates
// the scan pool (queue wait grows, then requests are rejected or time out) the indexed query
// keeps its own threads and stays fast — the contrast the demo shows.
//
// Every submitted query ends in exactly one callback. Work that nobody waits for any more is not
// done: a job whose deadline passed or whose request went away while queued never runs, and a
// running query is interrupted (within ~1000 SQLite VM instructions) once that happens.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "demo_service/catalog_store.hpp"

namespace trafficsim::demo_service {

using Deadline = std::chrono::steady_clock::time_point;
// Set to true when the HTTP request went away; may be null (never cancelled).
using CancelToken = std::shared_ptr<const std::atomic<bool>>;

enum class QueryStatus {
  ok,
  rejected,   // the pool's queue was full
  timed_out,  // the deadline passed while queued or running
  cancelled,  // the cancel token was set, or the service is shutting down
  failed,     // SQLite error (QueryResult::error says which)
};
std::string_view query_status_name(QueryStatus status);  // "ok", "rejected", "timed_out", ...

struct QueryStats {
  int64_t rows_scanned = 0;  // table rows stepped through (full scan) or index rows visited
  int64_t rows_returned = 0;
  bool full_scan = false;  // from the statement's query plan, not from which method was called
  std::string index_used;  // "idx_products_category_active", "NONE"; empty if it never ran
  double queue_wait_seconds = 0;  // submitted -> picked up by a thread
  double execution_seconds = 0;   // picked up -> finished (0 when it never ran)
};

struct QueryResult {
  QueryStatus status = QueryStatus::ok;
  std::vector<Product> products;  // only for ok
  QueryStats stats;
  std::string error;  // a sentence for failed, rejected, timed_out and cancelled; empty for ok
};

// Invoked exactly once per submitted query: on a pool thread, or on the submitting thread when
// the query is rejected at once (queue full, service shutting down). It should hand the result
// off quickly (it holds a database thread) and must not call back into the same service's
// destructor. An exception it throws is swallowed so it cannot take the pool thread down.
using QueryCallback = std::function<void(QueryResult)>;

// A snapshot of one pool. Counters only grow; every submitted query is counted once, in
// completed (status ok), rejected, timed_out, cancelled or failed.
struct PoolStats {
  size_t threads = 0, busy = 0, queued = 0, queue_limit = 0;
  uint64_t completed = 0, rejected = 0, timed_out = 0, cancelled = 0, failed = 0;
};

namespace detail {
class QueryPool;
}

// The catalog's two pools: indexed queries and (small) full scans, each with its own threads,
// its own read-only SQLite connections (one per thread) and its own bounded FIFO queue, so scans
// saturate only their pool. All methods are thread-safe.
class CatalogService {
 public:
  struct Options {
    std::filesystem::path db_path;  // a catalog made by prepare_catalog
    int indexed_threads = 4;        // >= 1
    size_t indexed_queue = 1024;    // >= 1: jobs waiting for a thread, beyond those running
    int scan_threads = 2;           // >= 1
    size_t scan_queue = 8;          // >= 1
  };

  // Opens one connection per thread and prepares the statements. Throws CatalogError (naming
  // the path) when the database cannot be opened or is not a catalog, std::invalid_argument for
  // a zero thread count or queue bound.
  explicit CatalogService(Options options);
  // Queued jobs complete with cancelled, running queries are interrupted (cancelled), threads
  // are joined: when it returns, every callback has run.
  ~CatalogService();
  CatalogService(const CatalogService&) = delete;
  CatalogService& operator=(const CatalogService&) = delete;

  // The browsing query (kProductsSql in catalog_sql.hpp), on the indexed pool (uses
  // idx_products_category_active). A negative limit is treated as 0.
  void products(std::string category, int limit, Deadline deadline, CancelToken cancel,
                QueryCallback done);

  // The new feature as a developer who forgot its index wrote it (kRecommendationsSql), on the
  // scan pool: a real full scan.
  void recommendations(std::string category, double min_price, double max_price, int limit,
                       Deadline deadline, CancelToken cancel, QueryCallback done);

  PoolStats indexed_stats() const;
  PoolStats scan_stats() const;

 protected:
  // For tests: runs arbitrary read-only `sql` on the scan pool with the same queueing, deadline
  // and cancellation as recommendations (rows are counted, not returned). `on_start` runs on the
  // pool thread just before the statement first steps, so a test knows the query is running.
  void run_sql_for_test(std::string sql, Deadline deadline, CancelToken cancel, QueryCallback done,
                        std::function<void()> on_start = {});

 private:
  std::unique_ptr<detail::QueryPool> indexed_;
  std::unique_ptr<detail::QueryPool> scan_;
};

}  // namespace trafficsim::demo_service
