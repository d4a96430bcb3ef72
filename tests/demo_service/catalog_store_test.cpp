#include "demo_service/catalog_store.hpp"

#include <grp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "demo_service/catalog_sql.hpp"

namespace trafficsim::demo_service {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kRows = 50'000;

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "catalog-store-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    for (const auto& entry : fs::recursive_directory_iterator(path_, ec)) {
      if (entry.is_directory(ec)) fs::permissions(entry.path(), fs::perms::owner_all, ec);
    }
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A read-only connection for inspecting a catalog from the test.
class Inspect {
 public:
  explicit Inspect(const fs::path& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      throw std::runtime_error("cannot open " + path.string());
    }
  }
  ~Inspect() { sqlite3_close(db_); }
  Inspect(const Inspect&) = delete;
  Inspect& operator=(const Inspect&) = delete;

  // Every row of `sql`, each column as text ("" for NULL).
  std::vector<std::vector<std::string>> rows(const std::string& sql) const {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string(sqlite3_errmsg(db_)) + " in " + sql);
    }
    std::vector<std::vector<std::string>> out;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const auto* text = sqlite3_column_text(stmt, i);
        row.emplace_back(text != nullptr ? reinterpret_cast<const char*>(text) : "");
      }
      out.push_back(std::move(row));
    }
    sqlite3_finalize(stmt);
    return out;
  }
  std::string value(const std::string& sql) const {
    auto all = rows(sql);
    return all.empty() || all[0].empty() ? "" : all[0][0];
  }
  // The query plan's detail lines, joined.
  std::string plan(const std::string& sql) const {
    std::string joined;
    for (const auto& row : rows("EXPLAIN QUERY PLAN " + sql)) joined += row.at(3) + "\n";
    return joined;
  }

 private:
  sqlite3* db_ = nullptr;
};

CatalogOptions options_for(const fs::path& dir, int64_t rows = kRows, uint64_t seed = 1) {
  CatalogOptions options;
  options.data_dir = dir;
  options.rows = rows;
  options.seed = seed;
  return options;
}

std::vector<std::string> directory_listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

