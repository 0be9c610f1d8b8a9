#include "webhooks/signature.hpp"

#include "core/crypto.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace wh = psahost::webhooks;
using psahost::crypto::base64_encode;
using psahost::crypto::hmac_sha1;
using psahost::crypto::hmac_sha256;
using psahost::crypto::sha256;

namespace {

// The example in the Standard Webhooks specification (and every reference library's tests).
constexpr const char* kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr const char* kId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr const char* kTimestamp = "1614265330";
constexpr int64_t kNow = 1614265330;
constexpr const char* kBody = R"({"test": 2432232314})";
constexpr const char* kSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

std::string key() {
  return *wh::standard_webhooks_key(kSecret);
}

}  // namespace

TEST_CASE("the Standard Webhooks example signature is reproduced and verified", "[webhooks]") {
  CHECK(wh::standard_webhooks_signature(key(), kId, kTimestamp, kBody) == kSignature);
  CHECK(wh::verify_standard_webhooks(key(), kId, kTimestamp, kSignature, kBody, kNow).ok());
}

TEST_CASE("Standard Webhooks accepts any matching v1 entry among decoys and other versions",
          "[webhooks]") {
  const std::string several = std::string("v2,abc v1,Zm9vYmFy ") + kSignature + " v1a,xyz";
  CHECK(wh::verify_standard_webhooks(key(), kId, kTimestamp, several, kBody, kNow).ok());
  // Unpadded base64 is what some senders emit.
  std::string unpadded = kSignature;
  unpadded.pop_back();
  CHECK(wh::verify_standard_webhooks(key(), kId, kTimestamp, unpadded, kBody, kNow).ok());
}

TEST_CASE("Standard Webhooks refuses what was not signed with the key", "[webhooks]") {
  using wh::Check;
  const auto check = [&](std::string_view id, std::string_view ts, std::string_view sig,
                         std::string_view body, int64_t now = kNow) {
    return wh::verify_standard_webhooks(key(), id, ts, sig, body, now).check;
  };
  CHECK(check(kId, kTimestamp, kSignature, R"({"test": 2432232315})") == Check::mismatch);
  CHECK(check("msg_other", kTimestamp, kSignature, kBody) == Check::mismatch);
  CHECK(check(kId, "1614265331", kSignature, kBody, 1614265331) == Check::mismatch);
  CHECK(check(kId, kTimestamp, "v1,", kBody) == Check::mismatch);
  CHECK(check(kId, kTimestamp, "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", kBody) ==
        Check::malformed);
  CHECK(check(kId, kTimestamp, "", kBody) == Check::missing);
  CHECK(check("", kTimestamp, kSignature, kBody) == Check::missing);
  CHECK(check(kId, "", kSignature, kBody) == Check::missing);
  CHECK(check(kId, "16142653x0", kSignature, kBody) == Check::malformed);
  CHECK(check(kId, "-1614265330", kSignature, kBody) == Check::malformed);
  const auto other = wh::standard_webhooks_key("whsec_" + base64_encode(std::string(32, 'k')));
  REQUIRE(other);
  CHECK(wh::verify_standard_webhooks(*other, kId, kTimestamp, kSignature, kBody, kNow).check ==
        Check::mismatch);
}

TEST_CASE("Standard Webhooks timestamps outside five minutes either way are stale", "[webhooks]") {
  using wh::Check;
  const auto at = [&](int64_t now) {
    return wh::verify_standard_webhooks(key(), kId, kTimestamp, kSignature, kBody, now).check;
  };
  CHECK(at(kNow + 300) == Check::ok);
  CHECK(at(kNow - 300) == Check::ok);
  CHECK(at(kNow + 301) == Check::stale);
  CHECK(at(kNow - 301) == Check::stale);
}

