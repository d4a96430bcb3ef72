#include "demo_service/catalog_store.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>  // result codes only
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>

#include "core/random.hpp"
#include "storage/sqlite.hpp"

namespace trafficsim::demo_service {

namespace fs = std::filesystem;

namespace {

// Bump when the schema or the way rows are drawn changes: older files are then rebuilt.
constexpr int64_t kSchemaVersion = 1;
constexpr int64_t kMaxRows = 50'000'000;
constexpr std::string_view kFileName = "catalog.sqlite";
constexpr std::string_view kIndexName = "idx_products_category_active";

using storage::Database;
using storage::SqliteError;
using storage::Statement;

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

// The cause of a failed SQLite call in the words an operator acts on. SQLite reports ENOSPC as
// SQLITE_FULL, but EFBIG (the RLIMIT_FSIZE case) and EDQUOT only as SQLITE_IOERR_WRITE, with the
// errno kept beside it.
std::string sqlite_cause(const SqliteError& error) {
  int primary = error.primary_code();
  if (primary == SQLITE_FULL) return errno_cause(ENOSPC);
  if (primary == SQLITE_READONLY || primary == SQLITE_PERM) return errno_cause(EACCES);
  if (primary == SQLITE_IOERR && error.os_errno() != 0) return errno_cause(error.os_errno());
  return error.sqlite_message();
}

// Failure while writing the catalog; always names the final path, not the temporary file.
struct WriteFailure {
  std::string cause;
};

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

// Writes a complete catalog into `file` (which must not exist). Speed over durability while
// writing: no journal, no syncs, one transaction — a failed write is discarded, never reused.
void write_catalog(const fs::path& file, const CatalogOptions& options) {
  // Created here rather than by SQLite, whose open error loses the errno (EACCES, EROFS, ...).
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw WriteFailure{errno_cause(errno)};
  ::close(fd);
  try {
    Database db(file, {storage::Access::read_write_create});
    db.exec(
        "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA locking_mode=EXCLUSIVE;"
        "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536;");
    // A plain BEGIN/COMMIT, not storage::Transaction: without a journal there is nothing to
    // roll back, and a failed file is deleted anyway.
    db.exec("BEGIN");
    db.exec(
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE products(id INTEGER PRIMARY KEY, name TEXT NOT NULL, category TEXT NOT NULL,"
        " active INTEGER NOT NULL, price REAL NOT NULL, popularity INTEGER NOT NULL,"
        " description TEXT NOT NULL);");
    {
      Statement insert = db.prepare(
          "INSERT INTO products(id, name, category, active, price, popularity,"
          " description) VALUES (?, ?, ?, ?, ?, ?, ?)");
      Row row;
      for (int64_t id = 1; id <= options.rows; ++id) {
        draw_row(options.seed, id, row);
        insert.bind_int64(1, id)
            .bind_text(2, row.name)
            .bind_text(3, row.category)
            .bind_int64(4, row.active ? 1 : 0)
            .bind_double(5, static_cast<double>(row.price_cents) / 100.0)
            .bind_int64(6, row.popularity)
            .bind_text(7, row.description);
        insert.step();
        insert.reset();
      }
    }

    // The index after the rows: one sort instead of 500 000 random b-tree inserts.
    db.exec("CREATE INDEX idx_products_category_active ON products(category, active); ANALYZE;");
    {
      Statement meta = db.prepare("INSERT INTO meta(key, value) VALUES (?, ?)");
      auto put = [&](const char* key, int64_t value) {
        meta.bind_text(1, key).bind_int64(2, value);
        meta.step();
        meta.reset();
      };
      put("schema_version", kSchemaVersion);
      put("rows", options.rows);
      put("seed", static_cast<int64_t>(options.seed));  // stored bit for bit
    }
    db.exec("COMMIT");
    db.close();
  } catch (const SqliteError& error) {
    throw WriteFailure{sqlite_cause(error)};
  }
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

// The first column of the first row of `sql`, or `fallback` when there is no row.
int64_t query_int(Database& db, const char* sql, int64_t fallback) {
  return db.query_int64(sql).value_or(fallback);
}

// Why the file at `path` cannot serve as this catalog; empty when it can. Never throws: a file
// that cannot even be read is simply a reason to rebuild.
std::string why_unusable(const fs::path& path, const CatalogOptions& options) {
  std::optional<Database> opened;
  try {
    opened.emplace(path, storage::OpenOptions{storage::Access::read_only, true});
  } catch (const SqliteError& error) {
    return std::string("unreadable: ") + sqlite_cause(error);
  }
  Database& db = *opened;
  try {
    bool has_meta = query_int(db,
                              "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                              "name IN ('meta', 'products')",
                              0) == 2;
    if (!has_meta) return "not a catalog (no meta or products table)";
    int64_t version =
        query_int(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1);
    if (version != kSchemaVersion) {
      return "schema version " + std::to_string(version) + ", expected " +
             std::to_string(kSchemaVersion);
    }
    int64_t rows = query_int(db, "SELECT value FROM meta WHERE key = 'rows'", -1);
    if (rows != options.rows) {
      return "row count " + std::to_string(rows) + ", requested " + std::to_string(options.rows);
    }
    auto seed =
        static_cast<uint64_t>(query_int(db, "SELECT value FROM meta WHERE key = 'seed'", -1));
    if (seed != options.seed) {
      return "seed " + std::to_string(seed) + ", requested " + std::to_string(options.seed);
    }
    // The header records the database size. SQLite itself refuses a file shorter than that
    // (it lost its tail, where the index pages are); a longer one has something appended.
    int64_t expected_bytes =
        query_int(db, "PRAGMA page_count", 0) * query_int(db, "PRAGMA page_size", 0);
    std::error_code ec;
    auto actual_bytes = static_cast<int64_t>(fs::file_size(path, ec));
    if (ec || actual_bytes != expected_bytes) {
      return "file is " + std::to_string(actual_bytes) + " bytes, its header says " +
             std::to_string(expected_bytes);
    }
    bool has_index = query_int(db,
                               "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND "
                               "name = 'idx_products_category_active'",
                               0) == 1;
    if (!has_index) return "index " + std::string(kIndexName) + " is missing";
    // Counting walks the whole index, so a damaged index page shows up here.
    int64_t counted = query_int(db, "SELECT count(*) FROM products", -1);
    if (counted != options.rows) {
      return "products holds " + std::to_string(counted) + " rows, meta says " +
             std::to_string(options.rows);
    }
  } catch (const SqliteError& error) {
    return std::string("unreadable: ") + error.sqlite_message();
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
