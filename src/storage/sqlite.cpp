#include "storage/sqlite.hpp"

#include <sqlite3.h>

#include <utility>

namespace trafficsim::storage {

namespace {

std::string describe(const std::string& message, const std::string& sql,
                     const std::string& context) {
  if (!sql.empty()) return message + " (SQL: " + sql + ")";
  if (!context.empty()) return message + " (" + context + ")";
  return message;
}

// The error of the call that returned rc on db, read before anything else touches db.
SqliteError error_from(sqlite3* db, int rc, std::string sql, std::string context = {}) {
  std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  int os_errno = 0;
  // The errno behind an I/O error is kept by the file itself (sqlite3_system_errno is only
  // errno when the error was reported, often overwritten by the clean-up that followed).
  if (db != nullptr && (rc & 0xff) == SQLITE_IOERR) {
    int err = 0;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_LAST_ERRNO, &err) == SQLITE_OK) {
      os_errno = err;
    }
  }
  return SqliteError(rc, std::move(message), std::move(sql), std::move(context), os_errno);
}

int open_flags(const OpenOptions& options) {
  int flags = SQLITE_OPEN_EXRESCODE;
  switch (options.access) {
    case Access::read_only:
      flags |= SQLITE_OPEN_READONLY;
      break;
    case Access::read_write:
      flags |= SQLITE_OPEN_READWRITE;
      break;
    case Access::read_write_create:
      flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
      break;
  }
  if (options.single_thread) flags |= SQLITE_OPEN_NOMUTEX;
  return flags;
}

}  // namespace

SqliteError::SqliteError(int code, std::string sqlite_message, std::string sql, std::string context,
                         int os_errno)
    : std::runtime_error(describe(sqlite_message, sql, context)),
      code_(code),
      sqlite_message_(std::move(sqlite_message)),
      sql_(std::move(sql)),
      os_errno_(os_errno) {}

// ----- Statement -----

Statement::~Statement() {
  sqlite3_finalize(stmt_);  // a no-op for nullptr
}

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      stmt_(std::exchange(other.stmt_, nullptr)),
      sql_(std::move(other.sql_)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
    sql_ = std::move(other.sql_);
  }
  return *this;
}

void Statement::check_bind(int rc, int index) const {
  if (rc != SQLITE_OK) {
    throw error_from(db_, rc, sql_, "binding parameter " + std::to_string(index));
  }
}

int Statement::parameter_index(std::string_view name) const {
  int index = sqlite3_bind_parameter_index(stmt_, std::string(name).c_str());
  if (index == 0) {
    throw SqliteError(SQLITE_RANGE, "no parameter named " + std::string(name), sql_);
  }
  return index;
}

Statement& Statement::bind_int64(int index, int64_t value) {
  check_bind(sqlite3_bind_int64(stmt_, index, value), index);
  return *this;
}

Statement& Statement::bind_double(int index, double value) {
  check_bind(sqlite3_bind_double(stmt_, index, value), index);
  return *this;
}

Statement& Statement::bind_text(int index, std::string_view value) {
  check_bind(
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
      index);
  return *this;
}

Statement& Statement::bind_null(int index) {
  check_bind(sqlite3_bind_null(stmt_, index), index);
  return *this;
}

Statement& Statement::bind_int64(std::string_view name, int64_t value) {
  return bind_int64(parameter_index(name), value);
}
Statement& Statement::bind_double(std::string_view name, double value) {
  return bind_double(parameter_index(name), value);
}
Statement& Statement::bind_text(std::string_view name, std::string_view value) {
  return bind_text(parameter_index(name), value);
}
Statement& Statement::bind_null(std::string_view name) {
  return bind_null(parameter_index(name));
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  throw error_from(db_, rc, sql_);
}

void Statement::reset() {
  // Returns the last step's error, already reported by step().
  sqlite3_reset(stmt_);
}

void Statement::clear_bindings() {
  sqlite3_clear_bindings(stmt_);
}

int Statement::column_count() const {
  return sqlite3_column_count(stmt_);
}

bool Statement::column_is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int64_t Statement::column_int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

double Statement::column_double(int column) const {
  return sqlite3_column_double(stmt_, column);
}

std::string Statement::column_text(int column) const {
  const auto* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

int64_t Statement::take_full_scan_steps() {
  return sqlite3_stmt_status(stmt_, SQLITE_STMTSTATUS_FULLSCAN_STEP, 1);
}

// ----- Database -----

Database::Database(const std::filesystem::path& path, OpenOptions options) : path_(path) {
  int rc = sqlite3_open_v2(path.c_str(), &db_, open_flags(options), nullptr);
  if (rc != SQLITE_OK) {
    SqliteError error = error_from(db_, rc, {}, "opening " + path.string());
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw error;
  }
  sqlite3_extended_result_codes(db_, 1);
}

Database::~Database() {
  sqlite3_close_v2(db_);  // a no-op for nullptr
}

Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
  }
  return *this;
}

void Database::set_busy_timeout(std::chrono::milliseconds timeout) {
  int rc = sqlite3_busy_timeout(db_, static_cast<int>(timeout.count()));
  if (rc != SQLITE_OK) throw error_from(db_, rc, {}, "setting the busy timeout");
}

void Database::enable_wal(std::chrono::milliseconds busy_timeout) {
  // The timeout first: switching to WAL itself needs the lock another connection may hold.
  set_busy_timeout(busy_timeout);
  Statement mode = prepare("PRAGMA journal_mode=WAL");
  std::string granted = mode.step() ? mode.column_text(0) : std::string();
  if (granted != "wal") {
    throw SqliteError(SQLITE_ERROR, "journal mode is '" + granted + "', not 'wal'", mode.sql());
  }
  exec("PRAGMA synchronous=NORMAL");
}

void Database::exec(std::string_view sql) {
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) throw error_from(db_, rc, std::move(text));
}

Statement Database::prepare(std::string_view sql, bool persistent) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              persistent ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    throw error_from(db_, rc, std::string(sql));
  }
  return Statement(db_, stmt, std::string(sql));
}

std::optional<int64_t> Database::query_int64(std::string_view sql) {
  Statement stmt = prepare(sql);
  if (!stmt.step()) return std::nullopt;
  return stmt.column_int64(0);
}

int64_t Database::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(db_);
}

int64_t Database::changes() const {
  return sqlite3_changes64(db_);
}

void Database::close() {
  if (db_ == nullptr) return;
  int rc = sqlite3_close(db_);
  if (rc != SQLITE_OK) {
    // The handle stays valid (SQLITE_BUSY: statements still open); the destructor retries.
    throw error_from(nullptr, rc, {}, "closing " + path_.string());
  }
  db_ = nullptr;
}

// ----- Transaction -----

Transaction::Transaction(Database& db) : db_(db) {
  db_.exec("BEGIN IMMEDIATE");
}

Transaction::~Transaction() {
  if (finished_) return;
  try {
    db_.exec("ROLLBACK");
  } catch (const SqliteError&) {
    // Nothing to roll back (SQLite already did, after an I/O error or a full disk).
  }
}

void Transaction::commit() {
  db_.exec("COMMIT");
  finished_ = true;
}

}  // namespace trafficsim::storage
