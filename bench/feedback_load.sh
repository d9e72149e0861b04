#!/usr/bin/env bash
# The feedback write path under load: POST /api/v1/feedback on SQLite (synchronous=FULL, every
# 2xx vote committed before the answer) against actix-web's hello world, same machine, same run.
#
#   bench/feedback_load.sh            # wrk -t2 -c32 -d10s --latency against both
#   DURATION=30s CONNECTIONS=64 bench/feedback_load.sh
#
# Builds release binaries (frontdesk and the `hello` example), starts both on loopback with a
# fresh SQLite database and file mail in a temp folder, limits off, then runs wrk. See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-32}"
DURATION="${DURATION:-10s}"
FD_ADDR="127.0.0.1:18080"
HELLO_ADDR="127.0.0.1:18081"

if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk"
  apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; }
fi

# FRONTDESK_BIN: a frontdesk binary built beforehand (e.g. with an experiment patch from
# bench/experiments/ applied); without it the script builds the release binary itself.
if [ -n "${FRONTDESK_BIN:-}" ]; then
  cargo build --release --example hello
else
  cargo build --release --bin frontdesk --example hello
  FRONTDESK_BIN=target/release/frontdesk
fi

tmp="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

target/release/examples/hello "$HELLO_ADDR" &
pids+=($!)

FRONTDESK_SERVER__BIND="$FD_ADDR" \
FRONTDESK_DATABASE__URL="sqlite://$tmp/frontdesk.db" \
FRONTDESK_MAIL__TRANSPORT=file \
FRONTDESK_MAIL__FILE_DIR="$tmp/mail" \
FRONTDESK_LIMITS__ENABLED=false \
  "$FRONTDESK_BIN" serve >"$tmp/frontdesk.log" 2>&1 &
pids+=($!)

for _ in $(seq 1 100); do
  if curl -fsS "http://$FD_ADDR/healthz" >/dev/null 2>&1 && curl -fsS "http://$HELLO_ADDR/" >/dev/null 2>&1; then
    break
  fi
  sleep 0.1
done
curl -fsS "http://$FD_ADDR/healthz" >/dev/null

echo "== warm-up (2 s each)"
wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "http://$HELLO_ADDR/" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -s bench/feedback.lua "http://$FD_ADDR" >/dev/null

echo "== actix-web hello world: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency http://$HELLO_ADDR/"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "http://$HELLO_ADDR/" | tee "$tmp/hello.txt"

echo "== frontdesk POST /api/v1/feedback: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency -s bench/feedback.lua http://$FD_ADDR"
curl -fsS "http://$FD_ADDR/metrics" >"$tmp/metrics-before.txt"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/feedback.lua "http://$FD_ADDR" | tee "$tmp/feedback.txt"
curl -fsS "http://$FD_ADDR/metrics" >"$tmp/metrics-after.txt"

rps() { awk '/^Requests\/sec/ {print $2}' "$1"; }
p99() { awk '$1 == "99%" {print $2}' "$1"; }
hello_rps="$(rps "$tmp/hello.txt")"
feedback_rps="$(rps "$tmp/feedback.txt")"
echo
echo "== summary ($(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ))"
printf '%-32s %12s %10s\n' "target" "requests/s" "p99"
printf '%-32s %12s %10s\n' "actix-web hello world" "$hello_rps" "$(p99 "$tmp/hello.txt")"
printf '%-32s %12s %10s\n' "POST /api/v1/feedback (SQLite)" "$feedback_rps" "$(p99 "$tmp/feedback.txt")"
awk -v f="$feedback_rps" -v h="$hello_rps" 'BEGIN { printf "feedback / hello world: %.1f %%\n", 100 * f / h }'
# Frontdesk's own view of the timed run: its request-duration histogram for the route (from
# routing to the response, without the time a request waits in the socket for a worker or
# wrk waits for a core), differenced against the histogram before the run.
awk '
  /^frontdesk_http_request_duration_seconds_bucket/ && /route="\/api\/v1\/feedback"/ && /method="POST"/ {
    match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5)
    if (FILENAME ~ /before/) { before[le] = $NF } else { after[le] = $NF; order[++n] = le }
  }
  END {
    total = after["+Inf"] - before["+Inf"]
    if (total <= 0) exit
    printf "frontdesk-side duration of the timed run'"'"'s votes (%d requests):", total
    for (i = 1; i <= n; i++) {
      le = order[i]
      if (le == "+Inf") continue
      share = (after[le] - before[le]) / total
      if (le + 0 >= 0.001 && le + 0 <= 0.016) printf " <=%gms %.2f%%", le * 1000, 100 * share
      if (!p99 && share >= 0.99) p99 = le
    }
    printf "\n  p99 at most %g ms (histogram bucket)\n", p99 * 1000
  }' "$tmp/metrics-before.txt" "$tmp/metrics-after.txt"
if command -v sqlite3 >/dev/null 2>&1; then
  echo "vote rows stored: $(sqlite3 "$tmp/frontdesk.db" 'SELECT count(*) FROM feedback_votes')"
  # The append-ceiling experiment (bench/experiments/) writes its votes to vote_log instead.
  if [ -n "$(sqlite3 "$tmp/frontdesk.db" "SELECT name FROM sqlite_master WHERE name = 'vote_log'")" ]; then
    echo "vote_log rows (append-ceiling experiment): $(sqlite3 "$tmp/frontdesk.db" 'SELECT count(*) FROM vote_log')"
  fi
fi
if grep -qiE "error|warn" "$tmp/frontdesk.log"; then
  echo "== frontdesk warnings/errors:"; grep -iE "error|warn" "$tmp/frontdesk.log" | head -20
fi
