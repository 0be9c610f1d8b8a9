// The OAuth2 token endpoint Xero and QuickBooks both run, as the fakes answer it: the
// refresh_token grant (RFC 6749 6) with the client authenticated by HTTP Basic, a new access
// token and a new refresh token on every refresh, and the refresh token used dead from then on.
#pragma once

#include "http/message.hpp"
#include "support/receiver.hpp"

#include <mutex>
#include <set>
#include <string>

namespace psahost::test {

class OAuth2Tokens {
 public:
  OAuth2Tokens(std::string client_id, std::string client_secret, std::string refresh_token);

  // Answers POST to the token endpoint.
  http::Response token_request(const Received& request);
  // Whether the request carries an access token this endpoint issued.
  bool authorised(const Received& request) const;

  // What the connection's --credentials need, for the endpoint at token_url.
  std::string credentials_json(const std::string& token_url) const;

  // expires_in of the tokens issued from now on. 60 or less makes the host refresh before every
  // request (it stops using a token 60 s before it expires), so every refresh shows.
  void set_expires_in(int seconds);
  // Access tokens issued so far stop working (the system revoked them).
  void revoke_access_tokens();

  int refreshes() const;          // successful refreshes
  int refused_refreshes() const;  // refreshes with a dead or unknown refresh token
  std::string live_refresh_token() const;

 private:
  const std::string client_id_, client_secret_;
  mutable std::mutex mutex_;
  std::string refresh_token_;
  std::set<std::string> access_tokens_;
  int expires_in_ = 1800;
  int refreshes_ = 0, refused_ = 0;
};

}  // namespace psahost::test
