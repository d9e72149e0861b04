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

cargo build --release --bin frontdesk --example hello

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
  target/release/frontdesk serve >"$tmp/frontdesk.log" 2>&1 &
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
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/feedback.lua "http://$FD_ADDR" | tee "$tmp/feedback.txt"

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
if command -v sqlite3 >/dev/null 2>&1; then
  echo "vote rows stored: $(sqlite3 "$tmp/frontdesk.db" 'SELECT count(*) FROM feedback_votes')"
fi
if grep -qiE "error|warn" "$tmp/frontdesk.log"; then
  echo "== frontdesk warnings/errors:"; grep -iE "error|warn" "$tmp/frontdesk.log" | head -20
fi
