// Clients, their billing information and their assigned services; the product catalog.
// Every change appends its domain event in the same transaction.
#include "api/client_queries.hpp"
#include "api/commit.hpp"
#include "api/fields.hpp"
#include "api/page.hpp"
#include "audit/audit_log.hpp"
#include "core/clock.hpp"
#include "domain/reference_data.hpp"
#include "events/event_log.hpp"

#include <json/reader.h>
#include <json/writer.h>

namespace psahost::api {
namespace {

const std::vector<std::string> kClientTypes = {"customer", "prospect", "partner"};
const std::vector<std::string> kClientStatuses = {"active", "inactive"};
const std::vector<std::string> kPartTypes = {"default", "ict_services", "managed_service"};
const std::vector<std::string> kPricing = {"fixed", "per_unit", "per_hour", "usage"};

// Reads the client fields shared by POST and PATCH; required only on create.
struct ClientFields {
  std::optional<std::string> name, type, status, parent_id;
  std::optional<bool> self_managed_profile;
  std::optional<Json::Value> external_ids;
};

ClientFields read_client_fields(Fields& f, const Json::Value& body, bool create) {
  f.only({"name", "type", "status", "parent_id", "self_managed_profile", "external_ids"});
  ClientFields c;
  c.name = f.non_empty("name", create);
  c.type = f.one_of("type", false, kClientTypes);
  c.status = f.one_of("status", false, kClientStatuses);
  c.parent_id = f.non_empty("parent_id", false, 100);
  c.self_managed_profile = f.boolean("self_managed_profile", false);
  if (body.isMember("external_ids")) {
    const auto& ids = body["external_ids"];
    // One id per connector a client is linked to: a handful, never thousands.
    constexpr Json::ArrayIndex kMaxExternalIds = 50;
    bool ok = ids.isObject() && ids.size() <= kMaxExternalIds;
    for (const auto& k : ok ? ids.getMemberNames() : std::vector<std::string>{}) {
      ok = ok && ids[k].isString() && ids[k].asString().size() <= 200 && k.size() <= 100;
    }
    if (ok)
      c.external_ids = ids;
    else
      f.error("external_ids",
              "expected an object of at most 50 connector ids (up to 100 characters) to string "
              "ids (up to 200 characters)");
  }
  return c;
}

void check_parent(store::Tx& tx, const std::string& tenant, const std::string& parent,
                  const std::string& self) {
  if (parent == self) {
    Json::Value errors(Json::arrayValue);
    Json::Value e;
    e["field"] = "parent_id";
    e["message"] = "a client cannot be its own parent";
    errors.append(e);
    refuse(validation_failed(errors));
  }
  if (!load_client(tx, tenant, parent)) {
    Json::Value errors(Json::arrayValue);
    Json::Value e;
    e["field"] = "parent_id";
    e["message"] = "no client " + parent;
    errors.append(e);
    refuse(validation_failed(errors));
  }
}

void add_client_crud(http::Router& router, const ApiContext& ctx) {
  add_route(
      router, ctx, "POST", "/v1/clients", auth::Right::manage_clients,
      [&ctx](const http::Request& req, const http::Params&, const auth::Principal& who,
             http::Responder respond) {
        http::Response refusal;
        auto body = json_body(req, &refusal);
        if (!body) return respond(refusal);
        Fields f(*body);
        auto c = read_client_fields(f, *body, true);
        if (!f.ok()) return respond(validation_failed(f.errors()));
        commit_once(ctx, req, who, respond, [who, c](store::Tx& tx) {
          const std::string id = auth::new_id("cli");
          if (c.parent_id) check_parent(tx, who.tenant_id, *c.parent_id, id);
          const std::string now = now_rfc3339();
          tx.exec(
              "INSERT INTO clients (id, tenant_id, name, type, status, parent_id, "
              "self_managed_profile, external_ids, created_at, updated_at) VALUES "
              "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
              {id, who.tenant_id, *c.name, c.type.value_or("customer"), c.status.value_or("active"),
               c.parent_id ? store::Value(*c.parent_id) : store::Value(nullptr),
               int64_t{c.self_managed_profile.value_or(false) ? 1 : 0},
               to_text(c.external_ids.value_or(Json::Value(Json::objectValue))), now, now});
          const Json::Value client = client_json(tx, who.tenant_id, id);
          events::append(
              tx, {who.tenant_id, "client.upserted", "client", id, client, who.token_id, ""});
          auto r = http::Response::json(201, client);
          r.headers.emplace_back("Location", "/v1/clients/" + id);
          return r;
        });
      });

  add_sync_route(
      router, ctx, "GET", "/v1/clients", auth::Right::read,
      [&ctx](const http::Request& req, const http::Params&, const auth::Principal& who) {
        std::vector<domain::FieldError> errors;
        const Page page = list_page(req, errors);
        if (!errors.empty()) return validation_failed(errors);
        const std::string& after = page.after;
        const int64_t limit = page.limit;
        Json::Value body;
        body["items"] = Json::Value(Json::arrayValue);
        ctx.store.read([&](store::Tx& tx) {
          const auto ids =
              tx.query("SELECT id FROM clients WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?",
                       {who.tenant_id, after, limit});
          for (const auto& row : ids)
            body["items"].append(client_json(tx, who.tenant_id, row.text(0)));
          if (static_cast<int64_t>(ids.size()) == limit) body["next_after"] = ids.back().text(0);
        });
        return http::Response::json(200, body);
      });

  add_sync_route(
      router, ctx, "GET", "/v1/clients/{id}", auth::Right::read,
      [&ctx](const http::Request&, const http::Params& params, const auth::Principal& who) {
        const std::string id = params.at("id");
        Json::Value client;
        ctx.store.read([&](store::Tx& tx) {
          if (load_client(tx, who.tenant_id, id)) {
            client = client_json(tx, who.tenant_id, id);
          }
        });
        return client.isNull() ? not_found("client", id) : http::Response::json(200, client);
      });

  add_route(
      router, ctx, "PATCH", "/v1/clients/{id}", auth::Right::manage_clients,
      [&ctx](const http::Request& req, const http::Params& params, const auth::Principal& who,
             http::Responder respond) {
        http::Response refusal;
        auto body = json_body(req, &refusal);
        if (!body) return respond(refusal);
        Fields f(*body);
        auto c = read_client_fields(f, *body, false);
        if (!f.ok()) return respond(validation_failed(f.errors()));
        commit(ctx, respond, [who, c, id = params.at("id")](store::Tx& tx) {
          if (!load_client(tx, who.tenant_id, id)) refuse(not_found("client", id));
          if (c.parent_id) check_parent(tx, who.tenant_id, *c.parent_id, id);
          const Json::Value before = client_json(tx, who.tenant_id, id);
          tx.exec(
              "UPDATE clients SET name = COALESCE(?, name), type = COALESCE(?, type), "
              "status = COALESCE(?, status), parent_id = COALESCE(?, parent_id), "
              "self_managed_profile = COALESCE(?, self_managed_profile), "
              "external_ids = COALESCE(?, external_ids), updated_at = ? "
              "WHERE id = ? AND tenant_id = ?",
              {c.name ? store::Value(*c.name) : nullptr, c.type ? store::Value(*c.type) : nullptr,
               c.status ? store::Value(*c.status) : nullptr,
               c.parent_id ? store::Value(*c.parent_id) : nullptr,
               c.self_managed_profile ? store::Value(int64_t{*c.self_managed_profile ? 1 : 0})
                                      : nullptr,
               c.external_ids ? store::Value(to_text(*c.external_ids)) : nullptr, now_rfc3339(), id,
               who.tenant_id});
          const Json::Value client = client_json(tx, who.tenant_id, id);
          if (client != before) {
            events::append(
                tx, {who.tenant_id, "client.upserted", "client", id, client, who.token_id, ""});
          }
          return http::Response::json(200, client);
        });
      });
}

void add_billing_info(http::Router& router, const ApiContext& ctx) {
  add_sync_route(
      router, ctx, "GET", "/v1/clients/{id}/billing-info", auth::Right::read,
      [&ctx](const http::Request&, const http::Params& params, const auth::Principal& who) {
        const std::string id = params.at("id");
        std::optional<ClientRecord> client;
        ctx.store.read([&](store::Tx& tx) { client = load_client(tx, who.tenant_id, id); });
        if (!client) return not_found("client", id);
        if (!client->billing) {
          Json::Value extra;
          extra["prompt"]["action"] = "add_billing_info";
          extra["prompt"]["client_id"] = id;
          return http::problem(404, "billing-info-missing", "Not Found",
                               "client " + id + " has no billing information yet", extra);
        }
        return http::Response::json(200, client->billing->to_json());
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
                const auto after = save_billing_info(tx, who, id, info);
                if (!after) refuse(not_found("client", id));
                return http::Response::json(200, *after);
              });
            });
}

