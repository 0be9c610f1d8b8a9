// What every psahost command shares: the common options, parsing from the command line, the
// PSAHOST_* environment and a config file, and opening the data directory's store.
#pragma once

#include "core/log.hpp"
#include "core/secret_box.hpp"
#include "net/address_policy.hpp"
#include "plugins/signing.hpp"
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

// What `serve` takes besides the common and trust options; other commands read the same config
// file and skip these there.
po::options_description serve_options();

// Parses args, then PSAHOST_* variables, then the config file, into one map (first one wins).
// The file is the host's: a command other than serve skips the serve options in it and refuses,
// naming it, a key no command knows.
po::variables_map parse(const std::string& command, const po::options_description& options,
                        const std::vector<std::string>& args,
                        const po::positional_options_description* positional = nullptr);

LogLevel log_level(const po::variables_map& vm);
// "HOST:PORT" (or "[v6]:PORT") for --listen.
std::pair<std::string, uint16_t> parse_listen(const std::string& value);
// Prints usage and the options, leaving out the ones filled from positional words ("action",
// "id", "manifest"), which the usage line already shows.
void print_help(const std::string& usage, const po::options_description& options);

// Whether a command may create the data directory: only the ones that set a host up (serve,
// tokens create, connections add, demo seed) do; the others refuse a path that holds no
// database, so a mistyped --data-dir is named instead of filled with a fresh host.
enum class DataDirUse { create, existing };

// Opens (migrating if needed) the store of --data-dir; with DataDirUse::create it also creates
// the directory and the database. Throws UsageError naming --data-dir when the database must
// exist and does not.
std::unique_ptr<store::Store> open_store(const po::variables_map& vm, Logger& log,
                                         DataDirUse use = DataDirUse::existing);
// The operator's outbound address policy (--allow-outbound-network CIDR,...); throws UsageError
// naming an entry that is not a range.
std::shared_ptr<const net::AddressPolicy> outbound_policy(const po::variables_map& vm);
// A private folder under the system's temporary directory (mode 0700), removed with everything
// in it when this goes; for commands that must stage files without touching --data-dir.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// "all", or plugin ids separated by commas, for an option that names plugins; throws
// UsageError naming option otherwise.
std::vector<std::string> parse_plugin_ids(const std::string& option, const std::string& value);

// --trusted-keys DIR (repeatable) and --allow-unsigned-plugins ID,...|all: every command that
// loads plugins takes them, so the CLI trusts exactly what serve would.
po::options_description trust_options();
// The trust those options describe: the keys of every --trusted-keys folder (default: the keys
// shipped beside this executable) and the unsigned plugins let in. Throws UsageError naming the
// option and the folder or file at fault.
plugins::TrustPolicy trust_policy(const po::variables_map& vm);

// The key that seals secrets at rest (--secret-key-file, or DATA_DIR/secret.key).
crypto::SecretBox open_secret_box(const po::variables_map& vm);

// The *.json manifests in --plugins-dir (repeatable; default: the bundled plugins), in name
// order, then those of the plugins installed in --data-dir (psahost plugins install). Throws
// UsageError naming a folder that does not exist.
std::vector<std::filesystem::path> manifest_files(const po::variables_map& vm);
// The same without the installed plugins.
std::vector<std::filesystem::path> plugin_dir_manifests(const po::variables_map& vm);

// The commands beyond serve/plugins/tokens, each in its own file.
int cmd_onboarding(const std::vector<std::string>& args);
int cmd_demo(const std::vector<std::string>& args);
int cmd_contracts(const std::vector<std::string>& args);
int cmd_connections(const std::vector<std::string>& args);
int cmd_numbering(const std::vector<std::string>& args);
int cmd_billing(const std::vector<std::string>& args);

}  // namespace psahost::cli
