// The users API of seed 001 (/api/v1/users) and its error endpoint.
#include "demo_service/service_impl.hpp"

namespace trafficsim::demo_service {

namespace json = boost::json;
using http::ApiError;
using http::ServerRequest;
using http::ServerResponse;

void TargetService::Impl::add_users_routes() {
  router.add("GET", "/api/v1/users", bind(&Impl::users_list));
  router.add("POST", "/api/v1/users", bind(&Impl::users_create));
  router.add("GET", "/api/v1/users/error", bind(&Impl::users_error));
  router.add("GET", "/api/v1/users/{id}", bind(&Impl::users_get));
  router.add("PATCH", "/api/v1/users/{id}", bind(&Impl::users_patch));
}

void TargetService::Impl::users_list(const ExchangePtr& ex) {
  auto page = users.list(ex->request->query());
  if (auto* e = std::get_if<ApiError>(&page)) return respond(ex, error_response(*e));
  const auto& p = std::get<UsersStore::Page>(page);
  json::array items;
  for (const auto& u : p.users) items.push_back(user_to_json(u));
  respond(ex, json_response(200, json::object{{"users", std::move(items)},
                                              {"total", p.total},
                                              {"offset", p.offset},
                                              {"limit", p.limit}}));
}

void TargetService::Impl::users_create(const ExchangePtr& ex) {
  auto r = users.create(ex->request->body);
  if (auto* e = std::get_if<ApiError>(&r)) return respond(ex, error_response(*e));
  respond(ex, json_response(201, user_to_json(std::get<User>(r))));
}

void TargetService::Impl::users_get(const ExchangePtr& ex) {
  auto r = users.get(ex->id_param);
  if (auto* e = std::get_if<ApiError>(&r)) return respond(ex, error_response(*e));
  respond(ex, json_response(200, user_to_json(std::get<User>(r))));
}

void TargetService::Impl::users_patch(const ExchangePtr& ex) {
  auto r = users.patch(ex->id_param, ex->request->body);
  if (auto* e = std::get_if<ApiError>(&r)) return respond(ex, error_response(*e));
  respond(ex, json_response(200, user_to_json(std::get<User>(r))));
}

void TargetService::Impl::users_error(const ExchangePtr& ex) {
  auto rate = parse_error_rate(ex->request->query());
  if (auto* e = std::get_if<ApiError>(&rate)) return respond(ex, error_response(*e));
  int status = pick_error_endpoint_status(std::get<double>(rate), random_bits());
  if (status == 200)
    return respond(ex, json_response(200, json::object{{"status", "ok"},
                                                       {"errorRate", std::get<double>(rate)}}));
  respond(ex, json_response(status, json::object{{"error", "simulated_error"},
                                                 {"status", status},
                                                 {"message", "simulated upstream failure"}}));
}

}  // namespace trafficsim::demo_service
