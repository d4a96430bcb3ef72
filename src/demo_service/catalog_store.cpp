#include "demo_service/catalog_store.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <string_view>
#include <system_error>

#include "core/random.hpp"

namespace trafficsim::demo_service {

namespace fs = std::filesystem;

namespace {

// Bump when the schema or the way rows are drawn changes: older files are then rebuilt.
constexpr int64_t kSchemaVersion = 1;
constexpr int64_t kMaxRows = 50'000'000;
constexpr std::string_view kFileName = "catalog.sqlite";
constexpr std::string_view kIndexName = "idx_products_category_active";

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// An errno in the words an operator acts on.
std::string errno_cause(int err) {
  switch (err) {
    case ENOSPC:
    case EFBIG:
    case EDQUOT:
      return "disk full (file size limit or no space left)";
    case EACCES:
    case EPERM:
      return "permission denied";
    case ENOTDIR:
      return "not a directory";
    case EROFS:
      return "read-only file system";
    default:
      return std::strerror(err);
  }
}

// The cause of a failed SQLite call. SQLite reports ENOSPC as SQLITE_FULL, but EFBIG (the
// RLIMIT_FSIZE case) and EDQUOT only as SQLITE_IOERR_WRITE; the errno behind an I/O error is kept
// by the file itself (sqlite3_system_errno is just errno when the error was reported, often
// overwritten by the clean-up that followed).
std::string sqlite_cause(sqlite3* db, int rc) {
  int primary = rc & 0xff;
  if (primary == SQLITE_FULL) return errno_cause(ENOSPC);
  if (primary == SQLITE_READONLY || primary == SQLITE_PERM) return errno_cause(EACCES);
  if (db == nullptr) return sqlite3_errstr(rc);
  int err = 0;
  if (primary == SQLITE_IOERR &&
      sqlite3_file_control(db, "main", SQLITE_FCNTL_LAST_ERRNO, &err) == SQLITE_OK && err != 0) {
    return errno_cause(err);
  }
  return sqlite3_errmsg(db);
}

// Failure while writing the catalog; always names the final path, not the temporary file.
struct WriteFailure {
  std::string cause;
};

void exec(sqlite3* db, const char* sql) {
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) throw WriteFailure{sqlite_cause(db, rc)};
}

Stmt prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) throw WriteFailure{sqlite_cause(db, rc)};
  return Stmt(stmt);
}

// Everything random about row `id` derives from (seed, id, lane) alone, as arrivals do in
// core/random.hpp, so the data does not depend on the order rows are written in.
uint64_t draw(uint64_t seed, int64_t id, uint64_t lane) {
  return core::mix64(core::mix64(core::mix64(seed) ^ static_cast<uint64_t>(id)) ^ lane);
}

// Words of the short description. Rows stay narrow (about 110 bytes of data): a full scan of
// 500 000 of them already costs 30-40 ms against tens of microseconds for the indexed query,
// the gap the demo needs; wider rows would only slow generation and the tests.
constexpr std::string_view kAdjectives[] = {
    "compact", "durable",      "lightweight", "premium",  "versatile", "rugged",
    "elegant", "eco-friendly", "handcrafted", "wireless", "ergonomic", "classic"};
constexpr std::string_view kFeatures[] = {
    "a two-year warranty",      "free returns",   "replaceable parts",
    "an adjustable fit",        "a carry case",   "batteries included",
    "a water-resistant finish", "a gift wrapper", "an extended support plan"};

template <size_t N>
std::string_view pick(const std::string_view (&words)[N], uint64_t r) {
  return words[r % N];
}

std::string capitalised(std::string_view word) {
  std::string out(word);
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 32);
  return out;
}

struct Row {
  std::string name, category, description;
  bool active = false;
  int64_t price_cents = 0;
  int64_t popularity = 0;
};

