// What the accounting connectors share: an answer of their system as http.request gives it, and
// the outcome of an invoice pushed to it (the sync.result hook), decided one way for every such
// system so that a lost answer never makes a second invoice and a refusal is told, not retried.
#pragma once

#include <psa/sdk.hpp>

#include "text.hpp"

#include <functional>
#include <optional>
#include <string>

namespace connectors {

struct Answer {
  int status = 0;
  Json::Value body;  // null when the body is not a JSON object
  std::string text;  // the raw body
  bool ok() const { return status >= 200 && status < 300 && body.isObject(); }
};

// response: {"status","body"} as http.request or a delivery's sync.result gives it; anything
// else is no answer (status 0).
inline Answer answer_of(const Json::Value& response) {
  Answer a;
  if (!response.isObject()) return a;
  a.status = response["status"].asInt();
  a.text = response["body"].asString();
  try {
    const Json::Value parsed = psa::json::parse(a.text);
    if (parsed.isObject()) a.body = parsed;
  } catch (const psa::HookError&) {
    // Not JSON: a proxy's error page, or garbage; ok() says no.
  }
  return a;
}

// Our invoice with that number (invoices.find), or nothing when there is none.
inline std::optional<Json::Value> find_invoice(const psa::Host& host, const Json::Value& request,
                                               const std::string& number) {
  if (number.empty()) return std::nullopt;
  Json::Value find;
  find["tenant_id"] = request["tenant_id"];
  find["number"] = number;
  try {
    return host.call("invoices.find", find);
  } catch (const psa::HostError& e) {
    if (e.code() == PSA_NOT_FOUND) return std::nullopt;
    throw;
  }
}

// The outcome, with the client linked to the party (customer, contact) the invoice was pushed
// to whatever became of it, so that the next push finds the party without a search.
inline Json::Value invoice_verdict(const std::string& outcome, const std::string& reason,
                                   const std::optional<Json::Value>& ours,
                                   const std::string& party) {
  Json::Value out;
  out["outcome"] = outcome;
  if (!reason.empty()) out["reason"] = reason;
  out["changes"] = Json::Value(Json::arrayValue);
  if (ours && !party.empty() && !text((*ours)["client_id"]).empty()) {
    Json::Value link;
    link["op"] = "external_ref.link";
    link["object_type"] = "client";
    link["object_id"] = (*ours)["client_id"];
    link["ref"]["external_id"] = party;
    out["changes"].append(link);
  }
  return out;
}

// Delivered: the invoice numbered number is invoice_id in the other system.
inline Json::Value invoice_delivered(const psa::Host& host, const Json::Value& request,
                                     const std::string& number, const std::string& invoice_id,
                                     const std::string& party) {
  Json::Value out = invoice_verdict("delivered", "", find_invoice(host, request, number), party);
  Json::Value change;
  change["op"] = "invoice.external_id";
  change["invoice"]["number"] = number;
  change["external_id"] = invoice_id;
  out["changes"].append(change);
  return out;
}

// What the connector read from the invoice it pushed and the answer to it.
struct PushedInvoice {
  std::string number;             // from the body sent, else from the invoice answered
  std::string party;              // the customer or contact it was pushed to
  std::string created_id;         // the system's id of the invoice when the answer is it
  bool duplicate_number = false;  // refused: the system has an invoice with that number
  std::string refusal;            // the system's words about an error answer
};

// The system's id of an invoice of its own that is ours (same number, party and total), found
// by asking it; nothing when it has none.
using FindPushed = std::function<std::optional<std::string>(const Json::Value& ours)>;

// sync.result for an invoice push. system names the other system in reasons ("Xero").
//   created                      -> delivered
//   number taken                 -> delivered when the one holding it is ours (a create that
//                                   went through while its answer was lost), else failed: the
//                                   numbering here and there do not line up
//   refused (4xx but 401/408/429) -> failed with the system's words; sending it again would not
//                                   change them
//   anything else                -> looked up first, since it may have been created all the
//                                   same; delivered when found, else retry
inline Json::Value invoice_result(const psa::Host& host, const Json::Value& request,
                                  const std::string& system, const Answer& a,
                                  const PushedInvoice& pushed, const FindPushed& find_pushed) {
  const std::string& number = pushed.number;
  if (!pushed.created_id.empty()) {
    return invoice_delivered(host, request, number, pushed.created_id, pushed.party);
  }
  const bool answered = request["response"].isObject();
  const auto ours = find_invoice(host, request, number);
  if (answered && pushed.duplicate_number) {
    if (ours) {
      if (const auto mine = find_pushed(*ours)) {
        return invoice_delivered(host, request, number, *mine, pushed.party);
      }
    }
    return invoice_verdict("failed",
                           system + " already has another invoice numbered " + number + " (" +
                               pushed.refusal +
                               "): the numbering here and there do not line up; see GET "
                               "/v1/invoice-numbering",
                           ours, pushed.party);
  }
  const int status = a.status;
  if (answered && status >= 400 && status < 500 && status != 401 && status != 408 &&
      status != 429) {
    return invoice_verdict("failed",
                           system + " refused invoice " + number + " with " +
                               std::to_string(status) + ": " + pushed.refusal,
                           ours, pushed.party);
  }
  const std::string why = answered ? system + " answered " + std::to_string(status) +
                                         (a.ok() ? " without the invoice" : "")
                                   : "no answer (" + request["error"].asString() + ")";
  if (ours) {
    try {
      if (const auto mine = find_pushed(*ours)) {
        return invoice_delivered(host, request, number, *mine, pushed.party);
      }
    } catch (const std::exception& e) {
      return invoice_verdict("retry", why + "; looking it up failed too: " + e.what(), ours,
                             pushed.party);
    }
  }
  return invoice_verdict("retry", why, ours, pushed.party);
}

}  // namespace connectors
