#include "core/secret_box.hpp"

#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>

using psahost::crypto::SecretBox;

TEST_CASE("a sealed secret opens with the same key and context only") {
  const SecretBox box(std::string(32, 'k'));
  const std::string sealed = box.seal("whsec_abc", "connection:t1:xero");
  CHECK(sealed.rfind("v1.", 0) == 0);
  CHECK(sealed.find("whsec_abc") == std::string::npos);
  CHECK(box.open(sealed, "connection:t1:xero") == std::optional<std::string>("whsec_abc"));
  CHECK_FALSE(box.open(sealed, "connection:t2:xero"));
  CHECK_FALSE(SecretBox(std::string(32, 'x')).open(sealed, "connection:t1:xero"));
  // Two seals of one secret differ (fresh nonce), and both open.
  const std::string again = box.seal("whsec_abc", "connection:t1:xero");
  CHECK(again != sealed);
  CHECK(box.open(again, "connection:t1:xero"));
}

TEST_CASE("a tampered or malformed sealed secret does not open") {
  const SecretBox box(std::string(32, 'k'));
  std::string sealed = box.seal("api-key-123", "c");
  sealed[sealed.size() / 2] = sealed[sealed.size() / 2] == 'A' ? 'B' : 'A';
  CHECK_FALSE(box.open(sealed, "c"));
  CHECK_FALSE(box.open("", "c"));
  CHECK_FALSE(box.open("v1.", "c"));
  CHECK_FALSE(box.open("v2.abcd", "c"));
  CHECK_FALSE(box.open("v1.!!!!", "c"));
  CHECK(box.open(box.seal("", "c"), "c") == std::optional<std::string>(""));
}

TEST_CASE("the key file is created 0600 on first use and refused when others can read it") {
  psahost::test::TempDir dir;
  const auto file = dir.path() / "secret.key";
  const std::string sealed = SecretBox::from_key_file(file).seal("s", "c");
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(st.st_size == 32);
  // The same file opens what it sealed before.
  CHECK(SecretBox::from_key_file(file).open(sealed, "c") == std::optional<std::string>("s"));

  ::chmod(file.c_str(), 0644);
  CHECK_THROWS_WITH(SecretBox::from_key_file(file), Catch::Contains("chmod 600"));
  ::chmod(file.c_str(), 0600);
  std::ofstream(file, std::ios::app) << "x";
  CHECK_THROWS_WITH(SecretBox::from_key_file(file), Catch::Contains("exactly 32 bytes"));
}