void add_services(http::Router& router, const ApiContext& ctx) {
  add_sync_route(
      router, ctx, "GET", "/v1/clients/{id}/services", auth::Right::read,
      [&ctx](const http::Request&, const http::Params& params, const auth::Principal& who) {
        const std::string id = params.at("id");
        Json::Value body;
        bool found = false;
        ctx.store.read([&](store::Tx& tx) {
          if (!load_client(tx, who.tenant_id, id)) return;
          found = true;
          body["items"] = services_json(tx, who.tenant_id, id);
        });
        return found ? http::Response::json(200, body) : not_found("client", id);
      });

  // PUT replaces the client's assigned services with the list given, as the platform sees them.
  add_route(router, ctx, "PUT", "/v1/clients/{id}/services", auth::Right::manage_clients,
            [&ctx](const http::Request& req, const http::Params& params, const auth::Principal& who,
                   http::Responder respond) {
              http::Response refusal;
              auto body = json_body(req, &refusal);
              if (!body) return respond(refusal);
              Fields top(*body);
              top.only({"items"});
              struct Assignment {
                std::string sku;
                int64_t quantity;
                std::string since;
              };
              std::vector<Assignment> items;
              if (!(*body)["items"].isArray()) top.error("items", "expected an array");
              const Json::Value& list = (*body)["items"];
              for (Json::ArrayIndex i = 0; list.isArray() && i < list.size(); ++i) {
                if (!list[i].isObject()) {
                  top.error("items[" + std::to_string(i) + "]", "expected an object");
                  continue;
                }
                Fields f(list[i], "items[" + std::to_string(i) + "]");
                f.only({"sku", "quantity", "since"});
                auto sku = f.text("sku", true, 100);
                auto qty = f.integer("quantity", true, 0, 1'000'000);
                auto since = f.date("since", false);
                for (const auto& e : f.errors())
                  top.error(e["field"].asString(), e["message"].asString());
                if (sku && qty) items.push_back({*sku, *qty, since.value_or(today())});
                for (std::size_t j = 0; sku && j + 1 < items.size(); ++j) {
                  if (items[j].sku == *sku) {
                    top.error("items[" + std::to_string(i) + "].sku", "appears twice");
                  }
                }
              }
              if (!top.ok()) return respond(validation_failed(top.errors()));
              commit(ctx, respond, [who, items, id = params.at("id")](store::Tx& tx) {
                if (!load_client(tx, who.tenant_id, id)) refuse(not_found("client", id));
                Json::Value errors(Json::arrayValue);
                for (std::size_t i = 0; i < items.size(); ++i) {
                  if (!tx.query_one("SELECT 1 FROM products WHERE tenant_id = ? AND sku = ?",
                                    {who.tenant_id, items[i].sku})) {
                    Json::Value e;
                    e["field"] = "items[" + std::to_string(i) + "].sku";
                    e["message"] = "no product " + items[i].sku + " in the catalog";
                    errors.append(e);
                  }
                }
                if (!errors.empty()) refuse(validation_failed(errors));
                const Json::Value before = services_json(tx, who.tenant_id, id);
                tx.exec("DELETE FROM service_assignments WHERE tenant_id = ? AND client_id = ?",
                        {who.tenant_id, id});
                const std::string now = now_rfc3339();
                for (const auto& a : items) {
                  tx.exec(
                      "INSERT INTO service_assignments (tenant_id, client_id, sku, quantity, "
                      "since, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                      {who.tenant_id, id, a.sku, a.quantity, a.since, now});
                }
                Json::Value body;
                body["items"] = services_json(tx, who.tenant_id, id);
                if (before != body["items"]) {
                  Json::Value payload;
                  payload["client_id"] = id;
                  payload["before"] = before;
                  payload["items"] = body["items"];
                  events::append(tx, {who.tenant_id, "service.assigned", "client", id, payload,
                                      who.token_id, ""});
                }
                return http::Response::json(200, body);
              });
            });
}

void add_catalog(http::Router& router, const ApiContext& ctx) {
  add_sync_route(
      router, ctx, "GET", "/v1/catalog/products", auth::Right::read,
      [&ctx](const http::Request&, const http::Params&, const auth::Principal& who) {
        Json::Value body;
        body["items"] = Json::Value(Json::arrayValue);
        ctx.store.read([&](store::Tx& tx) {
          for (const auto& row : tx.query(
                   "SELECT sku FROM products WHERE tenant_id = ? ORDER BY sku", {who.tenant_id})) {
            body["items"].append(*product_json(tx, who.tenant_id, row.text(0)));
          }
        });
        return http::Response::json(200, body);
      });

  // PUT upserts the listed products; products not listed are kept (services may use them).
  add_route(router, ctx, "PUT", "/v1/catalog/products", auth::Right::manage_clients,
            [&ctx](const http::Request& req, const http::Params&, const auth::Principal& who,
                   http::Responder respond) {
              http::Response refusal;
              auto body = json_body(req, &refusal);
              if (!body) return respond(refusal);
              Fields top(*body);
              top.only({"items"});
              if (!(*body)["items"].isArray()) top.error("items", "expected an array");
              std::vector<Json::Value> products;
              const Json::Value& list = (*body)["items"];
              for (Json::ArrayIndex i = 0; list.isArray() && i < list.size(); ++i) {
                const std::string at = "items[" + std::to_string(i) + "]";
                if (!list[i].isObject()) {
                  top.error(at, "expected an object");
                  continue;
                }
                Fields f(list[i], at);
                f.only({"sku", "name", "unit", "part_type", "pricing", "prices", "default_labour"});
                Json::Value p;
                auto sku = f.text("sku", true, 100);
                auto name = f.text("name", true);
                auto unit = f.text("unit", false, 50);
                auto part_type = f.one_of("part_type", false, kPartTypes);
                auto pricing = f.one_of("pricing", true, kPricing);
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
                  p["sku"] = *sku;
                  p["name"] = *name;
                  p["unit"] = unit.value_or("unit");
                  p["part_type"] = part_type.value_or("default");
                  p["pricing"] = *pricing;
                  p["prices"] = prices;
                  p["default_labour"] = labour.value_or(false);
                  products.push_back(p);
                }
              }
              int labour_count = 0;
              for (const auto& p : products) labour_count += p["default_labour"].asBool() ? 1 : 0;
              if (labour_count > 1)
                top.error("items", "only one product can be the default labour");
              if (!top.ok()) return respond(validation_failed(top.errors()));
              commit(ctx, respond, [who, products](store::Tx& tx) {
                const std::string now = now_rfc3339();
                Json::Value out;
                out["items"] = Json::Value(Json::arrayValue);
                for (const auto& p : products) {
                  if (p["default_labour"].asBool()) {
                    tx.exec("UPDATE products SET default_labour = 0 WHERE tenant_id = ?",
                            {who.tenant_id});
                  }
                  const auto before = product_json(tx, who.tenant_id, p["sku"].asString());
                  tx.exec(
                      "INSERT INTO products (tenant_id, sku, name, unit, part_type, pricing, "
                      "prices, default_labour, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                      "ON CONFLICT (tenant_id, sku) DO UPDATE SET name = excluded.name, "
                      "unit = excluded.unit, part_type = excluded.part_type, "
                      "pricing = excluded.pricing, prices = excluded.prices, "
                      "default_labour = excluded.default_labour, updated_at = excluded.updated_at",
                      {who.tenant_id, p["sku"].asString(), p["name"].asString(),
                       p["unit"].asString(), p["part_type"].asString(), p["pricing"].asString(),
                       to_text(p["prices"]), int64_t{p["default_labour"].asBool() ? 1 : 0}, now});
                  const auto after = *product_json(tx, who.tenant_id, p["sku"].asString());
                  if (!before || *before != after) {
                    events::append(tx, {who.tenant_id, "product.upserted", "product",
                                        p["sku"].asString(), after, who.token_id, ""});
                    if (before && (*before)["prices"] != after["prices"]) {
                      audit::record(tx, {who.tenant_id, who.token_id, "product.prices", "product",
                                         p["sku"].asString(), audit::json((*before)["prices"]),
                                         audit::json(after["prices"])});
                    }
                  }
                  out["items"].append(after);
                }
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
