#pragma once
// The catalog's two queries, written once: the pool prepares them, the service reports them as
// the db.query.text of its database spans, and the tests read their plans.
#include <string_view>

namespace trafficsim::demo_service {

// The browsing query (GET /products), served by idx_products_category_active.
// ?1 category, ?2 limit.
inline constexpr std::string_view kProductsSql =
    "SELECT id, name, category, price, popularity, active FROM products"
    " WHERE category = ?1 AND active = 1 LIMIT ?2";

// The recommendations query (GET /products/recommendations) as a developer who forgot its index
// wrote it. NOT INDEXED: without it SQLite would narrow the scan with
// idx_products_category_active, and the forgotten index would cost almost nothing. This is the
// query as it behaves in production databases where the only usable index is far less selective
// than that. ?1 category, ?2 min price, ?3 max price, ?4 limit.
inline constexpr std::string_view kRecommendationsSql =
    "SELECT id, name, category, price, popularity, active FROM products NOT INDEXED"
    " WHERE category = ?1 AND active = 1 AND price BETWEEN ?2 AND ?3"
    " ORDER BY popularity DESC LIMIT ?4";

}  // namespace trafficsim::demo_service
