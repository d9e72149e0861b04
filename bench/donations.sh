#!/usr/bin/env bash
# Load run of the donation creation endpoint: POST /api/v1/donations with the manual provider,
# so each request validates the gift, stores it and queues its pledge email in one transaction.
#
#   bench/donations.sh                      # SQLite in a temp folder
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/frontdesk_bench bench/donations.sh
#
# Needs wrk. Rate limits are off (limits.enabled = false) and the mail worker does not run in
# the server (mail.worker_in_serve = false): the figure is the creation path alone.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
PORT=${PORT:-18080}
work=$(mktemp -d)
DATABASE_URL=${DATABASE_URL:-sqlite://$work/bench.db}

cargo build --release --quiet
FRONTDESK_ENV=bench \
FRONTDESK_SERVER__BIND=127.0.0.1:$PORT \
FRONTDESK_DATABASE__URL=$DATABASE_URL \
FRONTDESK_DATABASE__SQLITE_SYNCHRONOUS=normal \
FRONTDESK_LIMITS__ENABLED=false \
FRONTDESK_MAIL__TRANSPORT=file \
FRONTDESK_MAIL__FILE_DIR=$work/mail \
FRONTDESK_MAIL__WORKER_IN_SERVE=false \
FRONTDESK_LOG__LEVEL=warn \
  target/release/frontdesk serve &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"' EXIT

for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  sleep 0.1
done

# Warm up, then measure.
wrk -t1 -c2 -d2s -s bench/donations.lua "http://127.0.0.1:$PORT/api/v1/donations" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/donations.lua \
  "http://127.0.0.1:$PORT/api/v1/donations"
