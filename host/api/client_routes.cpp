// Clients, their billing information and their assigned services; the product catalog. The
// rules and the tables are host/clients/'s and host/catalog/'s: these routes read the request,
// call one of them and answer with what it gives.
#include "api/client_queries.hpp"
#include "api/commit.hpp"
#include "api/fields.hpp"
#include "api/page.hpp"
#include "catalog/catalog.hpp"
#include "clients/clients.hpp"
#include "domain/reference_data.hpp"

namespace psahost::api {
namespace {

// The answer for a change: its value, or its refusal (rolling the change back).
http::Response answer(const domain::Result<Json::Value>& r) {
  if (!r) refuse(r.refusal());
  return http::Response::json(200, *r);
}

Json::Value items_of(const Json::Value& list) {
  Json::Value body;
  body["items"] = list;
  return body;
}

void add_client_crud(http::Router& router, const ApiContext& ctx) {
  add_route(router, ctx, "POST", "/v1/clients", auth::Right::manage_clients,
            [&ctx](const http::Request& req, const http::Params&, const auth::Principal& who,
                   http::Responder respond) {
              http::Response refusal;
              auto body = json_body(req, &refusal);
              if (!body) return respond(refusal);
              auto c = clients::read_client_change(*body, true);
              if (!c) return respond(to_problem(c.refusal()));
              commit_once(ctx, req, who, respond, [who, c = *c](store::Tx& tx) {
                const auto created = clients::create_client(tx, who, c);
                if (!created) refuse(created.refusal());
                auto r = http::Response::json(201, *created);
                r.headers.emplace_back("Location", "/v1/clients/" + (*created)["id"].asString());
                return r;
              });
            });

  add_sync_route(router, ctx, "GET", "/v1/clients", auth::Right::read,
                 [&ctx](const http::Request& req, const http::Params&, const auth::Principal& who) {
                   std::vector<domain::FieldError> errors;
                   const Page page = list_page(req, errors);
                   if (!errors.empty()) return validation_failed(errors);
                   clients::ClientPage found;
                   ctx.store.read([&](store::Tx& tx) {
                     found = clients::list_clients(tx, who.tenant_id, page.after, page.limit);
                   });
                   Json::Value body;
                   body["items"] = Json::Value(Json::arrayValue);
                   for (auto& c : found.items) body["items"].append(std::move(c));
                   if (found.next_after) body["next_after"] = *found.next_after;
                   return http::Response::json(200, body);
                 });

  add_sync_route(
      router, ctx, "GET", "/v1/clients/{id}", auth::Right::read,
      [&ctx](const http::Request&, const http::Params& params, const auth::Principal& who) {
        std::optional<domain::Result<Json::Value>> client;
        ctx.store.read([&](store::Tx& tx) {
          client = clients::get_client(tx, who.tenant_id, params.at("id"));
        });
        return *client ? http::Response::json(200, **client) : to_problem(client->refusal());
      });

  add_route(router, ctx, "PATCH", "/v1/clients/{id}", auth::Right::manage_clients,
            [&ctx](const http::Request& req, const http::Params& params, const auth::Principal& who,
                   http::Responder respond) {
              http::Response refusal;
              auto body = json_body(req, &refusal);
              if (!body) return respond(refusal);
              auto c = clients::read_client_change(*body, false);
              if (!c) return respond(to_problem(c.refusal()));
              commit(ctx, respond, [who, c = *c, id = params.at("id")](store::Tx& tx) {
                return answer(clients::update_client(tx, who, id, c));
              });
            });
}

void add_billing_info(http::Router& router, const ApiContext& ctx) {
  add_sync_route(
      router, ctx, "GET", "/v1/clients/{id}/billing-info", auth::Right::read,
      [&ctx](const http::Request&, const http::Params& params, const auth::Principal& who) {
        std::optional<domain::Result<domain::BillingInfo>> info;
        ctx.store.read([&](store::Tx& tx) {
          info = clients::billing_info(tx, who.tenant_id, params.at("id"));
        });
        return *info ? http::Response::json(200, (*info)->to_json()) : to_problem(info->refusal());
      });

  add_route(router, ctx, "PUT", "/v1/clients/{id}/billing-info", auth::Right::manage_clients,
            [&ctx](const http::Request& req, const http::Params& params, const auth::Principal& who,
                   http::Responder respond) {
              http::Response refusal;
              auto body = json_body(req, &refusal);
              if (!body) return respond(refusal);
              auto parsed = domain::parse_billing_info(*body);
              if (!parsed.info) return respond(validation_failed(parsed.errors));
              commit(ctx, respond, [who, info = *parsed.info, id = params.at("id")](store::Tx& tx) {
                return answer(clients::put_billing_info(tx, who, id, info));
              });
            });
}

void add_services(http::Router& router, const ApiContext& ctx) {
  add_sync_route(
      router, ctx, "GET", "/v1/clients/{id}/services", auth::Right::read,
      [&ctx](const http::Request&, const http::Params& params, const auth::Principal& who) {
        std::optional<domain::Result<Json::Value>> items;
        ctx.store.read([&](store::Tx& tx) {
          items = clients::client_services(tx, who.tenant_id, params.at("id"));
        });
        return *items ? http::Response::json(200, items_of(**items)) : to_problem(items->refusal());
      });

  // PUT replaces the client's assigned services with the list given, as the platform sees them.
  add_route(router, ctx, "PUT", "/v1/clients/{id}/services", auth::Right::manage_clients,
            [&ctx](const http::Request& req, const http::Params& params, const auth::Principal& who,
                   http::Responder respond) {
              http::Response refusal;
              auto body = json_body(req, &refusal);
              if (!body) return respond(refusal);
              auto items = clients::read_services(*body);
              if (!items) return respond(to_problem(items.refusal()));
              commit(ctx, respond, [who, items = *items, id = params.at("id")](store::Tx& tx) {
                const auto assigned = clients::assign_services(tx, who, id, items);
                if (!assigned) refuse(assigned.refusal());
                return http::Response::json(200, items_of(*assigned));
              });
            });
}

void add_catalog(http::Router& router, const ApiContext& ctx) {
  add_sync_route(router, ctx, "GET", "/v1/catalog/products", auth::Right::read,
                 [&ctx](const http::Request&, const http::Params&, const auth::Principal& who) {
                   Json::Value body;
                   body["items"] = Json::Value(Json::arrayValue);
                   ctx.store.read([&](store::Tx& tx) {
                     for (auto& p : catalog::list_products(tx, who.tenant_id))
                       body["items"].append(p);
                   });
                   return http::Response::json(200, body);
                 });

  // PUT upserts the listed products; products not listed are kept (services may use them).
  add_route(
      router, ctx, "PUT", "/v1/catalog/products", auth::Right::manage_clients,
      [&ctx](const http::Request& req, const http::Params&, const auth::Principal& who,
             http::Responder respond) {
        http::Response refusal;
        auto body = json_body(req, &refusal);
        if (!body) return respond(refusal);
        Fields top(*body);
        top.only({"items"});
        if (!(*body)["items"].isArray()) top.error("items", "expected an array");
        std::vector<catalog::Product> products;
        const Json::Value& list = (*body)["items"];
        for (Json::ArrayIndex i = 0; list.isArray() && i < list.size(); ++i) {
          const std::string at = "items[" + std::to_string(i) + "]";
          if (!list[i].isObject()) {
            top.error(at, "expected an object");
            continue;
          }
          Fields f(list[i], at);
          f.only({"sku", "name", "unit", "part_type", "pricing", "prices", "default_labour"});
          auto sku = f.text("sku", true, 100);
          auto name = f.text("name", true);
          auto unit = f.text("unit", false, 50);
          auto part_type = f.one_of("part_type", false, catalog::kPartTypes);
          auto pricing = f.one_of("pricing", true, catalog::kPricing);
          auto labour = f.boolean("default_labour", false);
          Json::Value prices(Json::objectValue);
          const Json::Value& given = list[i]["prices"];
          if (!given.isNull() && !given.isObject()) {
            f.error("prices", "expected an object of currency to price in minor units");
          }
          for (const auto& cur :
               given.isObject() ? given.getMemberNames() : std::vector<std::string>{}) {
            Fields pf(given, at + ".prices");
            auto amount = pf.integer(cur, true, 0, 1'000'000'000'000);
            if (!domain::currency_exponent(cur)) {
              f.error("prices." + cur, "expected an ISO 4217 currency code");
            } else if (amount) {
              prices[cur] = static_cast<Json::Int64>(*amount);
            }
            for (const auto& e : pf.errors())
              top.error(e["field"].asString(), e["message"].asString());
          }
          for (const auto& e : f.errors())
            top.error(e["field"].asString(), e["message"].asString());
          if (sku && name && pricing) {
            products.push_back({*sku, *name, unit.value_or("unit"), part_type.value_or("default"),
                                *pricing, prices, labour.value_or(false)});
          }
        }
        int labour_count = 0;
        for (const auto& p : products) labour_count += p.default_labour ? 1 : 0;
        if (labour_count > 1) top.error("items", "only one product can be the default labour");
        if (!top.ok()) return respond(validation_failed(top.errors()));
        commit(ctx, respond, [who, products](store::Tx& tx) {
          const auto saved = catalog::upsert_products(tx, who, products);
          if (!saved) refuse(saved.refusal());
          Json::Value out;
          out["items"] = Json::Value(Json::arrayValue);
          for (const auto& p : *saved) out["items"].append(p);
          return http::Response::json(200, out);
        });
      });
}

}  // namespace

void add_client_routes(http::Router& router, const ApiContext& ctx) {
  add_client_crud(router, ctx);
  add_billing_info(router, ctx);
  add_services(router, ctx);
  add_catalog(router, ctx);
}

}  // namespace psahost::api
