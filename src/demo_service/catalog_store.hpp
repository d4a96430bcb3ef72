#pragma once
// The product catalog file behind GET /products and GET /products/recommendations: one SQLite
// database, generated deterministically from a seed and reused across runs. Generating takes
// seconds, so a run never starts against a half-written or stale file: a new catalog is written
// to a temporary file and renamed into place only once complete and on disk.
//
// Schema (version kept in the file's `meta` table, with the row count and the seed):
//   products(id INTEGER PRIMARY KEY, name TEXT, category TEXT, active INTEGER, price REAL,
//            popularity INTEGER, description TEXT)
//   idx_products_category_active ON products(category, active)
// There is deliberately no index that serves the recommendations query (category, active, price,
// ORDER BY popularity): that missing index is the story the demo tells.
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace trafficsim::demo_service {

// Any failure to prepare or open the catalog. The message names the file or directory and the
// cause in words ("permission denied", "disk full (file size limit or no space left)", ...).
class CatalogError : public std::runtime_error {
 public:
  using runtime_error::runtime_error;
};

struct CatalogOptions {
  std::filesystem::path data_dir;  // created when missing; holds catalog.sqlite
  int64_t rows = 500000;           // in [1, 50'000'000]
  uint64_t seed = 1;               // same seed and rows -> same data, byte for byte in every row
};

struct CatalogInfo {
  std::filesystem::path path;  // data_dir / "catalog.sqlite"
  int64_t rows = 0;
  bool generated = false;         // false when an existing file was reused
  double generation_seconds = 0;  // 0 when reused
  std::string rebuild_reason;     // why an existing file was replaced; empty if none was
};

// Returns the catalog at data_dir/catalog.sqlite, generating it unless a valid catalog with this
// schema version, row count and seed is already there. A foreign, corrupt, truncated or
// unreadable file is replaced (rebuild_reason says why), never trusted. Throws CatalogError for
// rows out of range and when the directory or the file cannot be created or written.
// Safe to call from several processes at once: each writes its own temporary file and the
// rename is atomic, so readers only ever see a complete catalog.
CatalogInfo prepare_catalog(const CatalogOptions& options);

// The categories rows are drawn from (uniformly), lower case, "electronics" first.
const std::vector<std::string>& catalog_categories();

struct Product {
  int64_t id = 0;
  std::string name;        // e.g. "Electronics item 12345"
  std::string category;    // one of catalog_categories()
  double price = 0;        // dollars, in [1.00, 2000.00], whole cents
  int64_t popularity = 0;  // in [0, 1'000'000]
  bool active = false;     // about 90 % of rows are active
};

}  // namespace trafficsim::demo_service
