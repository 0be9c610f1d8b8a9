#!/usr/bin/env bash
# The project's one entry point for people and CI:
#   tools/dev.sh run [serve options]   install what is missing, build (Release), serve
#   tools/dev.sh test [--quick|--sanitize]
#                                      install what is missing, build, check format, run ctest,
#                                      then the suite again under ASan+UBSan (own build folder);
#                                      --quick: the first run only; --sanitize: the second only
#   tools/dev.sh bench [name]          build and run the benchmarks in bench/ (prints figures)
#   tools/dev.sh deps                  only install the missing system packages
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${PSAHOST_BUILD_DIR:-$root/build}
jobs=$(nproc)

packages=(g++ cmake ninja-build pkg-config openssl
  libboost1.81-dev libboost-filesystem1.81-dev libboost-url1.81-dev libboost-program-options1.81-dev
  libjsoncpp-dev libssl-dev libsqlite3-dev libpq-dev zlib1g-dev catch2)
test_packages=(clang-format python3-jsonschema)
bench_packages=(wrk nginx-light)

install_missing() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> installing missing packages: ${missing[*]}"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

configure_and_build() {
  if [ ! -f "$build/build.ninja" ]; then
    # ccache, where a developer has it, lets several work trees share one compiler cache.
    local launcher=()
    command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}"
  fi
  cmake --build "$build" -j "$jobs"
}

# The independent Standard Webhooks signer/verifier the webhook tests check us against, from the
# npm registry, pinned; installed once into the build folder.
install_npm_packages() {
  local dir="$build/npm"
  [ -f "$dir/node_modules/standardwebhooks/package.json" ] && return 0
  # Debian's npm depends on Debian's nodejs; a machine with another Node.js (NodeSource's ships
  # npm inside) needs nothing from apt.
  command -v node >/dev/null || install_missing nodejs
  command -v npm >/dev/null || install_missing npm
  echo "==> npm install standardwebhooks (into $dir)"
  mkdir -p "$dir"
  npm install --silent --no-audit --no-fund --prefix "$dir" standardwebhooks@1.1.1
}

# The console's browser test (tests/ui/): Debian's chromium, and puppeteer-core and axe-core from
# npm at the versions tests/ui/package.json pins, installed once into the build folder.
install_ui_test_packages() {
  install_missing chromium fonts-dejavu-core
  local dir="$build/ui-npm"
  cmp -s "$root/tests/ui/package.json" "$dir/package.json" &&
    [ -f "$dir/node_modules/puppeteer-core/package.json" ] && return 0
  command -v node >/dev/null || install_missing nodejs
  command -v npm >/dev/null || install_missing npm
  echo "==> npm install puppeteer-core axe-core (into $dir)"
  mkdir -p "$dir"
  cp "$root/tests/ui/package.json" "$dir/package.json"
  (cd "$dir" && PUPPETEER_SKIP_DOWNLOAD=1 npm install --silent --no-audit --no-fund)
}

# Where `run` serves the partner's console: the --listen address (or PSAHOST_LISTEN) plus /ui/.
console_url() {
  local listen=${PSAHOST_LISTEN:-127.0.0.1:8443}
  while [ $# -gt 0 ]; do
    case "$1" in
      --listen) listen=${2:-$listen}; shift ;;
      --listen=*) listen=${1#--listen=} ;;
    esac
    shift
  done
  echo "==> the console: https://$listen/ui/ (sign in with an API token; the first start prints one)"
}

check_format() {
  local files
  files=$(cd "$root" && git ls-files '*.cpp' '*.hpp' '*.h' 2>/dev/null || true)
  [ -z "$files" ] && files=$(cd "$root" && find host sdk plugins connectors tests bench \
    \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' \) 2>/dev/null)
  echo "==> clang-format check"
  (cd "$root" && echo "$files" | xargs clang-format --dry-run -Werror)
}

# The whole suite built with AddressSanitizer and UndefinedBehaviorSanitizer, in a build folder
# of its own (PSAHOST_SANITIZE_BUILD_DIR, default build-sanitize) so it never mixes with the
# plain build. Any report fails the run: UBSan halts, ASan aborts; psahost children inherit it.
sanitize_tests() {
  local sbuild=${PSAHOST_SANITIZE_BUILD_DIR:-$root/build-sanitize}
  if [ ! -f "$sbuild/build.ninja" ]; then
    local launcher=()
    command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    # -O1 -g1: what the sanitizers need for their reports (line tables), at half the compile
    # time of -O2 -g; no benchmarks, which the suite does not run.
    cmake -S "$root" -B "$sbuild" -G Ninja -DCMAKE_BUILD_TYPE=Sanitize \
      -DCMAKE_CXX_FLAGS_SANITIZE="-O1 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_SANITIZE="-O1 -g1 -DNDEBUG" \
      -DPSAHOST_SANITIZE=ON -DPSAHOST_BUILD_BENCH=OFF "${launcher[@]}"
  fi
  echo "==> build with ASan+UBSan ($sbuild)"
  # Debug info makes ccache hash the build folder; without that, checkouts share the cache.
  CCACHE_NOHASHDIR=1 cmake --build "$sbuild" -j "$jobs"
  [ -d "$build/npm" ] && [ ! -e "$sbuild/npm" ] && ln -s "$build/npm" "$sbuild/npm"
  [ -d "$build/ui-npm" ] && [ ! -e "$sbuild/ui-npm" ] && ln -s "$build/ui-npm" "$sbuild/ui-npm"
  echo "==> ctest under ASan+UBSan"
  (cd "$sbuild" &&
    ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    ctest --output-on-failure -j "$jobs" --timeout 600)
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  deps)
    install_missing "${packages[@]}" "${test_packages[@]}" ;;
  run)
    install_missing "${packages[@]}"
    configure_and_build
    console_url "$@"
    exec "$build/bin/psahost" serve "$@" ;;
  test)
    install_missing "${packages[@]}" "${test_packages[@]}"
    if [ "${1:-}" = "--sanitize" ]; then
      install_npm_packages
      sanitize_tests
      exit 0
    fi
    configure_and_build
    install_npm_packages
    install_ui_test_packages
    check_format
    echo "==> ctest"
    (cd "$build" && ctest --output-on-failure -j "$jobs" --timeout 300)
    # CI runs this command: the sanitizers are part of it.
    [ "${1:-}" = "--quick" ] || sanitize_tests ;;
  bench)
    install_missing "${packages[@]}" "${bench_packages[@]}"
    configure_and_build
    exec "$root/bench/run.sh" "$@" ;;
  *)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    exit 2 ;;
esac
