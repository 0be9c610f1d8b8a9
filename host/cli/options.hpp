// What every psahost command shares: the common options, parsing from the command line, the
// PSAHOST_* environment and a config file, and opening the data directory's store.
#pragma once

#include "core/log.hpp"
#include "core/secret_box.hpp"
#include "net/address_policy.hpp"
#include "store/store.hpp"

#include <boost/program_options.hpp>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace psahost::cli {

namespace po = boost::program_options;

// A command-line mistake: printed as "psahost <command>: <message>", exit code 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// --help, --data-dir, --config, --log-level.
po::options_description common_options();

// Parses args, then PSAHOST_* variables, then the config file, into one map (first one wins).
po::variables_map parse(const std::string& command, const po::options_description& options,
                        const std::vector<std::string>& args,
                        const po::positional_options_description* positional = nullptr);

LogLevel log_level(const po::variables_map& vm);
// "HOST:PORT" (or "[v6]:PORT") for --listen.
std::pair<std::string, uint16_t> parse_listen(const std::string& value);
void print_help(const std::string& usage, const po::options_description& options);

// Opens (creating and migrating if needed) the store of --data-dir.
std::unique_ptr<store::Store> open_store(const po::variables_map& vm, Logger& log);
// The operator's outbound address policy (--allow-outbound-network CIDR,...); throws UsageError
// naming an entry that is not a range.
std::shared_ptr<const net::AddressPolicy> outbound_policy(const po::variables_map& vm);
// The key that seals secrets at rest (--secret-key-file, or DATA_DIR/secret.key).
crypto::SecretBox open_secret_box(const po::variables_map& vm);

// The *.json manifests in --plugins-dir (repeatable; default: the bundled plugins), in name
// order. Throws UsageError naming a folder that does not exist.
std::vector<std::filesystem::path> manifest_files(const po::variables_map& vm);

// The commands beyond serve/plugins/tokens, each in its own file.
int cmd_onboarding(const std::vector<std::string>& args);
int cmd_demo(const std::vector<std::string>& args);
int cmd_contracts(const std::vector<std::string>& args);
int cmd_connections(const std::vector<std::string>& args);
int cmd_numbering(const std::vector<std::string>& args);
int cmd_billing(const std::vector<std::string>& args);

}  // namespace psahost::cli
