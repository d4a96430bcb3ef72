#include "storage/sqlite.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <stdexcept>
#include <string>
#include <utility>

#include "support/process.hpp"

namespace trafficsim::storage {
namespace {

using testing::TempDir;

Database scratch_db(const TempDir& dir) {
  Database db(dir.path() / "test.sqlite");
  db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, score REAL, note TEXT)");
  return db;
}

TEST(SqliteDatabaseTest, EnableWalReallySwitchesTheJournalMode) {
  TempDir dir;
  Database db(dir.path() / "wal.sqlite");
  db.enable_wal(std::chrono::milliseconds(1500));
  Statement mode = db.prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode.step());
  EXPECT_EQ(mode.column_text(0), "wal");
  EXPECT_EQ(db.query_int64("PRAGMA synchronous"), 1);  // NORMAL
  EXPECT_EQ(db.query_int64("PRAGMA busy_timeout"), 1500);
  // A second connection sees the mode: it is a property of the file, not of the connection.
  Database other(dir.path() / "wal.sqlite", {Access::read_only});
  Statement other_mode = other.prepare("PRAGMA journal_mode");
  ASSERT_TRUE(other_mode.step());
  EXPECT_EQ(other_mode.column_text(0), "wal");
}

TEST(SqliteDatabaseTest, EnableWalFailsWhereWalIsImpossible) {
  Database db(":memory:");
  EXPECT_THROW(db.enable_wal(), SqliteError);
}

