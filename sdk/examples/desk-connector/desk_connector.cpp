// Example Desk: a connector written only against the psahost SDK.
//
// Example Desk signs each webhook with HMAC-SHA256 of the raw body in x-desk-signature (base64),
// and every event has an event_id it keeps when it sends the event again. The manifest says so,
// and psahost checks both before this code sees anything: what reaches webhook.map is verified
// and new. Its events:
//   {"event_id","type":"customer.updated","data":{"id":"42"}}            (an id only: fetch it)
//   {"event_id","type":"ticket.created","data":{"id","customer_id","subject"}}
//   {"event_id","type":"time.logged","data":{"id","ticket_id","minutes","agent","approved"}}
// Its REST API, at the connection's base URL: GET /api/customers/{id} -> {"id","name"},
// POST /api/tickets/{id}/notes {"text"} -> 201, GET /api/me -> 200 (what `connections test` asks).
#include <psa/sdk.hpp>

#include <string>

namespace {

std::string text(const Json::Value& v) {
  return v.isString() ? v.asString() : v.isIntegral() ? std::to_string(v.asInt64()) : "";
}

Json::Value ref(const Json::Value& id) {
  Json::Value r;
  r["external_id"] = text(id);
  return r;
}

class DeskConnector final : public psa::Plugin {
 public:
  void init(const psa::Host& host, const Json::Value&) override { host_ = &host; }

  Json::Value handle(std::string_view hook, const Json::Value& request) override {
    if (hook == "webhook.map") return map(request);
    if (hook == "sync.push") return push(request);
    if (hook == "command.test") return test(request);
    throw psa::HookError(PSA_NOT_FOUND, "desk-connector does not handle " + std::string(hook));
  }

 private:
  // A verified event becomes changes psahost applies through its own API, with its own rules.
  Json::Value map(const Json::Value& request) const {
    const Json::Value& event = request["payload"];
    const std::string type = text(event["type"]);
    const Json::Value& data = event["data"];
    Json::Value out;
    Json::Value& changes = out["changes"] = Json::Value(Json::arrayValue);
    if (type == "customer.updated") {
      // The event names the customer only; its name comes from Example Desk's API, fetched with
      // the connection's credentials, which psahost adds and this code never sees.
      const Json::Value customer = api(request, "GET", "/api/customers/" + text(data["id"]));
      Json::Value c;
      c["op"] = "client.upsert";
      c["ref"] = ref(customer["id"]);
      c["name"] = customer["name"];
      changes.append(c);
    } else if (type == "ticket.created") {
      Json::Value c;
      c["op"] = "ticket.upsert";
      c["ref"] = ref(data["id"]);
      c["client"] = ref(data["customer_id"]);
      c["subject"] = data["subject"];
      changes.append(c);
    } else if (type == "time.logged") {
      Json::Value c;
      c["op"] = "time_entry.upsert";
      c["ref"] = ref(data["id"]);
      c["ticket"] = ref(data["ticket_id"]);
      c["minutes"] = data["minutes"];
      c["technician"] = data["agent"];
      changes.append(c);
      if (data["approved"].asBool()) {
        // Approval goes through psahost's admission review, so its billing rules decide.
        Json::Value a;
        a["op"] = "time_entry.approve";
        a["entry"] = ref(data["id"]);
        // Not read by psahost: carried along so that a refusal names the ticket to report on.
        a["ticket"] = ref(data["ticket_id"]);
        changes.append(a);
      }
    } else {
      out["note"] = "Example Desk event " + type + " changes nothing in psahost";
    }
    return out;
  }

  // A change psahost refused is told to the people who made it, on the ticket they work in.
  Json::Value push(const Json::Value& request) const {
    Json::Value out;
    out["requests"] = Json::Value(Json::arrayValue);
    const Json::Value& refused = request["event"]["data"];
    const Json::Value& change = refused["change"];
    if (text(change["op"]) != "time_entry.approve") return out;
    const std::string entry = text(change["entry"]["external_id"]);
    const std::string ticket = text(change["ticket"]["external_id"]);
    if (ticket.empty()) return out;
    Json::Value note;
    note["method"] = "POST";
    note["path"] = "/api/tickets/" + ticket + "/notes";
    note["body"]["text"] =
        "psahost did not approve time entry " + entry + ": " + text(refused["problem"]["detail"]);
    // The same refusal reported twice (a retry) is one note in Example Desk.
    note["idempotency_key"] = "refusal-" + text(request["event"]["id"]);
    out["requests"].append(note);
    return out;
  }

  Json::Value test(const Json::Value& request) const {
    Json::Value out;
    try {
      api(request, "GET", "/api/me");
      out["ok"] = true;
      out["detail"] = "Example Desk answered with these credentials";
    } catch (const std::exception& e) {
      out["ok"] = false;
      out["detail"] = e.what();
    }
    return out;
  }

  // GET or POST on the connection's Example Desk; throws (the host retries the hook) unless 2xx.
  Json::Value api(const Json::Value& request, const std::string& method,
                  const std::string& path) const {
    Json::Value call;
    call["tenant_id"] = request["tenant_id"];
    call["connection_id"] = request["connection"]["id"];
    call["method"] = method;
    call["path"] = path;
    const Json::Value answer = host_->call("http.request", call);
    const int status = answer["status"].asInt();
    if (status < 200 || status > 299) {
      throw std::runtime_error("Example Desk answered " + std::to_string(status) + " to " + path);
    }
    return psa::json::parse(answer["body"].asString());
  }

  const psa::Host* host_ = nullptr;
};

}  // namespace

PSA_PLUGIN(DeskConnector, R"({"id":"desk-connector","version":"1.0.0","hooks":["webhook.map",)"
                          R"("sync.push","command.test"]})")
