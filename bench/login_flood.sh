#!/usr/bin/env bash
# Login-flood benchmark: /healthz throughput alone, then while 16 connections hammer
# /staff/login with well-formed sign-in attempts (matching form cookie and token, unknown
# emails: every attempt costs an argon2id verification). Rate limits are off, as for an
# attacker spread over many addresses; what protects /healthz is the bounded hashing pool.
#
#   bash bench/login_flood.sh            # needs wrk (apt-get install wrk)
#   DURATION=20s bash bench/login_flood.sh
#
# Prints both figures and their ratio (target: loaded >= 25% of unloaded).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 1; }
DURATION="${DURATION:-10s}"
# FRONTDESK_BIN=path skips the build and uses that binary.
if [ -z "${FRONTDESK_BIN:-}" ]; then cargo build --release --quiet; fi
BIN="${FRONTDESK_BIN:-target/release/frontdesk}"
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export FRONTDESK_DATABASE__URL="sqlite://$WORK/bench.db"
export FRONTDESK_MAIL__FILE_DIR="$WORK/mail"
export FRONTDESK_SERVER__BIND="127.0.0.1:$PORT"
export FRONTDESK_LIMITS__ENABLED=false
export FRONTDESK_LOG__LEVEL=warn
echo "correct horse battery staple kiln" | $BIN staff add --email admin@bench.example.org --name Admin --role admin --password-stdin >/dev/null
$BIN serve >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done

cat >"$WORK/login.lua" <<'LUA'
counter = 0
request = function()
  counter = counter + 1
  local body = "email=nobody" .. counter .. "%40bench.example.org&password=wrong-password-" .. counter .. "&csrf_token=flood"
  return wrk.format("POST", "/staff/login", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "fd_form=flood"
  }, body)
end
LUA

rps() { awk '/Requests\/sec/ {print $2}'; }
echo "== /healthz alone (2 threads, 16 connections, $DURATION)"
UNLOADED=$(wrk -t2 -c16 -d"$DURATION" "http://127.0.0.1:$PORT/healthz" | tee /dev/stderr | rps)
echo "== /staff/login flood (16 connections) + /healthz"
wrk -t1 -c16 -d"$DURATION" -s "$WORK/login.lua" "http://127.0.0.1:$PORT" >"$WORK/flood.txt" &
FLOOD=$!
sleep 1
LOADED=$(wrk -t2 -c16 -d"$DURATION" "http://127.0.0.1:$PORT/healthz" | tee /dev/stderr | rps)
wait $FLOOD
echo "== the flood itself"; cat "$WORK/flood.txt"
python3 - "$UNLOADED" "$LOADED" <<'PY'
import sys
u, l = float(sys.argv[1]), float(sys.argv[2])
print(f"login_flood healthz_unloaded={u:.0f} req/s healthz_during_flood={l:.0f} req/s ratio={100*l/u:.0f}% (target >= 25%)")
PY