TEST(SqliteStatementTest, BindAndStepRoundTripEveryType) {
  TempDir dir;
  Database db = scratch_db(dir);
  Statement insert = db.prepare("INSERT INTO t(id, name, score, note) VALUES (?1, ?2, ?3, ?4)");
  const std::string name("caf\xc3\xa9 with \0 inside", 19);
  insert
      .bind_int64(1, 9'007'199'254'740'993LL)  // not exact as a double
      .bind_text(2, name)
      .bind_double(3, 0.1)
      .bind_null(4);
  EXPECT_FALSE(insert.step());
  EXPECT_EQ(db.changes(), 1);
  EXPECT_EQ(db.last_insert_rowid(), 9'007'199'254'740'993LL);

  Statement select = db.prepare("SELECT id, name, score, note FROM t");
  ASSERT_TRUE(select.step());
  EXPECT_EQ(select.column_count(), 4);
  EXPECT_EQ(select.column_int64(0), 9'007'199'254'740'993LL);
  EXPECT_EQ(select.column_text(1), name);
  EXPECT_EQ(select.column_double(2), 0.1);
  EXPECT_TRUE(select.column_is_null(3));
  EXPECT_FALSE(select.column_is_null(1));
  EXPECT_EQ(select.column_text(3), "");
  EXPECT_FALSE(select.step());
}

TEST(SqliteStatementTest, BindsByNameAndResetsForTheNextRow) {
  TempDir dir;
  Database db = scratch_db(dir);
  Statement insert = db.prepare("INSERT INTO t(id, name) VALUES (:id, :name)");
  for (int64_t id = 1; id <= 3; ++id) {
    insert.bind_int64(":id", id).bind_text(":name", "row " + std::to_string(id));
    EXPECT_FALSE(insert.step());
    insert.reset();
  }
  EXPECT_EQ(db.query_int64("SELECT count(*) FROM t"), 3);
  Statement select = db.prepare("SELECT name FROM t WHERE id = @id");
  select.bind_int64("@id", 2);
  ASSERT_TRUE(select.step());
  EXPECT_EQ(select.column_text(0), "row 2");
  EXPECT_THROW(select.bind_int64(":nope", 1), SqliteError);
}

TEST(SqliteStatementTest, IsMoveOnlyAndTheMovedFromStatementIsEmpty) {
  static_assert(!std::is_copy_constructible_v<Statement>);
  static_assert(std::is_nothrow_move_constructible_v<Statement>);
  TempDir dir;
  Database db = scratch_db(dir);
  Statement first = db.prepare("SELECT 42");
  Statement second = std::move(first);
  EXPECT_FALSE(first);  // NOLINT(bugprone-use-after-move): the contract under test
  ASSERT_TRUE(second.step());
  EXPECT_EQ(second.column_int64(0), 42);
}

TEST(SqliteErrorTest, AFailedPrepareNamesTheSqlAndSqlitesMessage) {
  TempDir dir;
  Database db = scratch_db(dir);
  try {
    db.prepare("SELECT * FROM missing_table");
    FAIL() << "prepare should have thrown";
  } catch (const SqliteError& e) {
    EXPECT_EQ(e.primary_code(), SQLITE_ERROR);
    EXPECT_EQ(e.sql(), "SELECT * FROM missing_table");
    EXPECT_NE(e.sqlite_message().find("no such table: missing_table"), std::string::npos);
    const std::string what = e.what();
    EXPECT_NE(what.find("no such table: missing_table"), std::string::npos) << what;
    EXPECT_NE(what.find("SELECT * FROM missing_table"), std::string::npos) << what;
  }
}

TEST(SqliteErrorTest, AFailedStepNamesTheStatement) {
  TempDir dir;
  Database db = scratch_db(dir);
  db.exec("INSERT INTO t(id) VALUES (1)");
  Statement insert = db.prepare("INSERT INTO t(id) VALUES (?1)");
  insert.bind_int64(1, 1);
  try {
    insert.step();
    FAIL() << "a duplicate primary key should have thrown";
  } catch (const SqliteError& e) {
    EXPECT_EQ(e.primary_code(), SQLITE_CONSTRAINT);
    EXPECT_EQ(e.code(), SQLITE_CONSTRAINT_PRIMARYKEY);  // extended codes are on
    EXPECT_NE(std::string(e.what()).find("INSERT INTO t(id) VALUES (?1)"), std::string::npos);
  }
}

TEST(SqliteErrorTest, OpeningAMissingFileReadOnlyNamesThePath) {
  TempDir dir;
  const auto path = dir.path() / "absent.sqlite";
  try {
    Database db(path, {Access::read_only});
    FAIL() << "opening a missing file read-only should have thrown";
  } catch (const SqliteError& e) {
    EXPECT_EQ(e.primary_code(), SQLITE_CANTOPEN);
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
}

TEST(SqliteTransactionTest, CommitKeepsTheWrites) {
  TempDir dir;
  Database db = scratch_db(dir);
  {
    Transaction tx(db);
    db.exec("INSERT INTO t(id) VALUES (1), (2)");
    tx.commit();
  }
  EXPECT_EQ(db.query_int64("SELECT count(*) FROM t"), 2);
}

TEST(SqliteTransactionTest, AnExceptionRollsBackEverythingSinceBegin) {
  TempDir dir;
  Database db = scratch_db(dir);
  db.exec("INSERT INTO t(id) VALUES (1)");
  try {
    Transaction tx(db);
    db.exec("INSERT INTO t(id) VALUES (2)");
    db.exec("UPDATE t SET name = 'changed'");
    throw std::runtime_error("something failed half-way");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(db.query_int64("SELECT count(*) FROM t"), 1);
  EXPECT_EQ(db.query_int64("SELECT count(*) FROM t WHERE name IS NULL"), 1);
  // The connection is usable again: no transaction was left open.
  Transaction again(db);
  again.commit();
}

TEST(SqliteTransactionTest, TakesTheWriteLockAtOnce) {
  TempDir dir;
  const auto path = dir.path() / "locks.sqlite";
  Database first(path);
  first.enable_wal(std::chrono::milliseconds(0));
  Database second(path);
  second.set_busy_timeout(std::chrono::milliseconds(0));
  Transaction holding(first);
  // BEGIN IMMEDIATE, not a deferred BEGIN: the second writer is refused at BEGIN.
  try {
    Transaction blocked(second);
    FAIL() << "a second writer should be refused while the first holds the lock";
  } catch (const SqliteError& e) {
    EXPECT_EQ(e.primary_code(), SQLITE_BUSY);
    EXPECT_EQ(e.sql(), "BEGIN IMMEDIATE");
  }
  holding.commit();
  Transaction now_free(second);
  now_free.commit();
}

TEST(SqliteDatabaseTest, QueryInt64IsNulloptWithoutARow) {
  TempDir dir;
  Database db = scratch_db(dir);
  EXPECT_EQ(db.query_int64("SELECT id FROM t"), std::nullopt);
  db.exec("INSERT INTO t(id) VALUES (7)");
  EXPECT_EQ(db.query_int64("SELECT id FROM t"), 7);
}

TEST(SqliteDatabaseTest, CloseReportsAStatementStillOpen) {
  TempDir dir;
  Database db = scratch_db(dir);
  {
    Statement open_statement = db.prepare("SELECT 1");
    EXPECT_THROW(db.close(), SqliteError);
  }
  db.close();
  EXPECT_EQ(db.handle(), nullptr);
}

}  // namespace
}  // namespace trafficsim::storage
