#!/usr/bin/env bash
# Runs psahost's benchmarks on loopback and prints figures beside the peer baselines.
#   bench/run.sh [healthz|admission|hook|bootstrap|time-approval|billing-run|ingest|outbound|all]
#                [SECONDS] [CONNECTIONS]
# Needs a Release build in build/ (tools/dev.sh bench does it), wrk and nginx.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${PSAHOST_BUILD_DIR:-$root/build}
peers=${PSAHOST_PEERS_DIR:-$root/../shared/bench/peers}
what=${1:-all}; secs=${2:-8}; conns=${3:-32}
psahost=$build/bin/psahost
INGEST_SERVE_ARGS=(${INGEST_SERVE_ARGS:-})
work=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# wrk's summary as "req/s N  p50 X  p99 Y  non2xx Z".
measure() { # URL [wrk args...]
  local url=$1; shift
  wrk -t1 -c"$conns" -d"${secs}s" --latency "$@" "$url" | awk '
    /Requests\/sec/{r=$2} /^ +50%/{p50=$2} /^ +99%/{p99=$2} /Non-2xx/{e=$NF}
    END{printf "req/s %s  p50 %s  p99 %s  non2xx %s\n", r, p50, p99, (e==""?0:e)}'
}
rate() { sed -E 's/^req\/s ([0-9.]+).*/\1/'; }
# CPU seconds (user + system) a process has used so far: per-request cost that does not depend on
# what else the machine is doing, unlike requests/s.
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$1/stat"; }

start_psahost() { # DATA_DIR PORT [args...]
  local data=$1 port=$2; shift 2
  "$psahost" serve --data-dir "$data" --listen "127.0.0.1:$port" --log-level warn "$@" \
    >"$work/psahost.out" 2>"$work/psahost.err" &
  for _ in $(seq 100); do [ -f "$data/run/address" ] && return 0; sleep 0.1; done
  echo "psahost did not start: $(cat "$work/psahost.err")" >&2; exit 1
}
stop_psahost() { kill -TERM "$1"; wait "$1" 2>/dev/null || true; }

bench_healthz() {
  echo "== GET /healthz over keep-alive HTTPS, ${conns} connections, ${secs}s (wrk -t1)"
  start_psahost "$work/healthz" 9701; local pid=$!
  sleep 1; local ours; ours=$(measure https://127.0.0.1:9701/healthz); stop_psahost $pid
  printf '%-16s %s\n' psahost "$ours"
  "$peers/nginx-204.sh" 9702 1 >/dev/null 2>&1 & local npid=$!
  sleep 1; local nginx; nginx=$(measure https://127.0.0.1:9702/); kill $npid; wait $npid 2>/dev/null || true
  printf '%-16s %s\n' nginx-204-w1 "$nginx"
  awk -v a="$(echo "$ours" | rate)" -v b="$(echo "$nginx" | rate)" \
    'BEGIN{printf "ratio psahost/nginx: %.2f\n", a/b}'
}

bench_admission() {
  echo "== POST /v1/admission (billing gate loaded), ${conns} connections, ${secs}s"
  local in_process; in_process=$(admission_run in_process)
  local process; process=$(admission_run process --isolate-plugins billing-gate)
  printf '%-26s %s\n' "psahost, gate in_process" "$in_process" "psahost, gate process" "$process"
  awk -v a="$(echo "$process" | rate)" -v b="$(echo "$in_process" | rate)" \
    'BEGIN{printf "ratio process/in_process: %.2f (goal >= 0.70)\n", a/b}'
}

admission_run() { # NAME [serve args...]
  local data=$work/admission-$1; shift
  # The per-tenant rate limit is the partner's protection, not what is measured here: off.
  start_psahost "$data" 9703 --rate-limit 0 "$@"; local pid=$!
  local token; token=$(grep -o 'psa_[A-Za-z0-9_-]*' "$work/psahost.out" | head -1)
  local api=(-sk -H "Authorization: Bearer $token" -H 'Content-Type: application/json')
  local client; client=$(curl "${api[@]}" -d '{"name":"Bench client"}' https://127.0.0.1:9703/v1/clients |
    sed -E 's/.*"id":"([^"]+)".*/\1/')
  curl "${api[@]}" -X PUT -o /dev/null https://127.0.0.1:9703/v1/clients/$client/billing-info -d \
    '{"business_name":"Bench BV","email":"b@bench.example","address":{"street":"Main","number":"1",
      "city":"Utrecht","zip":"3511AA","country":"NL"},"currency":"EUR","tax_rate":"21.00",
      "payment_terms_days":30,"invoice_delivery":"email"}'
  cat >"$work/admission.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
wrk.body = '{"uid":"bench","operation":"time_entry.approve","object":{"client_id":"$client","minutes":20}}'
LUA
  sleep 0.5
  measure https://127.0.0.1:9703/v1/admission -s "$work/admission.lua"
  stop_psahost $pid
}