void overwrite(const fs::path& file, const std::string& bytes, std::streamoff at) {
  std::fstream out(file, std::ios::in | std::ios::out | std::ios::binary);
  out.seekp(at);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST(CatalogStoreTest, GeneratesTheRequestedRowsAcrossAllCategories) {
  TempDir dir;
  CatalogInfo info = prepare_catalog(options_for(dir.path() / "nested" / "data"));

  EXPECT_TRUE(info.generated);
  EXPECT_TRUE(info.rebuild_reason.empty());
  EXPECT_EQ(info.rows, kRows);
  EXPECT_EQ(info.path, dir.path() / "nested" / "data" / "catalog.sqlite");
  EXPECT_GT(info.generation_seconds, 0);
  // Only the catalog: the temporary file was renamed into place.
  EXPECT_EQ(directory_listing(info.path.parent_path()), std::vector<std::string>{"catalog.sqlite"});

  Inspect db(info.path);
  EXPECT_EQ(db.value("SELECT count(*) FROM products"), std::to_string(kRows));
  EXPECT_EQ(db.value("SELECT min(id) || '-' || max(id) FROM products"), "1-50000");

  const auto& categories = catalog_categories();
  ASSERT_GE(categories.size(), 8u);
  EXPECT_EQ(categories.front(), "electronics");
  std::map<std::string, int64_t> per_category;
  for (const auto& row : db.rows("SELECT category, count(*) FROM products GROUP BY category")) {
    per_category[row[0]] = std::stoll(row[1]);
  }
  ASSERT_EQ(per_category.size(), categories.size());
  double expected = static_cast<double>(kRows) / static_cast<double>(categories.size());
  for (const auto& category : categories) {
    ASSERT_TRUE(per_category.count(category)) << category;
    EXPECT_NEAR(per_category[category], expected, expected * 0.1) << category;
  }

  double active_share = std::stod(db.value("SELECT avg(active) FROM products"));
  EXPECT_NEAR(active_share, 0.9, 0.01);
  auto bounds =
      db.rows("SELECT min(price), max(price), min(popularity), max(popularity) FROM products")[0];
  EXPECT_GE(std::stod(bounds[0]), 1.0);
  EXPECT_LE(std::stod(bounds[1]), 2000.0);
  EXPECT_GE(std::stoll(bounds[2]), 0);
  EXPECT_LE(std::stoll(bounds[3]), 1'000'000);
  EXPECT_GT(std::stoll(bounds[3]) - std::stoll(bounds[2]), 900'000);  // spread, not constant
  EXPECT_EQ(db.value("SELECT count(*) FROM products WHERE abs(price * 100 - round(price * 100)) "
                     "> 1e-6"),
            "0");  // whole cents
  EXPECT_EQ(db.value("SELECT count(*) FROM products WHERE name != upper(substr(category, 1, 1)) "
                     "|| substr(category, 2) || ' item ' || id"),
            "0");
  EXPECT_EQ(db.value("SELECT count(*) FROM products WHERE length(description) < 20"), "0");
}

TEST(CatalogStoreTest, ProductsQueryUsesTheIndexAndRecommendationsScanTheTable) {
  TempDir dir;
  CatalogInfo info = prepare_catalog(options_for(dir.path()));
  Inspect db(info.path);

  EXPECT_EQ(db.value("SELECT sql FROM sqlite_schema WHERE name = 'idx_products_category_active'"),
            "CREATE INDEX idx_products_category_active ON products(category, active)");
  // The production queries themselves (their parameters unbound: a plan does not need them).
  std::string products_plan = db.plan(std::string(kProductsSql));
  EXPECT_NE(products_plan.find("USING INDEX idx_products_category_active"), std::string::npos)
      << products_plan;
  std::string recommendations_plan = db.plan(std::string(kRecommendationsSql));
  EXPECT_EQ(recommendations_plan.rfind("SCAN products", 0), 0u) << recommendations_plan;
  EXPECT_EQ(recommendations_plan.find("INDEX"), std::string::npos) << recommendations_plan;
}

TEST(CatalogStoreTest, SameSeedGivesTheSameRowsAndAnotherSeedDifferentOnes) {
  TempDir first, second, third;
  const int64_t rows = 5'000;
  Inspect a(prepare_catalog(options_for(first.path(), rows, 7)).path);
  Inspect b(prepare_catalog(options_for(second.path(), rows, 7)).path);
  Inspect c(prepare_catalog(options_for(third.path(), rows, 8)).path);
  const std::string all = "SELECT * FROM products ORDER BY id";
  EXPECT_EQ(a.rows(all), b.rows(all));
  EXPECT_NE(a.rows(all), c.rows(all));
}

TEST(CatalogStoreTest, SecondPrepareReusesTheFile) {
  TempDir dir;
  CatalogInfo first = prepare_catalog(options_for(dir.path()));
  struct stat before {};
  ASSERT_EQ(::stat(first.path.c_str(), &before), 0);

  CatalogInfo second = prepare_catalog(options_for(dir.path()));

  EXPECT_FALSE(second.generated);
  EXPECT_TRUE(second.rebuild_reason.empty()) << second.rebuild_reason;
  EXPECT_EQ(second.generation_seconds, 0);
  EXPECT_EQ(second.rows, kRows);
  EXPECT_EQ(second.path, first.path);
  struct stat after {};
  ASSERT_EQ(::stat(second.path.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);  // the same file, not a rewritten one
}

TEST(CatalogStoreTest, DifferentRowCountOrSeedRebuilds) {
  TempDir dir;
  prepare_catalog(options_for(dir.path()));

  CatalogInfo more = prepare_catalog(options_for(dir.path(), kRows + 1));
  EXPECT_TRUE(more.generated);
  EXPECT_NE(more.rebuild_reason.find("row count 50000, requested 50001"), std::string::npos)
      << more.rebuild_reason;
  EXPECT_EQ(Inspect(more.path).value("SELECT count(*) FROM products"), "50001");

  CatalogInfo reseeded = prepare_catalog(options_for(dir.path(), kRows + 1, 2));
  EXPECT_TRUE(reseeded.generated);
  EXPECT_NE(reseeded.rebuild_reason.find("seed"), std::string::npos) << reseeded.rebuild_reason;
}

// Each case damages a good catalog and expects the next prepare to replace it with a good one.
struct Damage {
  const char* name;
  void (*apply)(const fs::path& file);
  const char* reason;  // part of rebuild_reason
};

const Damage kDamages[] = {
    {"garbage over the whole file",
     [](const fs::path& file) {
       std::string garbage(fs::file_size(file), '\0');
       for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>(i * 131 + 7);
       overwrite(file, garbage, 0);
     },
     "unreadable"},
    {"garbage over the header",
     [](const fs::path& file) { overwrite(file, std::string(100, 'x'), 0); }, "unreadable"},
    {"truncated to half",
     [](const fs::path& file) { fs::resize_file(file, fs::file_size(file) / 2); },
     "unreadable: database disk image is malformed"},
    {"truncated to 10 bytes", [](const fs::path& file) { fs::resize_file(file, 10); },
     "unreadable"},
    {"garbage appended",
     [](const fs::path& file) { fs::resize_file(file, fs::file_size(file) + 8192); },
     "its header says"},
    {"empty file", [](const fs::path& file) { fs::resize_file(file, 0); }, "not a catalog"},
    {"another application's database",
     [](const fs::path& file) {
       fs::remove(file);
       sqlite3* db = nullptr;
       sqlite3_open(file.c_str(), &db);
       sqlite3_exec(db, "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT)", nullptr, nullptr,
                    nullptr);
       sqlite3_close(db);
     },
     "not a catalog"},
    {"index dropped",
     [](const fs::path& file) {
       sqlite3* db = nullptr;
       sqlite3_open(file.c_str(), &db);
       sqlite3_exec(db, "DROP INDEX idx_products_category_active; VACUUM", nullptr, nullptr,
                    nullptr);
       sqlite3_close(db);
     },
     "index idx_products_category_active is missing"},
};

TEST(CatalogStoreTest, DamagedFilesAreRebuiltNeverReused) {
  for (const Damage& damage : kDamages) {
    SCOPED_TRACE(damage.name);
    TempDir dir;
    CatalogInfo good = prepare_catalog(options_for(dir.path(), 20'000));
    damage.apply(good.path);

    CatalogInfo rebuilt = prepare_catalog(options_for(dir.path(), 20'000));

    EXPECT_TRUE(rebuilt.generated);
    EXPECT_FALSE(rebuilt.rebuild_reason.empty());
    EXPECT_NE(rebuilt.rebuild_reason.find(damage.reason), std::string::npos)
        << rebuilt.rebuild_reason;
    EXPECT_EQ(Inspect(rebuilt.path).value("SELECT count(*) FROM products"), "20000");
    EXPECT_FALSE(prepare_catalog(options_for(dir.path(), 20'000)).generated);
  }
}

TEST(CatalogStoreTest, RowsOutsideTheRangeAreRejected) {
  TempDir dir;
  for (int64_t rows : {int64_t{0}, int64_t{-5}, int64_t{50'000'001}}) {
    SCOPED_TRACE(rows);
    try {
      prepare_catalog(options_for(dir.path(), rows));
      ADD_FAILURE() << "no CatalogError";
    } catch (const CatalogError& error) {
      EXPECT_NE(std::string(error.what()).find("[1, 50000000]"), std::string::npos) << error.what();
    }
  }
  EXPECT_TRUE(directory_listing(dir.path()).empty());
}

TEST(CatalogStoreTest, DataDirThatIsAFileIsAnErrorNamingIt) {
  TempDir dir;
  fs::path file = dir.path() / "plain-file";
  std::ofstream(file) << "not a directory";
  for (const fs::path& data_dir : {file, file / "below"}) {
    SCOPED_TRACE(data_dir);
    try {
      prepare_catalog(options_for(data_dir));
      ADD_FAILURE() << "no CatalogError";
    } catch (const CatalogError& error) {
      std::string message = error.what();
      EXPECT_NE(message.find(data_dir.string()), std::string::npos) << message;
      EXPECT_NE(message.find("not a directory"), std::string::npos) << message;
    }
  }
}

TEST(CatalogStoreTest, CatalogPathThatIsADirectoryIsAnError) {
  TempDir dir;
  fs::create_directory(dir.path() / "catalog.sqlite");
  EXPECT_THROW(prepare_catalog(options_for(dir.path())), CatalogError);
}

// Runs in the death-test child: gives up root first (root may write anywhere, so only then do
// the directory permissions decide), then prints both errors and exits 0 if both were thrown.
void prepare_as_nobody_and_exit(const fs::path& locked) {
  if (::geteuid() == 0) {
    constexpr uid_t kNobody = 65534;
    if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) {
      std::fprintf(stderr, "cannot drop root\n");
      std::_Exit(2);
    }
  }
  int thrown = 0;
  for (const fs::path& data_dir : {locked, locked / "sub"}) {
    try {
      prepare_catalog(options_for(data_dir, 1'000));
    } catch (const CatalogError& error) {
      std::fprintf(stderr, "%s\n", error.what());
      ++thrown;
    }
  }
  std::_Exit(thrown == 2 ? 0 : 1);
}

TEST(CatalogStoreTest, UnwritableDirectoryIsAnErrorNamingThePath) {
  TempDir dir;
  const auto read_and_enter = fs::perms::owner_read | fs::perms::owner_exec |
                              fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec;
  fs::permissions(dir.path(), read_and_enter | fs::perms::owner_write);
  fs::path locked = dir.path() / "locked";
  fs::create_directory(locked);
  fs::permissions(locked, read_and_enter);

  EXPECT_EXIT(prepare_as_nobody_and_exit(locked), ::testing::ExitedWithCode(0),
              "cannot write catalog .*/locked/catalog\\.sqlite: permission denied\n"
              "cannot create catalog directory .*/locked/sub: permission denied");
  EXPECT_TRUE(directory_listing(locked).empty());
}

// Runs in the death-test child: writes past 256 KiB fail with EFBIG (instead of killing the
// process with SIGXFSZ), as they fail with ENOSPC on a full disk.
void prepare_with_small_file_limit_and_exit(const fs::path& dir) {
  rlimit limit{};
  limit.rlim_cur = limit.rlim_max = 256 * 1024;
  ::setrlimit(RLIMIT_FSIZE, &limit);
  ::signal(SIGXFSZ, SIG_IGN);
  try {
    prepare_catalog(options_for(dir));
  } catch (const CatalogError& error) {
    std::fprintf(stderr, "%s\n", error.what());
    std::_Exit(0);
  }
  std::_Exit(1);
}

TEST(CatalogStoreTest, FullDiskIsAnErrorAndLeavesNoFileBehind) {
  TempDir dir;
  EXPECT_EXIT(prepare_with_small_file_limit_and_exit(dir.path()), ::testing::ExitedWithCode(0),
              "cannot write catalog .*/catalog\\.sqlite: disk full \\(file size limit or no "
              "space left\\)");
  EXPECT_TRUE(directory_listing(dir.path()).empty());

  // The same directory works once there is room again.
  EXPECT_TRUE(prepare_catalog(options_for(dir.path())).generated);
}

TEST(CatalogStoreTest, TemporaryFilesOfDeadProcessesAreRemoved) {
  TempDir dir;
  pid_t child = ::fork();
  if (child == 0) std::_Exit(0);
  ASSERT_GT(child, 0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);  // now a pid of no running process
  std::string orphan = "catalog.sqlite." + std::to_string(child) + ".0.tmp";
  std::string live = "catalog.sqlite." + std::to_string(::getppid()) + ".0.tmp";
  std::ofstream(dir.path() / orphan) << "half-written";
  std::ofstream(dir.path() / live) << "still being written";

  prepare_catalog(options_for(dir.path(), 1'000));

  EXPECT_EQ(directory_listing(dir.path()), (std::vector<std::string>{"catalog.sqlite", live}));
}

}  // namespace
}  // namespace trafficsim::demo_service