TEST_CASE("Standard Webhooks secrets must be whsec_ and 24 to 64 bytes of base64", "[webhooks]") {
  CHECK(wh::standard_webhooks_key(kSecret).has_value());
  CHECK_FALSE(wh::standard_webhooks_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
  CHECK_FALSE(wh::standard_webhooks_key("whsec_not*base64"));
  CHECK_FALSE(wh::standard_webhooks_key("whsec_" + base64_encode(std::string(23, 'k'))));
  CHECK_FALSE(wh::standard_webhooks_key("whsec_" + base64_encode(std::string(65, 'k'))));
  const std::string fresh = wh::new_standard_webhooks_secret();
  CHECK(fresh.starts_with("whsec_"));
  REQUIRE(wh::standard_webhooks_key(fresh));
  CHECK(wh::standard_webhooks_key(fresh)->size() == 32);
  CHECK(fresh != wh::new_standard_webhooks_secret());
}

TEST_CASE("HMAC primitives match the published test vectors", "[webhooks]") {
  // RFC 2104 examples as reproduced by every HMAC implementation's documentation.
  const std::string fox = "The quick brown fox jumps over the lazy dog";
  CHECK(base64_encode(hmac_sha1("key", fox)) == "3nybhbi3iqa8ino29wqQcBydtNk=");
  CHECK(base64_encode(hmac_sha256("key", fox)) == "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg=");
  CHECK(hmac_sha256("key", {"The quick ", "brown fox", " jumps over the lazy dog"}) ==
        hmac_sha256("key", fox));
}

TEST_CASE("a MAC in a header is checked over the raw body with the key's text bytes",
          "[webhooks]") {
  const std::string body = R"({"events":[],"firstEventSequence":0,"lastEventSequence":0})";
  // Xero's webhook keys look like base64; they are used as text, not decoded.
  const std::string key = "aGVsbG8gd29ybGQgdGhpcyBpcyBhIGtleQ==";
  const std::string good = base64_encode(hmac_sha256(key, body));
  CHECK(wh::verify_mac_header(wh::Mac::sha256, key, good, "", body, false).ok());
  CHECK(wh::verify_mac_header(wh::Mac::sha256, key, " " + good + " ", "", body, false).ok());
  CHECK(wh::verify_mac_header(wh::Mac::sha256, key, good, "", body + " ", false).check ==
        wh::Check::mismatch);
  CHECK(wh::verify_mac_header(wh::Mac::sha256, key, "", "", body, false).check ==
        wh::Check::missing);
  // Re-serialised JSON is not the body that was signed.
  CHECK_FALSE(wh::verify_mac_header(
                  wh::Mac::sha256, key, good, "",
                  R"({"events": [], "firstEventSequence": 0, "lastEventSequence": 0})", false)
                  .ok());
}

TEST_CASE("Autotask's sha1= header verifies the raw body, then its re-escaped copy", "[webhooks]") {
  const std::string body = "{\"Fields\":{\"Name\":\"Smith & Sons <Caf\xC3\xA9> 'x' \\\"q\\\"\"}}";
  const std::string escaped = wh::autotask_escaped(body);
  CHECK(escaped ==
        "{\"Fields\":{\"Name\":\"Smith \\u0026 Sons \\u003CCaf\\u00E9\\u003E \\u0027x\\u0027 "
        "\\u0022q\\u0022\"}}");
  const std::string key = "autotask-secret";
  const std::string over_raw = "sha1=" + base64_encode(hmac_sha1(key, body));
  const std::string over_escaped = "sha1=" + base64_encode(hmac_sha1(key, escaped));
  CHECK(wh::verify_mac_header(wh::Mac::sha1, key, over_raw, "sha1=", body, true).ok());
  CHECK(wh::verify_mac_header(wh::Mac::sha1, key, over_escaped, "sha1=", body, true).ok());
  CHECK_FALSE(wh::verify_mac_header(wh::Mac::sha1, key, over_escaped, "sha1=", body, false).ok());
  CHECK(wh::verify_mac_header(wh::Mac::sha1, key, base64_encode(hmac_sha1(key, body)),
                              "sha1=", body, true)
            .check == wh::Check::malformed);
}

TEST_CASE("Autotask escaping leaves structure and ASCII alone and writes surrogate pairs",
          "[webhooks]") {
  CHECK(wh::autotask_escaped(R"({"a":1,"b":[true,null],"c":"plain\n"})") ==
        R"({"a":1,"b":[true,null],"c":"plain\n"})");
  // U+1F600 (4 bytes of UTF-8) is one surrogate pair.
  CHECK(wh::autotask_escaped("{\"e\":\"\xF0\x9F\x98\x80\"}") == "{\"e\":\"\\uD83D\\uDE00\"}");
  // Outside strings nothing changes, even characters that would be escaped inside.
  CHECK(wh::autotask_escaped("{\"k\" : \"<\"}") == "{\"k\" : \"\\u003C\"}");
}

TEST_CASE("ConnectWise signatures use the SHA-256 of the fetched signing key as the MAC key",
          "[webhooks]") {
  const std::string body = R"({"MessageId":"m-1","Action":"updated","Entity":"{\"id\":250}"})";
  const std::string signing_key = "cw-signing-key-from-key-url";
  const std::string header = base64_encode(hmac_sha256(sha256(signing_key), body));
  CHECK(wh::verify_connectwise(signing_key, header, body).ok());
  CHECK(wh::verify_connectwise("another-key", header, body).check == wh::Check::mismatch);
  CHECK(wh::verify_connectwise(signing_key, base64_encode(hmac_sha256(signing_key, body)), body)
            .check == wh::Check::mismatch);
  CHECK(wh::verify_connectwise(signing_key, "", body).check == wh::Check::missing);
}