bench_hook() {
  echo "== one admission.review hook call into the billing gate, in-process, process-isolated and remote"
  "$build/bin/psahost_bench_hook" "$build/bin/plugins" 200000 "$psahost"
}

bench_bootstrap() {
  echo "== bootstrap 10,000 clients x 5 services through the contract-bootstrap plugin (SQLite)"
  "$build/bin/psahost_bench_bootstrap" "$build/bin/plugins"
}

bench_time_approval() {
  echo "== bulk approval of 100,000 time entries across 1,000 clients (SQLite, in-process plugins)"
  "$build/bin/psahost_bench_time_approval" "$build/bin/plugins"
}

bench_ingest() {
  local c=${INGEST_CONNECTIONS:-64}
  echo "== durable inbound ingest: Standard-Webhooks-signed ~1 KiB POSTs, each verified and committed"
  echo "   before its 200, over keep-alive HTTPS, $c connections, ${secs}s (wrk -t1); peers in the same run"
  eval "$("$peers/sign-fixed.sh")"; export BODY WH_ID WH_TS WH_SIG
  local data=$work/ingest
  "$psahost" connections add --data-dir "$data" --tenant default --connector standard-webhooks \
    --name bench --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw >/dev/null
  printf '%s' "$BODY" >"$work/body.json"
  # A distinct id per request (more than the run can send): every one is a new inbox entry.
  "$build/bin/psahost_bench_sign" whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw "$WH_TS" \
    $((secs * 150000)) "$work/body.json" >"$work/signed.txt"
  export SIGNED=$work/signed.txt
  start_psahost "$data" 9704 "${INGEST_SERVE_ARGS[@]}"; local pid=$!
  sleep 1
  local cpu0; cpu0=$(cpu_seconds $pid)
  local ours; ours=$(conns=$c measure https://127.0.0.1:9704/webhooks/bench -s "$root/bench/ingest.lua")
  local cpu1; cpu1=$(cpu_seconds $pid)
  stop_psahost $pid
  printf '%-16s %s\n' psahost "$ours"
  awk -v a="$cpu0" -v b="$cpu1" -v r="$(echo "$ours" | rate)" -v s="$secs" \
    'BEGIN{printf "%-16s CPU %.1f us per request (user+system, all threads)\n", "", (b-a)*1e6/(r*s)}'
  "$peers/nginx-204.sh" 9705 1 >/dev/null 2>&1 & local npid=$!
  sleep 1
  local nginx; nginx=$(conns=$c measure https://127.0.0.1:9705/ -s "$peers/signed-post.lua")
  kill $npid; wait $npid 2>/dev/null || true
  printf '%-16s %s\n' nginx-204-w1 "$nginx"
  "$peers/make-cert.sh" /tmp/peer-bench-tls >/dev/null
  MODE=group node "$peers/node-verify.js" 9706 /tmp/peer-bench-tls & local gpid=$!
  sleep 1
  local node; node=$(conns=$c measure https://127.0.0.1:9706/ -s "$peers/signed-post.lua")
  kill $gpid; wait $gpid 2>/dev/null || true; rm -f /tmp/node-inbox-*.log
  printf '%-16s %s\n' node-group "$node"
  awk -v a="$(echo "$ours" | rate)" -v b="$(echo "$nginx" | rate)" -v n="$(echo "$node" | rate)" \
    'BEGIN{printf "ratio psahost/nginx: %.2f (goal 0.50)   psahost/node-group: %.1f (goal 5)\n", a/b, a/n}'
}

bench_outbound() {
  echo "== outbound deliveries: events fanned out, signed, sent over reused HTTPS and recorded"
  "$peers/make-cert.sh" /tmp/peer-bench-tls >/dev/null
  "$build/bin/psahost_bench_outbound" "$peers/node-verify.js" /tmp/peer-bench-tls "${OUTBOUND_EVENTS:-20000}"
}

bench_billing_run() {
  echo "== billing run: 10,000 clients, 50,000 contract parts, 500,000 approved time entries (SQLite)"
  "$build/bin/psahost_bench_billing_run" "$build/bin/plugins"
}

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
echo "machine: $(nproc) cores, $(uname -r); psahost $("$psahost" version)"
case "$what" in
  healthz) bench_healthz ;;
  admission) bench_admission ;;
  hook) bench_hook ;;
  bootstrap) bench_bootstrap ;;
  time-approval) bench_time_approval ;;
  billing-run) bench_billing_run ;;
  ingest) bench_ingest ;;
  outbound) bench_outbound ;;
  all) bench_healthz; echo; bench_admission; echo; bench_hook; echo; bench_bootstrap; echo
       bench_time_approval; echo; bench_billing_run; echo; bench_ingest; echo; bench_outbound ;;
  *) echo "unknown benchmark '$what': healthz, admission, hook, bootstrap, time-approval, billing-run, ingest, outbound or all" >&2; exit 2 ;;
esac
