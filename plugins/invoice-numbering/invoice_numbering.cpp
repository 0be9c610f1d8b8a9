// Invoice numbering: renders a series' pattern into invoice numbers and advances its counter
// (never reset, or reset each year), reads numbers back (the accounting system's last one), and
// refuses the first real billing run, and any manual invoice, until the numbering is verified.
//
// Patterns are literal text and tokens: {prefix}, {yyyy}, {yy}, {mm} (of the issue date) and
// exactly one {seq} or {seq:N} (the sequence number, zero-padded to N digits). Literal text is
// printable ASCII without spaces or braces. A yearly reset needs {yyyy} or {yy} in the pattern:
// without the year the numbers of one year would be those of the next.
#include <psa/sdk.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace {

struct Token {
  enum Kind { literal, prefix, yyyy, yy, mm, seq } kind = literal;
  std::string text;  // literal
  int width = 1;     // seq
};

struct Pattern {
  std::vector<Token> tokens;
  std::string error;  // why it is not a pattern, or ""
  bool has_year() const {
    for (const auto& t : tokens) {
      if (t.kind == Token::yyyy || t.kind == Token::yy) return true;
    }
    return false;
  }
};

bool is_literal_char(char c) {
  return c > ' ' && c < 0x7f && c != '{' && c != '}';
}

Pattern parse_pattern(const std::string& text) {
  Pattern p;
  int seqs = 0;
  std::string literal;
  const auto flush = [&] {
    if (!literal.empty()) p.tokens.push_back({Token::literal, literal, 1});
    literal.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '}') {
      p.error = "a '}' without its '{' at position " + std::to_string(i + 1);
      return p;
    }
    if (c != '{') {
      if (!is_literal_char(c)) {
        p.error =
            "literal text must be printable ASCII without spaces; found a character that "
            "is not at position " +
            std::to_string(i + 1);
        return p;
      }
      literal += c;
      continue;
    }
    const auto close = text.find('}', i);
    if (close == std::string::npos) {
      p.error = "a '{' without its '}' at position " + std::to_string(i + 1);
      return p;
    }
    const std::string name = text.substr(i + 1, close - i - 1);
    flush();
    if (name == "prefix") {
      p.tokens.push_back({Token::prefix, "", 1});
    } else if (name == "yyyy") {
      p.tokens.push_back({Token::yyyy, "", 1});
    } else if (name == "yy") {
      p.tokens.push_back({Token::yy, "", 1});
    } else if (name == "mm") {
      p.tokens.push_back({Token::mm, "", 1});
    } else if (name == "seq" || name.rfind("seq:", 0) == 0) {
      int width = 1;
      if (name != "seq") {
        const std::string digits = name.substr(4);
        if (digits.empty() || digits.size() > 2 ||
            digits.find_first_not_of("0123456789") != std::string::npos || std::stoi(digits) < 1 ||
            std::stoi(digits) > 12) {
          p.error = "{" + name + "}: the width of {seq:N} is a number from 1 to 12";
          return p;
        }
        width = std::stoi(digits);
      }
      p.tokens.push_back({Token::seq, "", width});
      ++seqs;
    } else {
      p.error = "unknown token {" + name + "}; tokens are {prefix}, {yyyy}, {yy}, {mm}, {seq:N}";
      return p;
    }
    i = close;
  }
  flush();
  if (seqs != 1) {
    p.error = seqs == 0 ? "the pattern needs a {seq} (or {seq:N}) token, or every invoice would "
                          "get the same number"
                        : "the pattern may hold only one {seq} token";
  }
  return p;
}

struct IssueDate {
  int year = 0, month = 0;
};

std::optional<IssueDate> parse_date(const std::string& t) {
  if (t.size() != 10 || t[4] != '-' || t[7] != '-') return std::nullopt;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (t[i] < '0' || t[i] > '9') return std::nullopt;
  }
  const IssueDate d{std::stoi(t.substr(0, 4)), std::stoi(t.substr(5, 2))};
  if (d.year < 1900 || d.month < 1 || d.month > 12) return std::nullopt;
  return d;
}

