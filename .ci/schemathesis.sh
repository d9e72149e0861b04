#!/usr/bin/env bash
# Checks the running service against its own OpenAPI document with Schemathesis: every phase
# (examples, coverage, fuzzing, stateful) and every check, zero failures allowed.
#
#   .ci/schemathesis.sh [path/to/frontdesk]      (default: target/debug/frontdesk)
#
# Starts the given binary on a free loopback port with a fresh SQLite database in a temporary
# folder, makes an admin account and an API token with the binary's own commands, runs
# Schemathesis (installed from PyPI into a virtualenv under ~/.cache on first use, pinned
# below) with `.ci/schemathesis.toml`, then stops the server. Extra arguments after `--` go to
# `schemathesis run` (e.g. `-- --max-examples 5` for a quick look, `-- --seed 7`).
# Docs: docs/api.md.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION="4.32.5"
bin="target/debug/frontdesk"
if [ $# -gt 0 ] && [ "$1" != "--" ]; then bin="$1"; shift; fi
[ "${1:-}" = "--" ] && shift
[ -x "$bin" ] || { echo "no frontdesk binary at $bin (build it first: cargo build)" >&2; exit 2; }
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"

venv="${XDG_CACHE_HOME:-$HOME/.cache}/frontdesk/schemathesis-$SCHEMATHESIS_VERSION"
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  echo "installing Schemathesis $SCHEMATHESIS_VERSION into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
export FRONTDESK_ENV=schemathesis # no config/schemathesis.toml: built-in defaults and these variables
export FRONTDESK_DATABASE__URL="sqlite://$work/frontdesk.db"
export FRONTDESK_SERVER__BIND="127.0.0.1:$port"
export FRONTDESK_SERVER__PUBLIC_URL="$base"
export FRONTDESK_MAIL__TRANSPORT=file
export FRONTDESK_MAIL__FILE_DIR="$work/mail"
export FRONTDESK_UPLOADS__DIR="$work/uploads"
export FRONTDESK_LOG__LEVEL=error
# Thousands of requests from one address in a few minutes: the per-IP budgets would answer
# 429 (documented, but it would hide every other answer). Their own tests are in tests/api/limits.rs.
export FRONTDESK_LIMITS__ENABLED=false

"$bin" migrate >/dev/null
printf 'schemathesis-admin-passphrase-%s\n' "$port" |
  "$bin" staff add --email schemathesis@example.org --name Schemathesis --role admin --password-stdin >/dev/null
token="$("$bin" staff token --email schemathesis@example.org --label schemathesis | grep -o 'fd_[A-Za-z0-9_-]*' | head -n1)"
[ -n "$token" ] || { echo "could not make an API token" >&2; exit 1; }

"$bin" serve --no-migrate >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done

status=0
"$venv/bin/schemathesis" --config-file .ci/schemathesis.toml run "$base/api/v1/openapi.json" \
  --header "Authorization: Bearer $token" "$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- server log (last 50 lines) ---"
  tail -n 50 "$work/server.log"
fi
exit "$status"
