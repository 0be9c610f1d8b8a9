// A test plugin whose library says it was built for the next major version of the plugin ABI
// while its manifest claims ^1.0: only the library's own table tells, so a runner's handshake
// carries the other major and the host must refuse it there.
#include <psa/sdk.hpp>

namespace {

class OtherAbi final : public psa::Plugin {
 public:
  void init(const psa::Host&, const Json::Value&) override {}
  Json::Value handle(std::string_view, const Json::Value&) override {
    return psa::admission::allow();
  }
};

}  // namespace

extern "C" PSA_PLUGIN_EXPORT const psa_plugin_api* psa_plugin_entry(void) {
  static const psa_plugin_api table = {
      sizeof(psa_plugin_api),
      PSA_PLUGIN_API_VERSION_MAJOR + 1,
      0,
      0,
      []() -> const char* { return R"({"id":"other-abi","hooks":["admission.review"]})"; },
      &::psa::detail::init<OtherAbi>,
      &::psa::detail::destroy,
      &::psa::detail::last_error,
      &::psa::detail::handle,
      &::psa::detail::free_response,
  };
  return &table;
}
