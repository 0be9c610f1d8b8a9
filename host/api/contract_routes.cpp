// Contracts: made by hand or bootstrapped from assigned services by the contract-bootstrap
// plugin, edited while draft (the wizard's steps), activated through the admission pipeline.
#include "api/commit.hpp"
#include "api/fields.hpp"
#include "api/page.hpp"
#include "api/problem.hpp"
#include "contracts/drafting.hpp"
#include "domain/contract.hpp"

#include <algorithm>
#include <unordered_set>

namespace psahost::api {
namespace {

constexpr std::size_t kMaxBootstrapIds = 10'000;

Json::Value field_error(const std::string& field, const std::string& message) {
  Json::Value errors(Json::arrayValue);
  Json::Value e;
  e["field"] = field;
  e["message"] = message;
  errors.append(e);
  return errors;
}

// A member that is present with null means "clear it"; absent means "leave it".
bool given_null(const Json::Value& body, const char* name) {
  return body.isMember(name) && body[name].isNull();
}

using PartFields = contracts::PartChange;

PartFields read_part(Fields& f, const Json::Value& body, bool with_id) {
  std::vector<std::string> allowed = {
      "type",  "sku",      "description", "quantity", "follows_assignment",
      "price", "discount", "start_date",  "end_date", "trial",
      "sla"};
  if (with_id) allowed.emplace_back("id");
  f.only(allowed);
  PartFields p;
  p.type = f.one_of("type", false, domain::kPartTypes);
  p.sku = f.text("sku", false, 100);
  p.description = f.text("description", false, 1000);
  p.quantity = f.integer("quantity", false, 0, domain::kMaxPartQuantity);
  p.follows_assignment = f.boolean("follows_assignment", false);
  p.price_given = body.isMember("price");
  p.price = f.integer("price", false, 0, domain::kMaxPrice);
  if (body.isMember("discount")) {
    const Json::Value& d = body["discount"];
    const auto parsed = d.isString() ? domain::parse_discount(d.asString()) : std::nullopt;
    if (!parsed) {
      f.error("discount", "expected a percentage from 0 to 100 as a decimal string, like \"12.5\"");
    } else {
      p.discount = parsed->text;
    }
  }
  p.start_given = body.isMember("start_date");
  p.start_date = f.date("start_date", false);
  p.end_given = body.isMember("end_date");
  p.end_date = f.date("end_date", false);
  p.trial = f.boolean("trial", false);
  p.sla = f.text("sla", false, 200);
  return p;
}

using ContractFields = contracts::ContractInput;

ContractFields read_contract(Fields& f, const Json::Value& body, bool create) {
  std::vector<std::string> allowed = {
      "name",         "reference_number", "contact_email", "billing_entity", "invoice_interval",
      "when_to_bill", "payment_method",   "start_date",    "end_date",       "invoice_delivery",
      "parts"};
  if (create) {
    allowed.insert(allowed.end(), {"client_id", "currency"});
  } else {
    allowed.emplace_back("status");
  }
  f.only(allowed);
  ContractFields c;
  if (create) {
    c.client_id = f.text("client_id", true, 100);
    c.currency = f.currency("currency", false);
  } else {
    c.status = f.one_of("status", false, {"ended", "cancelled"});
  }
  // A draft may be nameless for a while: the wizard's contract_info step asks for it.
  c.name = f.text("name", false);
  c.reference = f.non_empty("reference_number", false, 50);
  c.contact_email = f.text("contact_email", false, 254);
  if (c.contact_email && !c.contact_email->empty() && !domain::is_email(*c.contact_email)) {
    f.error("contact_email", "expected an email address");
  }
  c.billing_entity = f.text("billing_entity", false, 200);
  c.invoice_interval = f.one_of("invoice_interval", false, domain::kInvoiceIntervals);
  c.when_to_bill = f.one_of("when_to_bill", false, domain::kBillTimings);
  c.payment_method = f.one_of("payment_method", false, domain::kPaymentMethods);
  c.invoice_delivery = f.one_of("invoice_delivery", false, domain::kInvoiceDeliveries);
  if (given_null(body, "start_date")) f.error("start_date", "a contract needs a start date");
  c.start_date = f.date("start_date", false);
  c.end_given = body.isMember("end_date");
  c.end_date = f.date("end_date", false);
  if (body.isMember("parts")) {
    const Json::Value& parts = body["parts"];
    if (!parts.isArray()) f.error("parts", "expected an array");
    for (Json::ArrayIndex i = 0; parts.isArray() && i < parts.size(); ++i) {
      const std::string at = "parts[" + std::to_string(i) + "]";
      if (!parts[i].isObject()) {
        f.error(at, "expected an object");
        continue;
      }
      Fields pf(parts[i], at);
      c.parts.push_back(read_part(pf, parts[i], !create));
      c.part_ids.push_back(create ? std::nullopt : pf.text("id", false, 100));
      for (const auto& e : pf.errors()) f.error(e["field"].asString(), e["message"].asString());
    }
  }
  return c;
}

void add_create(http::Router& router, const ApiContext& ctx) {
  add_route(router, ctx, "POST", "/v1/contracts", auth::Right::manage_sales,
            [&ctx](const http::Request& req, const http::Params&, const auth::Principal& who,
                   http::Responder respond) {
              http::Response refusal;
              auto body = json_body(req, &refusal);
              if (!body) return respond(refusal);
              Fields f(*body);
              const auto c = read_contract(f, *body, true);
              if (!f.ok()) return respond(validation_failed(f.errors()));
              if (c.start_date && c.end_date && *c.end_date < *c.start_date) {
                return respond(
                    validation_failed(field_error("end_date", "must not be before start_date")));
              }
              commit(ctx, respond, [who, c](store::Tx& tx) {
                const auto created = contracts::create_contract(tx, who, c);
                if (!created) refuse(created.refusal());
                auto r = http::Response::json(201, *created);
                r.headers.emplace_back("Location", "/v1/contracts/" + (*created)["id"].asString());
                return r;
              });
            });
}

void add_read(http::Router& router, const ApiContext& ctx) {
  add_sync_route(
      router, ctx, "GET", "/v1/contracts", auth::Right::read,
      [&ctx](const http::Request& req, const http::Params&, const auth::Principal& who) {
        contracts::ContractQuery query;
        query.client_id = req.query_param("client_id");
        query.status = req.query_param("status");
        std::vector<domain::FieldError> errors;
        const Page page = list_page(req, errors);
        query.after = page.after;
        query.limit = page.limit;
        std::optional<domain::Result<Json::Value>> listed;
        ctx.store.read([&](store::Tx& tx) { listed = contracts::list_contracts(tx, who, query); });
        // A bad status is named before a bad page, as it always was.
        if (!*listed) return to_problem(listed->refusal());
        if (!errors.empty()) return validation_failed(errors);
        return http::Response::json(200, **listed);
      });

  add_sync_route(
      router, ctx, "GET", "/v1/contracts/{id}", auth::Right::read,
      [&ctx](const http::Request&, const http::Params& params, const auth::Principal& who) {
        const std::string id = params.at("id");
        std::optional<domain::Result<Json::Value>> contract;
        ctx.store.read([&](store::Tx& tx) { contract = contracts::get_contract(tx, who, id); });
        return *contract ? http::Response::json(200, **contract) : to_problem(contract->refusal());
      });
}

void add_update(http::Router& router, const ApiContext& ctx) {
  add_route(router, ctx, "PATCH", "/v1/contracts/{id}", auth::Right::manage_sales,
            [&ctx](const http::Request& req, const http::Params& params, const auth::Principal& who,
                   http::Responder respond) {
              http::Response refusal;
              auto body = json_body(req, &refusal);
              if (!body) return respond(refusal);
              Fields f(*body);
              const auto c = read_contract(f, *body, false);
              if (!f.ok()) return respond(validation_failed(f.errors()));
              auto input = c;
              input.status_only = body->size() == 1 && c.status;
              commit(ctx, respond, [who, input, id = params.at("id")](store::Tx& tx) {
                const auto after = contracts::update_contract(tx, who, id, input);
                if (!after) refuse(after.refusal());
                return http::Response::json(200, *after);
              });
            });
}

void add_parts(http::Router& router, const ApiContext& ctx) {
  add_route(router, ctx, "POST", "/v1/contracts/{id}/parts", auth::Right::manage_sales,
            [&ctx](const http::Request& req, const http::Params& params, const auth::Principal& who,
                   http::Responder respond) {
              http::Response refusal;
              auto body = json_body(req, &refusal);
              if (!body) return respond(refusal);
              Fields f(*body);
              const auto p = read_part(f, *body, false);
              if (!f.ok()) return respond(validation_failed(f.errors()));
              commit(ctx, respond, [who, p, id = params.at("id")](store::Tx& tx) {
                const auto created = contracts::add_part(tx, who, id, p);
                if (!created) refuse(created.refusal());
                const std::string part_id = (*created)["id"].asString();
                auto r = http::Response::json(201, *created);
                r.headers.emplace_back("Location", "/v1/contracts/" + id + "/parts/" + part_id);
                return r;
              });
            });

  add_route(router, ctx, "PATCH", "/v1/contracts/{id}/parts/{part_id}", auth::Right::manage_sales,
            [&ctx](const http::Request& req, const http::Params& params, const auth::Principal& who,
                   http::Responder respond) {
              http::Response refusal;
              auto body = json_body(req, &refusal);
              if (!body) return respond(refusal);
              Fields f(*body);
              const auto p = read_part(f, *body, false);
              if (!f.ok()) return respond(validation_failed(f.errors()));
              commit(ctx, respond,
                     [who, p, id = params.at("id"), part_id = params.at("part_id")](store::Tx& tx) {
                       const auto after = contracts::change_part(tx, who, id, part_id, p);
                       if (!after) refuse(after.refusal());
                       return http::Response::json(200, *after);
                     });
            });

  add_route(router, ctx, "DELETE", "/v1/contracts/{id}/parts/{part_id}", auth::Right::manage_sales,
            [&ctx](const http::Request&, const http::Params& params, const auth::Principal& who,
                   http::Responder respond) {
              commit(ctx, respond,
                     [who, id = params.at("id"), part_id = params.at("part_id")](store::Tx& tx) {
                       const auto deleted = contracts::delete_part(tx, who, id, part_id);
                       if (!deleted) refuse(deleted.refusal());
                       return http::Response::empty(204);
                     });
            });
}

void add_activate(http::Router& router, const ApiContext& ctx) {
  add_route(
      router, ctx, "POST", "/v1/contracts/{id}/activate", auth::Right::manage_sales,
      [&ctx](const http::Request&, const http::Params& params, const auth::Principal& who,
             http::Responder respond) {
        const std::string id = params.at("id");
        std::optional<domain::Result<Json::Value>> checked;
        ctx.store.read([&](store::Tx& tx) { checked = contracts::check_activation(tx, who, id); });
        if (!*checked) return respond(to_problem(checked->refusal()));
        const Json::Value& contract = **checked;
        admission::Review review{auth::new_id("adm"), who.tenant_id,  "contract.activate", contract,
                                 Json::nullValue,     Json::nullValue};
        review.user["token_id"] = who.token_id;
        const auto verdict = ctx.admission.review(review);
        if (!verdict.allowed) return respond(refused(verdict));

        const int64_t seen_version = contract["version"].asInt64();
        commit(ctx, respond, [who, id, seen_version](store::Tx& tx) {
          auto after = contracts::activate(tx, who, id, seen_version);
          if (!after) refuse(after.refusal());
          return http::Response::json(200, *after);
        });
      });
}

// The wizard's billing-info step: the billing info is the client's, so it is saved there,
// exactly as PUT /v1/clients/{id}/billing-info would save it.
void add_billing_info(http::Router& router, const ApiContext& ctx) {
  add_route(router, ctx, "PUT", "/v1/contracts/{id}/billing-info", auth::Right::manage_clients,
            [&ctx](const http::Request& req, const http::Params& params, const auth::Principal& who,
                   http::Responder respond) {
              http::Response refusal;
              auto body = json_body(req, &refusal);
              if (!body) return respond(refusal);
              auto parsed = domain::parse_billing_info(*body);
              if (!parsed.info) return respond(validation_failed(parsed.errors));
              commit(ctx, respond, [who, info = *parsed.info, id = params.at("id")](store::Tx& tx) {
                const auto out = contracts::save_contract_billing_info(tx, who, id, info);
                if (!out) refuse(out.refusal());
                return http::Response::json(200, *out);
              });
            });
}

void add_bootstrap(http::Router& router, const ApiContext& ctx) {
  add_sync_route(
      router, ctx, "POST", "/v1/contracts/bootstrap", auth::Right::manage_sales,
      [&ctx](const http::Request& req, const http::Params&, const auth::Principal& who) {
        http::Response refusal;
        auto body = json_body(req, &refusal);
        if (!body) return refusal;
        Fields f(*body);
        f.only({"client_ids", "all", "dry_run"});
        const auto all = f.boolean("all", false);
        const auto dry_run = f.boolean("dry_run", false);
        if (all && !*all) f.error("all", "must be true when given; name clients in client_ids");
        Json::Value request;
        request["tenant_id"] = who.tenant_id;
        request["actor"] = who.token_id;
        request["dry_run"] = dry_run.value_or(false);
        // Through a const reference: a non-const operator[] would add the member it looks for.
        const Json::Value& given = *body;
        const Json::Value& listed = given["client_ids"];
        if (body->isMember("client_ids") == all.value_or(false)) {
          f.error("client_ids", "give either client_ids or \"all\": true");
        } else if (body->isMember("client_ids")) {
          if (!listed.isArray() || listed.empty() || listed.size() > kMaxBootstrapIds) {
            f.error("client_ids", "expected an array of 1 to " + std::to_string(kMaxBootstrapIds) +
                                      " client ids");
          } else {
            request["client_ids"] = Json::Value(Json::arrayValue);
            std::unordered_set<std::string> seen;
            for (Json::ArrayIndex i = 0; i < listed.size(); ++i) {
              const Json::Value& id = listed[i];
              if (!id.isString() || id.asString().empty() || id.asString().size() > 100) {
                f.error("client_ids[" + std::to_string(i) + "]", "expected a client id");
              } else if (seen.insert(id.asString()).second) {
                request["client_ids"].append(id);
              }
            }
          }
        } else {
          request["all"] = true;
        }
        if (!f.ok()) return validation_failed(f.errors());

        auto result = contracts::bootstrap(ctx.plugins, request);
        if (!result) return to_problem(result.refusal());
        // The drafts were committed by the plugin's host calls: wake the event dispatcher.
        if (!(*result)["created"].empty() && !request["dry_run"].asBool() && ctx.events_committed) {
          ctx.events_committed();
        }
        Json::Value out;
        out["created"] = std::move((*result)["created"]);
        out["skipped"] = std::move((*result)["skipped"]);
        out["dry_run"] = request["dry_run"];
        Json::Value summary;
        summary["created"] = out["created"].size();
        summary["skipped"] = Json::Value(Json::objectValue);
        Json::UInt unpriced = 0;
        for (const auto& c : out["created"]) unpriced += c["unpriced_parts"].size();
        for (const auto& s : out["skipped"]) {
          const std::string reason = s["reason"].asString();
          summary["skipped"][reason] = summary["skipped"].get(reason, 0).asUInt() + 1;
        }
        summary["unpriced_parts"] = unpriced;
        out["summary"] = summary;
        return http::Response::json(200, out);
      });
}

}  // namespace

void add_contract_routes(http::Router& router, const ApiContext& ctx) {
  add_bootstrap(router, ctx);
  add_create(router, ctx);
  add_read(router, ctx);
  add_update(router, ctx);
  add_parts(router, ctx);
  add_activate(router, ctx);
  add_billing_info(router, ctx);
}

}  // namespace psahost::api
