#pragma once
// The one SQLite wrapper: a connection (Database), a prepared statement (Statement) and a write
// transaction (Transaction), each owning its handle and releasing it in its destructor. Every
// failure is a SqliteError carrying SQLite's code and message and the SQL (or the file) it was
// about, so a caller never reads sqlite3_errmsg() itself.
//
// Threads: a Database and its Statements belong to one thread at a time (open with
// single_thread = true when a connection never changes threads, as the catalog's pool does).
// Nothing here locks.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

struct sqlite3;
struct sqlite3_stmt;

namespace trafficsim::storage {

class SqliteError : public std::runtime_error {
 public:
  // what(): "<sqlite message> (SQL: <sql>)", or "<sqlite message> (<context>)" for an open or
  // a close, or the bare message when there is neither.
  SqliteError(int code, std::string sqlite_message, std::string sql, std::string context = {},
              int os_errno = 0);

  int code() const { return code_; }                 // extended result code
  int primary_code() const { return code_ & 0xff; }  // SQLITE_BUSY, SQLITE_IOERR, ...
  const std::string& sqlite_message() const { return sqlite_message_; }
  const std::string& sql() const { return sql_; }  // empty when not about a statement
  // The errno behind an I/O error (SQLite reports EFBIG and EDQUOT only as SQLITE_IOERR_WRITE);
  // 0 when unknown or not an I/O error.
  int os_errno() const { return os_errno_; }

 private:
  int code_;
  std::string sqlite_message_;
  std::string sql_;
  int os_errno_;
};

class Database;

// A prepared statement. Move-only; finalized in the destructor. Parameters are 1-based (as in
// SQL's ?1), columns 0-based. Text is copied when bound, so the argument may go away at once.
class Statement {
 public:
  Statement() = default;
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind_int64(int index, int64_t value);
  Statement& bind_double(int index, double value);
  Statement& bind_text(int index, std::string_view value);
  Statement& bind_null(int index);
  // By name as written in the SQL, prefix included (":id", "@id", "$id"); an unknown name
  // throws SqliteError naming it.
  Statement& bind_int64(std::string_view name, int64_t value);
  Statement& bind_double(std::string_view name, double value);
  Statement& bind_text(std::string_view name, std::string_view value);
  Statement& bind_null(std::string_view name);

  // true: a row is ready for the column getters; false: done. Throws SqliteError otherwise (an
  // interrupted statement too: primary_code() == SQLITE_INTERRUPT).
  bool step();
  // Ready to step again from the start; the bindings stay unless clear_bindings() is called.
  void reset();
  void clear_bindings();

  int column_count() const;
  bool column_is_null(int column) const;
  int64_t column_int64(int column) const;
  double column_double(int column) const;
  std::string column_text(int column) const;  // "" for NULL

  // Rows stepped through by full table scans since the last call (SQLITE_STMTSTATUS_FULLSCAN_STEP,
  // read and zeroed).
  int64_t take_full_scan_steps();

  const std::string& sql() const { return sql_; }
  sqlite3_stmt* handle() const { return stmt_; }
  explicit operator bool() const { return stmt_ != nullptr; }

 private:
  friend class Database;
  Statement(sqlite3* db, sqlite3_stmt* stmt, std::string sql)
      : db_(db), stmt_(stmt), sql_(std::move(sql)) {}
  int parameter_index(std::string_view name) const;
  void check_bind(int rc, int index) const;

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_;
};

enum class Access { read_only, read_write, read_write_create };

struct OpenOptions {
  Access access = Access::read_write_create;
  // The connection is used by one thread at a time and needs no mutex of its own
  // (SQLITE_OPEN_NOMUTEX).
  bool single_thread = false;
};

// A connection. Move-only; closed in the destructor (sqlite3_close_v2). Result codes are the
// extended ones.
class Database {
 public:
  // Throws SqliteError whose what() names the path.
  Database(const std::filesystem::path& path, OpenOptions options = {});
  ~Database();
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // The set-up for a file that several connections (threads or processes) write: write-ahead
  // log, writers wait up to busy_timeout for each other, and synchronous=NORMAL (durable at
  // checkpoints; a power cut loses at most the last transactions, never the file). Throws when
  // the file cannot be switched to WAL (an in-memory database, for one).
  void enable_wal(std::chrono::milliseconds busy_timeout = std::chrono::seconds(5));
  void set_busy_timeout(std::chrono::milliseconds timeout);

  // Runs one or more statements that return nothing of interest.
  void exec(std::string_view sql);
  // persistent: the statement lives as long as the connection (SQLITE_PREPARE_PERSISTENT).
  Statement prepare(std::string_view sql, bool persistent = false);

  // The first column of the first row of `sql` as an integer, or nullopt when there is no row.
  std::optional<int64_t> query_int64(std::string_view sql);

  int64_t last_insert_rowid() const;
  int64_t changes() const;  // rows changed by the last INSERT, UPDATE or DELETE

  // Closes now and throws SqliteError if SQLite refuses (a statement still open, a failed
  // final write); afterwards the object is empty. The destructor closes without throwing.
  void close();

  const std::filesystem::path& path() const { return path_; }
  sqlite3* handle() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
};

// BEGIN IMMEDIATE on construction (the write lock is taken at once, so a busy database fails
// here rather than half-way); ROLLBACK in the destructor unless commit() succeeded, so an
// exception leaves the database as it was. One at a time per connection.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit();  // throws SqliteError; the destructor then rolls back

 private:
  Database& db_;
  bool finished_ = false;
};

}  // namespace trafficsim::storage
