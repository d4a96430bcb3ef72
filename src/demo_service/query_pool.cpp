#include "demo_service/query_pool.hpp"

#include <sqlite3.h>  // the progress handler and result codes

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>

#include "demo_service/catalog_sql.hpp"
#include "storage/sqlite.hpp"

namespace trafficsim::demo_service {

namespace {

using Clock = std::chrono::steady_clock;

using storage::Database;
using storage::SqliteError;
using storage::Statement;

// How often SQLite asks whether to give up a running statement. 1000 VM instructions is a few
// microseconds of work, so a scan stops well within a millisecond of its deadline or cancel.
constexpr int kProgressInstructions = 1000;

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

std::string milliseconds_text(double seconds) {
  return std::to_string(static_cast<int64_t>(seconds * 1000.0)) + " ms";
}

}  // namespace

std::string_view query_status_name(QueryStatus status) {
  switch (status) {
    case QueryStatus::ok:
      return "ok";
    case QueryStatus::rejected:
      return "rejected";
    case QueryStatus::timed_out:
      return "timed_out";
    case QueryStatus::cancelled:
      return "cancelled";
    case QueryStatus::failed:
      return "failed";
  }
  return "unknown";
}

namespace detail {

enum class QueryKind { products, recommendations, custom_sql };

struct Job {
  QueryKind kind = QueryKind::products;
  std::string text;  // the category, or the SQL of a custom_sql job
  double min_price = 0;
  double max_price = 0;
  int limit = 0;
  Deadline deadline;
  CancelToken cancel;
  QueryCallback done;
  std::function<void()> on_start;
  Clock::time_point submitted_at;
};

// A statement with what its query plan says about it, read once when it is prepared.
struct PreparedQuery {
  Statement stmt;
  bool full_scan = false;
  std::string index_used = "NONE";
};

// What the progress handler checks while a statement steps. Written and read only by the
// connection's own thread; the atomics it points to are set by others.
struct Watch {
  Deadline deadline = Deadline::max();
  const std::atomic<bool>* cancel = nullptr;
  const std::atomic<bool>* stopping = nullptr;
};

int on_progress(void* arg) {
  const auto* watch = static_cast<const Watch*>(arg);
  if (watch->stopping->load(std::memory_order_relaxed)) return 1;
  if (watch->cancel != nullptr && watch->cancel->load(std::memory_order_relaxed)) return 1;
  return Clock::now() >= watch->deadline ? 1 : 0;
}

// One read-only connection, owned by one pool thread (hence SQLITE_OPEN_NOMUTEX).
class Connection {
 public:
  Connection(const std::filesystem::path& path, const std::atomic<bool>& stopping)
      : db_(open(path)) {
    watch_.stopping = &stopping;
    // Pages come straight from the OS page cache, shared by all connections, instead of being
    // copied into each connection's private 2 MiB cache on every scan.
    try {
      db_.exec("PRAGMA mmap_size=1073741824");
    } catch (const SqliteError&) {
      // An optimisation only: without it every connection reads through its own cache.
    }
    products_ = prepare(path, std::string(kProductsSql));
    recommendations_ = prepare(path, std::string(kRecommendationsSql));
    sqlite3_progress_handler(db_.handle(), kProgressInstructions, on_progress, &watch_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs the job's statement to the end, or until the progress handler interrupts it, and
  // leaves the statement reset for the next job.
  QueryResult run(const Job& job) {
    QueryResult result;
    PreparedQuery custom;  // prepared per job: test-only SQL
    PreparedQuery* query = nullptr;
    switch (job.kind) {
      case QueryKind::products:
        query = &products_;
        query->stmt.bind_text(1, job.text).bind_int64(2, job.limit);
        break;
      case QueryKind::recommendations:
        query = &recommendations_;
        query->stmt.bind_text(1, job.text)
            .bind_double(2, job.min_price)
            .bind_double(3, job.max_price)
            .bind_int64(4, job.limit);
        break;
      case QueryKind::custom_sql:
        try {
          custom = prepare({}, job.text);
        } catch (const CatalogError& error) {
          result.status = QueryStatus::failed;
          result.error = error.what();
          return result;
        }
        query = &custom;
        break;
    }

    watch_.deadline = job.deadline;
    watch_.cancel = job.cancel.get();
    if (job.on_start) job.on_start();
    std::optional<SqliteError> error;
    int64_t rows = 0;
    Statement& stmt = query->stmt;
    try {
      while (stmt.step()) {
        ++rows;
        if (job.kind != QueryKind::custom_sql) result.products.push_back(read_product(stmt));
      }
    } catch (const SqliteError& e) {
      error = e;
    }
    watch_.deadline = Deadline::max();
    watch_.cancel = nullptr;

    result.stats.rows_returned = rows;
    result.stats.full_scan = query->full_scan;
    result.stats.index_used = query->index_used;
    // An index search visits only matching entries (plus the one that ends the range, not
    // counted), so for it the rows visited are the rows returned.
    int64_t full_scan_steps = stmt.take_full_scan_steps();
    result.stats.rows_scanned = query->full_scan ? full_scan_steps : rows;
    if (!error) {
      result.status = QueryStatus::ok;
    } else {
      result.products.clear();
      if (error->primary_code() == SQLITE_INTERRUPT) {
        interrupted(job, result);
      } else {
        result.status = QueryStatus::failed;
        result.error = error->sqlite_message();
      }
    }
    stmt.reset();
    stmt.clear_bindings();
    return result;
  }

 private:
  [[noreturn]] static void fail(const std::filesystem::path& path, const SqliteError& error) {
    throw CatalogError("cannot open catalog " + path.string() + ": " + error.sqlite_message());
  }

  static Database open(const std::filesystem::path& path) {
    try {
      return Database(path, {storage::Access::read_only, /*single_thread=*/true});
    } catch (const SqliteError& error) {
      fail(path, error);
    }
  }

  // Prepares `sql` and reads its plan. `path` names the catalog in the error; empty for SQL
  // run by tests.
  PreparedQuery prepare(const std::filesystem::path& path, const std::string& sql) {
    PreparedQuery query;
    try {
      query.stmt = db_.prepare(sql, /*persistent=*/true);
    } catch (const SqliteError& error) {
      if (!path.empty()) fail(path, error);
      throw CatalogError(error.sqlite_message());
    }
    try {
      Statement plan = db_.prepare("EXPLAIN QUERY PLAN " + sql);
      // Rows look like "SCAN products" or "SEARCH products USING INDEX idx_... (category=? ...)"
      // ("SCAN TABLE products" before SQLite 3.36).
      while (plan.step()) {
        const std::string text = plan.column_text(3);
        std::string_view detail = text;
        for (std::string_view marker : {"USING INDEX ", "USING COVERING INDEX "}) {
          if (auto at = detail.find(marker); at != std::string_view::npos) {
            std::string_view rest = detail.substr(at + marker.size());
            query.index_used = std::string(rest.substr(0, rest.find(' ')));
          }
        }
        if (detail.starts_with("SCAN ") && detail.find(" USING ") == std::string_view::npos &&
            detail.find("CONSTANT ROW") == std::string_view::npos) {
          query.full_scan = true;
        }
      }
    } catch (const SqliteError&) {
      // No plan: the query still runs, reported as not scanning and using no index.
    }
    return query;
  }

  static Product read_product(const Statement& stmt) {
    Product product;
    product.id = stmt.column_int64(0);
    product.name = stmt.column_text(1);
    product.category = stmt.column_text(2);
    product.price = stmt.column_double(3);
    product.popularity = stmt.column_int64(4);
    product.active = stmt.column_int64(5) != 0;
    return product;
  }

  // Why the progress handler stopped the statement: the request went away, the service is
  // stopping, or else the deadline passed.
  void interrupted(const Job& job, QueryResult& result) const {
    if (job.cancel != nullptr && job.cancel->load()) {
      result.status = QueryStatus::cancelled;
      result.error = "request went away while the query ran";
    } else if (watch_.stopping->load()) {
      result.status = QueryStatus::cancelled;
      result.error = "catalog service shutting down";
    } else {
      result.status = QueryStatus::timed_out;
      result.error = "deadline passed while the query ran";
    }
  }

  Database db_;  // declared first: closed after the statements
  PreparedQuery products_;
  PreparedQuery recommendations_;
  Watch watch_;
};

// A fixed set of threads, one connection each, taking jobs from one bounded FIFO queue.
class QueryPool {
 public:
  QueryPool(std::string name, const std::filesystem::path& db_path, int threads, size_t queue_limit)
      : name_(std::move(name)) {
    if (threads < 1 || queue_limit < 1) {
      throw std::invalid_argument(name_ + " pool needs threads >= 1 and a queue bound >= 1");
    }
    counts_.threads = static_cast<size_t>(threads);
    counts_.queue_limit = queue_limit;
    // All connections first, so a catalog that cannot be opened fails before any thread runs.
    for (int i = 0; i < threads; ++i) {
      connections_.push_back(std::make_unique<Connection>(db_path, stopping_));
    }
    try {
      for (auto& connection : connections_) {
        threads_.emplace_back([this, c = connection.get()] { work(*c); });
      }
    } catch (...) {
      begin_stop();
      join();
      throw;
    }
  }
  ~QueryPool() {
    begin_stop();
    join();
  }
  QueryPool(const QueryPool&) = delete;
  QueryPool& operator=(const QueryPool&) = delete;

  void submit(Job job) {
    job.submitted_at = Clock::now();
    QueryResult refusal;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) {
        ++counts_.cancelled;
        refusal.status = QueryStatus::cancelled;
        refusal.error = "catalog service shutting down";
      } else if (queue_.size() >= counts_.queue_limit) {
        ++counts_.rejected;
        refusal.status = QueryStatus::rejected;
        refusal.error = name_ + " pool queue full (" + std::to_string(queue_.size()) +
                        " queries waiting for " + std::to_string(counts_.threads) + " connections)";
      } else {
        queue_.push_back(std::move(job));
        work_available_.notify_one();
        return;
      }
    }
    deliver(job, std::move(refusal));
  }