void draw_row(uint64_t seed, int64_t id, Row& row) {
  const auto& categories = catalog_categories();
  const std::string& category = categories[draw(seed, id, 1) % categories.size()];
  row.category = category;
  row.active = draw(seed, id, 2) % 100 < 90;
  row.price_cents = 100 + static_cast<int64_t>(draw(seed, id, 3) % 199'901);  // 1.00..2000.00
  row.popularity = static_cast<int64_t>(draw(seed, id, 4) % 1'000'001);
  row.name = capitalised(category) + " item " + std::to_string(id);
  row.description = capitalised(pick(kAdjectives, draw(seed, id, 5))) + " " + category +
                    " item with " + std::string(pick(kFeatures, draw(seed, id, 6))) +
                    ". Ships in " + std::to_string(1 + draw(seed, id, 7) % 5) + " days.";
}

void bind_text(sqlite3_stmt* stmt, int index, const std::string& text) {
  sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

// Writes a complete catalog into `file` (which must not exist). Speed over durability while
// writing: no journal, no syncs, one transaction — a failed write is discarded, never reused.
void write_catalog(const fs::path& file, const CatalogOptions& options) {
  // Created here rather than by SQLite, whose open error loses the errno (EACCES, EROFS, ...).
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw WriteFailure{errno_cause(errno)};
  ::close(fd);
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(file.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXRESCODE, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) throw WriteFailure{sqlite_cause(raw, rc)};

  exec(db.get(),
       "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA locking_mode=EXCLUSIVE;"
       "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536;");
  exec(db.get(), "BEGIN");
  exec(db.get(),
       "CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
       "CREATE TABLE products(id INTEGER PRIMARY KEY, name TEXT NOT NULL, category TEXT NOT NULL,"
       " active INTEGER NOT NULL, price REAL NOT NULL, popularity INTEGER NOT NULL,"
       " description TEXT NOT NULL);");

  Stmt insert = prepare(db.get(),
                        "INSERT INTO products(id, name, category, active, price, popularity,"
                        " description) VALUES (?, ?, ?, ?, ?, ?, ?)");
  Row row;
  for (int64_t id = 1; id <= options.rows; ++id) {
    draw_row(options.seed, id, row);
    sqlite3_bind_int64(insert.get(), 1, id);
    bind_text(insert.get(), 2, row.name);
    bind_text(insert.get(), 3, row.category);
    sqlite3_bind_int(insert.get(), 4, row.active ? 1 : 0);
    sqlite3_bind_double(insert.get(), 5, static_cast<double>(row.price_cents) / 100.0);
    sqlite3_bind_int64(insert.get(), 6, row.popularity);
    bind_text(insert.get(), 7, row.description);
    rc = sqlite3_step(insert.get());
    if (rc != SQLITE_DONE) throw WriteFailure{sqlite_cause(db.get(), rc)};
    sqlite3_reset(insert.get());
  }
  insert.reset();

  // The index after the rows: one sort instead of 500 000 random b-tree inserts.
  exec(db.get(),
       "CREATE INDEX idx_products_category_active ON products(category, active); ANALYZE;");
  Stmt meta = prepare(db.get(), "INSERT INTO meta(key, value) VALUES (?, ?)");
  auto put = [&](const char* key, int64_t value) {
    sqlite3_bind_text(meta.get(), 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(meta.get(), 2, value);
    int step = sqlite3_step(meta.get());
    if (step != SQLITE_DONE) throw WriteFailure{sqlite_cause(db.get(), step)};
    sqlite3_reset(meta.get());
  };
  put("schema_version", kSchemaVersion);
  put("rows", options.rows);
  put("seed", static_cast<int64_t>(options.seed));  // stored bit for bit
  meta.reset();
  exec(db.get(), "COMMIT");
  rc = sqlite3_close(db.release());
  if (rc != SQLITE_OK) throw WriteFailure{sqlite_cause(nullptr, rc)};
}

// Makes `file` durable (its data, then its directory entry after the rename).
void fsync_path(const fs::path& file, int flags) {
  int fd = ::open(file.c_str(), flags | O_CLOEXEC);
  if (fd < 0) throw WriteFailure{errno_cause(errno)};
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) throw WriteFailure{errno_cause(err)};
}

// A failed read of an existing file; sqlite3_errmsg says why.
struct ReadFailure {};

// The first column of the first row of `sql`, or `fallback` when there is no row.
int64_t query_int(sqlite3* db, const char* sql, int64_t fallback) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK) throw ReadFailure{};
  Stmt stmt(raw);
  int rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_ROW) return sqlite3_column_int64(stmt.get(), 0);
  if (rc == SQLITE_DONE) return fallback;
  throw ReadFailure{};
}