std::string padded(int64_t value, int width) {
  std::string digits = std::to_string(value);
  if (static_cast<int>(digits.size()) < width) digits.insert(0, width - digits.size(), '0');
  return digits;
}

std::string render(const Pattern& p, const std::string& prefix, IssueDate date, int64_t seq) {
  std::string out;
  for (const auto& t : p.tokens) {
    switch (t.kind) {
      case Token::literal:
        out += t.text;
        break;
      case Token::prefix:
        out += prefix;
        break;
      case Token::yyyy:
        out += padded(date.year, 4);
        break;
      case Token::yy:
        out += padded(date.year % 100, 2);
        break;
      case Token::mm:
        out += padded(date.month, 2);
        break;
      case Token::seq:
        out += padded(seq, t.width);
        break;
    }
  }
  return out;
}

// What a number read back says: its sequence number and, when the pattern holds one, its year.
struct Parsed {
  int64_t seq = 0;
  std::optional<int> year;
};

bool all_digits(const std::string& s, std::size_t at, std::size_t n) {
  if (at + n > s.size()) return false;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

// Matches text against the pattern from token i at position at, backtracking over the length of
// {seq} (it is the only token of variable length: at least its width, more once it outgrows it).
bool match(const Pattern& p, const std::string& prefix, const std::string& text, std::size_t i,
           std::size_t at, Parsed& out) {
  if (i == p.tokens.size()) return at == text.size();
  const Token& t = p.tokens[i];
  const auto fixed = [&](const std::string& expected) {
    return text.compare(at, expected.size(), expected) == 0 &&
           match(p, prefix, text, i + 1, at + expected.size(), out);
  };
  const auto year_digits = [&](std::size_t n, int base) {
    if (!all_digits(text, at, n)) return false;
    const int year = base + std::stoi(text.substr(at, n));
    if (out.year && *out.year != year) return false;
    const auto before = out.year;
    out.year = year;
    if (match(p, prefix, text, i + 1, at + n, out)) return true;
    out.year = before;
    return false;
  };
  switch (t.kind) {
    case Token::literal:
      return fixed(t.text);
    case Token::prefix:
      return fixed(prefix);
    case Token::yyyy:
      return year_digits(4, 0);
    case Token::yy:
      return year_digits(2, 2000);
    case Token::mm: {
      if (!all_digits(text, at, 2)) return false;
      const int month = std::stoi(text.substr(at, 2));
      return month >= 1 && month <= 12 && match(p, prefix, text, i + 1, at + 2, out);
    }
    case Token::seq: {
      std::size_t n = 0;
      while (at + n < text.size() && text[at + n] >= '0' && text[at + n] <= '9') ++n;
      for (; n >= static_cast<std::size_t>(t.width); --n) {
        // Wider than its width only without leading zeros: 001041 is not {seq:05}.
        if (n > static_cast<std::size_t>(t.width) && text[at] == '0') continue;
        if (n > 15) continue;  // beyond any counter the host keeps
        const int64_t seq = std::stoll(text.substr(at, n));
        if (seq >= 1 && match(p, prefix, text, i + 1, at + n, out)) {
          out.seq = seq;
          return true;
        }
      }
      return false;
    }
  }
  return false;
}

std::string text_of(const Json::Value& v) {
  return v.isString() ? v.asString() : std::string();
}

Json::Value field_error(const std::string& field, const std::string& message) {
  Json::Value e;
  e["field"] = field;
  e["message"] = message;
  return e;
}

class InvoiceNumbering final : public psa::Plugin {
 public:
  void init(const psa::Host& host, const Json::Value& config) override {
    host_ = &host;
    defaults_["prefix"] = config.get("default_prefix", "INV-").asString();
    defaults_["pattern"] = config.get("default_pattern", "{prefix}{yyyy}-{seq:05}").asString();
    defaults_["reset"] = config.get("default_reset", "yearly").asString();
    defaults_["next_number"] = config.get("default_next_number", 1).asInt64();
    max_length_ = config.get("max_length", 21).asInt();
    const Json::Value errors = check(defaults_, "2000-01-01");
    if (!errors.empty()) {
      throw std::invalid_argument(
          "the default settings are not valid: " + errors[0]["field"].asString() + ": " +
          errors[0]["message"].asString());
    }
  }

  Json::Value handle(std::string_view hook, const Json::Value& request) override {
    if (hook == "numbering.allocate") return allocate(request);
    if (hook == "admission.review") return review(request);
    if (hook == "command.defaults") return defaults_;
    if (hook == "command.check_settings") return check_settings(request);
    if (hook == "command.parse_number") return parse_number(request);
    throw psa::HookError(PSA_NOT_FOUND, "invoice-numbering does not handle " + std::string(hook));
  }

 private:
  // numbering.allocate. The host calls it INSIDE the store transaction that issues the invoice,
  // on the store's only writer thread, so the number and the invoice commit together or not at
  // all. So it is a pure computation on what the request carries: no host call (one that writes
  // would wait for the very writer it runs on), no state kept between calls, no side effect; a
  // rolled-back invoice then leaves nothing behind, and the host alone keeps the counter.
  //   {"tenant_id","series":{"billing_entity","prefix","pattern","reset"},
  //    "counter":{"next":N,"year":Y|null},"issue_date":"YYYY-MM-DD"} ->
  //   {"number":"INV-2026-01042","seq":1042,"year":2026|null,"counter":{"next":1043,"year":..}}
  // A yearly series whose counter counts in an earlier year starts again at 1 in the issue
  // date's year; a counter without a year (just set) counts from its next in that year.
  Json::Value allocate(const Json::Value& request) const {
    const Json::Value& series = request["series"];
    const Pattern pattern = parse_pattern(text_of(series["pattern"]));
    if (!pattern.error.empty()) throw psa::HookError(PSA_INVALID_ARGUMENT, pattern.error);
    const auto date = parse_date(text_of(request["issue_date"]));
    if (!date) throw psa::HookError(PSA_INVALID_ARGUMENT, "issue_date must be YYYY-MM-DD");
    const Json::Value& counter = request["counter"];
    if (!counter["next"].isInt64() || counter["next"].asInt64() < 1) {
      throw psa::HookError(PSA_INVALID_ARGUMENT, "counter.next must be a whole number >= 1");
    }
    int64_t seq = counter["next"].asInt64();
    Json::Value year;  // null: the series never resets
    if (text_of(series["reset"]) == "yearly") {
      const int counted = counter["year"].isInt() ? counter["year"].asInt() : date->year;
      if (date->year < counted) {
        throw psa::HookError(PSA_INVALID_ARGUMENT,
                             "the issue date lies before the year the series counts in (" +
                                 std::to_string(counted) + ")");
      }
      if (date->year > counted) seq = 1;
      year = date->year;
    }
    const std::string number = render(pattern, text_of(series["prefix"]), *date, seq);
    if (static_cast<int>(number.size()) > max_length_) {
      throw psa::HookError(PSA_INVALID_ARGUMENT,
                           number + " is longer than " + std::to_string(max_length_) +
                               " characters, which the accounting system may refuse");
    }
    Json::Value out;
    out["number"] = number;
    out["seq"] = static_cast<Json::Int64>(seq);
    out["year"] = year;
    out["counter"]["next"] = static_cast<Json::Int64>(seq + 1);
    out["counter"]["year"] = year;
    return out;
  }

  // {"settings":{prefix,pattern,reset,next_number},"issue_date"} -> {"errors":[{field,message}],
  // "example":"INV-2026-01001"|null}: what the pattern grammar and the reset rule say about them.
  Json::Value check_settings(const Json::Value& request) const {
    Json::Value out;
    out["errors"] = check(request["settings"], text_of(request["issue_date"]));
    out["example"] = Json::Value();
    if (out["errors"].empty()) {
      Json::Value ask;
      ask["series"] = request["settings"];
      ask["counter"]["next"] = request["settings"]["next_number"];
      ask["issue_date"] = request["issue_date"];
      out["example"] = allocate(ask)["number"];
    }
    return out;
  }

  Json::Value check(const Json::Value& settings, const std::string& issue_date) const {
    Json::Value errors(Json::arrayValue);
    const std::string prefix = text_of(settings["prefix"]);
    for (char c : prefix) {
      if (!is_literal_char(c)) {
        errors.append(field_error("prefix", "must be printable ASCII without spaces or braces"));
        break;
      }
    }
    const Pattern pattern = parse_pattern(text_of(settings["pattern"]));
    if (!pattern.error.empty()) errors.append(field_error("pattern", pattern.error));
    const std::string reset = text_of(settings["reset"]);
    if (reset != "never" && reset != "yearly") {
      errors.append(field_error("reset", "expected never or yearly"));
    } else if (reset == "yearly" && pattern.error.empty() && !pattern.has_year()) {
      errors.append(field_error("pattern",
                                "a yearly reset needs {yyyy} or {yy} in the pattern, or the "
                                "numbers of one year would repeat those of the year before"));
    }
    const Json::Value& next = settings["next_number"];
    if (!next.isInt64() || next.asInt64() < 1) {
      errors.append(field_error("next_number", "must be a whole number of at least 1"));
    }
    const auto date = parse_date(issue_date);
    if (errors.empty() && date) {
      const std::string example = render(pattern, prefix, *date, next.asInt64());
      if (static_cast<int>(example.size()) > max_length_) {
        errors.append(field_error("pattern", "renders " + example + ", longer than " +
                                                 std::to_string(max_length_) +
                                                 " characters (QuickBooks refuses those)"));
      }
    }
    return errors;
  }

  // {"settings":{prefix,pattern},"number"} -> {"matches":bool,"seq":N|null,"year":Y|null}
  Json::Value parse_number(const Json::Value& request) const {
    const Pattern pattern = parse_pattern(text_of(request["settings"]["pattern"]));
    Json::Value out;
    out["matches"] = false;
    out["seq"] = Json::Value();
    out["year"] = Json::Value();
    if (!pattern.error.empty()) return out;
    Parsed parsed;
    if (!match(pattern, text_of(request["settings"]["prefix"]), text_of(request["number"]), 0, 0,
               parsed)) {
      return out;
    }
    out["matches"] = true;
    out["seq"] = static_cast<Json::Int64>(parsed.seq);
    if (parsed.year) out["year"] = *parsed.year;
    return out;
  }

  // billing_run.start (real runs) and invoice.issue (manual invoices) wait for a verified
  // numbering. A run's own invoices pass: the run was admitted, and the host issues nothing from
  // a series whose settings changed since their verification.
  Json::Value review(const Json::Value& request) const {
    const std::string operation = text_of(request["operation"]);
    const Json::Value& object = request["object"];
    Json::Value allow;
    allow["allowed"] = true;
    if (operation == "billing_run.start" && object["dry_run"].asBool()) return allow;
    if (operation == "invoice.issue" && !text_of(object["billing_run_id"]).empty()) return allow;
    Json::Value ask;
    ask["tenant_id"] = request["tenant_id"];
    const Json::Value status = host_->call("numbering.status", ask);
    if (status["verified"].asBool()) return allow;

    std::string entity;
    bool changed = false;
    for (const auto& s : status["series"]) {
      if (!s["verified"].asBool()) {
        entity = text_of(s["billing_entity"]);
        changed = s["was_verified"].asBool();
        break;
      }
    }
    Json::Value deny;
    deny["allowed"] = false;
    deny["type"] = "numbering-not-verified";
    deny["reason"] =
        std::string(changed ? "The invoice numbering settings changed since they were verified"
                            : "The invoice numbering settings have not been verified") +
        (entity.empty() ? "" : " (billing entity " + entity + ")") +
        "; verify them so that invoice numbers line up with the accounting system before " +
        (operation == "billing_run.start" ? "running billing." : "issuing an invoice.");
    deny["prompt"]["action"] = "verify_invoice_numbering";
    deny["prompt"]["href"] = "/v1/invoice-numbering/verify";
    deny["prompt"]["billing_entity"] = entity;
    return deny;
  }

  const psa::Host* host_ = nullptr;
  Json::Value defaults_;
  int max_length_ = 21;
};

}  // namespace

PSA_PLUGIN(
    InvoiceNumbering,
    R"({"id":"invoice-numbering","version":"1.0.0","hooks":["numbering.allocate","admission.review","command.defaults","command.check_settings","command.parse_number"]})")