  // Stops taking jobs and interrupts running queries; the threads finish what is queued with
  // cancelled and exit. join() waits for that.
  void begin_stop() {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    work_available_.notify_all();
  }

  void join() {
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

  PoolStats stats() const {
    std::lock_guard lock(mutex_);
    PoolStats stats = counts_;
    stats.queued = queue_.size();
    return stats;
  }

 private:
  void work(Connection& connection) {
    for (;;) {
      Job job;
      {
        std::unique_lock lock(mutex_);
        work_available_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and nothing left to answer
        job = std::move(queue_.front());
        queue_.pop_front();
        ++counts_.busy;
      }
      auto picked_at = Clock::now();
      double waited = seconds_between(job.submitted_at, picked_at);
      QueryResult result;
      if (stopping_) {
        result.status = QueryStatus::cancelled;
        result.error = "catalog service shutting down";
      } else if (job.cancel != nullptr && job.cancel->load()) {
        result.status = QueryStatus::cancelled;
        result.error = "request went away after " + milliseconds_text(waited) + " in the " + name_ +
                       " pool queue";
      } else if (picked_at >= job.deadline) {
        result.status = QueryStatus::timed_out;
        result.error = "deadline passed after " + milliseconds_text(waited) + " in the " + name_ +
                       " pool queue";
      } else {
        result = connection.run(job);
        result.stats.execution_seconds = seconds_between(picked_at, Clock::now());
      }
      result.stats.queue_wait_seconds = waited;
      {
        std::lock_guard lock(mutex_);
        --counts_.busy;
        count(result.status);
      }
      deliver(job, std::move(result));
    }
  }

  void count(QueryStatus status) {
    switch (status) {
      case QueryStatus::ok:
        ++counts_.completed;
        break;
      case QueryStatus::rejected:
        ++counts_.rejected;
        break;
      case QueryStatus::timed_out:
        ++counts_.timed_out;
        break;
      case QueryStatus::cancelled:
        ++counts_.cancelled;
        break;
      case QueryStatus::failed:
        ++counts_.failed;
        break;
    }
  }

  static void deliver(Job& job, QueryResult result) {
    try {
      job.done(std::move(result));
    } catch (...) {
      // The result is already counted; a throwing callback must not end the pool thread.
    }
  }

  const std::string name_;
  mutable std::mutex mutex_;
  std::condition_variable work_available_;
  std::deque<Job> queue_;              // guarded by mutex_
  PoolStats counts_;                   // guarded by mutex_ (queued is filled in by stats())
  std::atomic<bool> stopping_{false};  // set under mutex_; read by progress handlers too
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<std::thread> threads_;
};

}  // namespace detail

CatalogService::CatalogService(Options options) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(options.db_path, ec)) {
    throw CatalogError("cannot open catalog " + options.db_path.string() +
                       ": no such file (run prepare_catalog first)");
  }
  indexed_ = std::make_unique<detail::QueryPool>("indexed", options.db_path,
                                                 options.indexed_threads, options.indexed_queue);
  scan_ = std::make_unique<detail::QueryPool>("scan", options.db_path, options.scan_threads,
                                              options.scan_queue);
}