// Why the file at `path` cannot serve as this catalog; empty when it can. Never throws: a file
// that cannot even be read is simply a reason to rebuild.
std::string why_unusable(const fs::path& path, const CatalogOptions& options) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) return std::string("unreadable: ") + sqlite_cause(raw, rc);
  try {
    bool has_meta = query_int(db.get(),
                              "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                              "name IN ('meta', 'products')",
                              0) == 2;
    if (!has_meta) return "not a catalog (no meta or products table)";
    int64_t version =
        query_int(db.get(), "SELECT value FROM meta WHERE key = 'schema_version'", -1);
    if (version != kSchemaVersion) {
      return "schema version " + std::to_string(version) + ", expected " +
             std::to_string(kSchemaVersion);
    }
    int64_t rows = query_int(db.get(), "SELECT value FROM meta WHERE key = 'rows'", -1);
    if (rows != options.rows) {
      return "row count " + std::to_string(rows) + ", requested " + std::to_string(options.rows);
    }
    auto seed =
        static_cast<uint64_t>(query_int(db.get(), "SELECT value FROM meta WHERE key = 'seed'", -1));
    if (seed != options.seed) {
      return "seed " + std::to_string(seed) + ", requested " + std::to_string(options.seed);
    }
    // The header records the database size. SQLite itself refuses a file shorter than that
    // (it lost its tail, where the index pages are); a longer one has something appended.
    int64_t expected_bytes =
        query_int(db.get(), "PRAGMA page_count", 0) * query_int(db.get(), "PRAGMA page_size", 0);
    std::error_code ec;
    auto actual_bytes = static_cast<int64_t>(fs::file_size(path, ec));
    if (ec || actual_bytes != expected_bytes) {
      return "file is " + std::to_string(actual_bytes) + " bytes, its header says " +
             std::to_string(expected_bytes);
    }
    bool has_index = query_int(db.get(),
                               "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND "
                               "name = 'idx_products_category_active'",
                               0) == 1;
    if (!has_index) return "index " + std::string(kIndexName) + " is missing";
    // Counting walks the whole index, so a damaged index page shows up here.
    int64_t counted = query_int(db.get(), "SELECT count(*) FROM products", -1);
    if (counted != options.rows) {
      return "products holds " + std::to_string(counted) + " rows, meta says " +
             std::to_string(options.rows);
    }
  } catch (const ReadFailure&) {
    return std::string("unreadable: ") + sqlite3_errmsg(db.get());
  }
  return {};
}

// Temporary files are "catalog.sqlite.<pid>.<n>.tmp". Those of processes that no longer exist
// were left by a crash or a kill during generation; they are removed so they do not pile up.
std::string temp_name(pid_t pid, uint64_t n) {
  return std::string(kFileName) + "." + std::to_string(pid) + "." + std::to_string(n) + ".tmp";
}

void remove_orphaned_temp_files(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    std::string prefix = std::string(kFileName) + ".";
    if (name.size() <= prefix.size() + 4 || name.compare(0, prefix.size(), prefix) != 0 ||
        !name.ends_with(".tmp")) {
      continue;
    }
    pid_t pid = 0;
    try {
      pid = static_cast<pid_t>(std::stol(name.substr(prefix.size())));
    } catch (const std::exception&) {
      continue;
    }
    if (pid > 0 && pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH) {
      fs::remove(entry.path(), ec);
    }
  }
}

// Removes the temporary file unless it was renamed into place.
struct TempFileGuard {
  fs::path path;
  bool keep = false;
  ~TempFileGuard() {
    if (keep) return;
    std::error_code ec;
    fs::remove(path, ec);
  }
};

void ensure_directory(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    throw CatalogError("catalog directory " + dir.string() + " is not a directory");
  }
  fs::create_directories(dir, ec);
  if (ec) {
    throw CatalogError("cannot create catalog directory " + dir.string() + ": " +
                       errno_cause(ec.value()));
  }
}

}  // namespace

const std::vector<std::string>& catalog_categories() {
  static const std::vector<std::string> categories = {"electronics", "books",  "home",   "toys",
                                                      "clothing",    "sports", "beauty", "garden",
                                                      "automotive",  "grocery"};
  return categories;
}

CatalogInfo prepare_catalog(const CatalogOptions& options) {
  if (options.rows < 1 || options.rows > kMaxRows) {
    throw CatalogError("catalog rows must be in [1, " + std::to_string(kMaxRows) + "], got " +
                       std::to_string(options.rows));
  }
  if (options.data_dir.empty()) throw CatalogError("no catalog directory given");
  ensure_directory(options.data_dir);

  CatalogInfo info;
  info.path = options.data_dir / kFileName;
  info.rows = options.rows;
  std::error_code ec;
  auto status = fs::status(info.path, ec);  // a symlink to a catalog is fine
  if (fs::exists(status)) {
    if (!fs::is_regular_file(status)) {
      throw CatalogError("catalog " + info.path.string() + " exists and is not a regular file");
    }
    info.rebuild_reason = why_unusable(info.path, options);
    if (info.rebuild_reason.empty()) return info;
  }

  static std::atomic<uint64_t> temp_counter{0};
  remove_orphaned_temp_files(options.data_dir);
  TempFileGuard temp{options.data_dir / temp_name(::getpid(), temp_counter++)};
  fs::remove(temp.path, ec);
  auto started = std::chrono::steady_clock::now();
  try {
    write_catalog(temp.path, options);
    fsync_path(temp.path, O_RDONLY);
    if (::rename(temp.path.c_str(), info.path.c_str()) != 0) throw WriteFailure{errno_cause(errno)};
    temp.keep = true;
    fsync_path(options.data_dir, O_RDONLY | O_DIRECTORY);
  } catch (const WriteFailure& failure) {
    throw CatalogError("cannot write catalog " + info.path.string() + ": " + failure.cause);
  }
  info.generated = true;
  info.generation_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return info;
}

}  // namespace trafficsim::demo_service