CatalogService::~CatalogService() {
  // Both pools stop interrupting at once; then each is joined.
  indexed_->begin_stop();
  scan_->begin_stop();
  indexed_.reset();
  scan_.reset();
}

void CatalogService::products(std::string category, int limit, Deadline deadline,
                              CancelToken cancel, QueryCallback done) {
  detail::Job job;
  job.kind = detail::QueryKind::products;
  job.text = std::move(category);
  job.limit = std::max(limit, 0);
  job.deadline = deadline;
  job.cancel = std::move(cancel);
  job.done = std::move(done);
  indexed_->submit(std::move(job));
}

void CatalogService::recommendations(std::string category, double min_price, double max_price,
                                     int limit, Deadline deadline, CancelToken cancel,
                                     QueryCallback done) {
  detail::Job job;
  job.kind = detail::QueryKind::recommendations;
  job.text = std::move(category);
  job.min_price = min_price;
  job.max_price = max_price;
  job.limit = std::max(limit, 0);
  job.deadline = deadline;
  job.cancel = std::move(cancel);
  job.done = std::move(done);
  scan_->submit(std::move(job));
}

void CatalogService::run_sql_for_test(std::string sql, Deadline deadline, CancelToken cancel,
                                      QueryCallback done, std::function<void()> on_start) {
  detail::Job job;
  job.kind = detail::QueryKind::custom_sql;
  job.text = std::move(sql);
  job.deadline = deadline;
  job.cancel = std::move(cancel);
  job.done = std::move(done);
  job.on_start = std::move(on_start);
  scan_->submit(std::move(job));
}

PoolStats CatalogService::indexed_stats() const {
  return indexed_->stats();
}

PoolStats CatalogService::scan_stats() const {
  return scan_->stats();
}

}  // namespace trafficsim::demo_service
