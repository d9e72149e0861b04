#!/usr/bin/env bash
# The staff dashboard and search on large tables: 1,000,000 votes, 100,000 subscribers and
# 50,000 donations (each with its payment), plus 20,000 comments, on SQLite and on PostgreSQL.
#
#   bench/staff_dashboard.sh                      # both backends, 200 requests per endpoint
#   BACKENDS=sqlite REQUESTS=50 bench/staff_dashboard.sh
#   FRONTDESK_BIN=target/release/frontdesk bench/staff_dashboard.sh   # skip the build
#
# Starts the release binary on a fresh database (PostgreSQL: database `frontdesk_bench` on
# 127.0.0.1:5432, user postgres, dropped and made again), seeds the rows with SQL (far faster
# than through the API; the shapes are what the API stores), makes an admin token with the
# command line, then times sequential GETs of /api/v1/staff/dashboard (every panel: the admin
# sees all) and of /api/v1/staff/search for a donor, a subscriber and a word, and prints p50,
# p95 and max per endpoint. Target: p95 within 200 ms. See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

BACKENDS="${BACKENDS:-sqlite postgres}"
REQUESTS="${REQUESTS:-200}"
VOTES="${VOTES:-1000000}"
SUBSCRIBERS="${SUBSCRIBERS:-100000}"
DONATIONS="${DONATIONS:-50000}"
COMMENTS="${COMMENTS:-20000}"
ADDR="127.0.0.1:18090"
PG_SERVER="${PG_SERVER:-postgres://postgres@127.0.0.1:5432}"

command -v sqlite3 >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq sqlite3; }
if [ -z "${FRONTDESK_BIN:-}" ]; then
  cargo build --release --locked --bin frontdesk
  FRONTDESK_BIN=target/release/frontdesk
fi

tmp="$(mktemp -d)"
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# The seed, in SQL both backends read: a recursive counter, timestamps spread over a year.
seed_sql() {
  local bool_true="$1" bool_false="$2" ago="$3"
  cat <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $VOTES)
INSERT INTO feedback_votes (id, article_url, voter, helpful, reason, created_at, updated_at)
SELECT 'vote-' || i, 'https://example.org/story-' || (i % 2000), 'voter-' || i,
       CASE WHEN i % 3 = 0 THEN $bool_false ELSE $bool_true END,
       CASE WHEN i % 3 = 0 THEN 'outdated' END,
       $(printf "$ago" "(i % 525600)"), $(printf "$ago" "(i % 525600)")
FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $SUBSCRIBERS)
INSERT INTO newsletter_subscribers (id, email, name, status, source, created_at, updated_at,
    confirmed_at)
SELECT 'sub-' || i, 'reader' || i || '@example.org', 'Reader ' || i,
       CASE WHEN i % 10 = 0 THEN 'unsubscribed' WHEN i % 17 = 0 THEN 'pending' ELSE 'confirmed' END,
       'form', $(printf "$ago" "(i * 5 % 525600)"), $(printf "$ago" "(i * 5 % 525600)"),
       $(printf "$ago" "(i * 5 % 525600)")
FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $DONATIONS)
INSERT INTO donations (id, status, provider, frequency, recurring_status, amount_minor,
    fee_minor, total_minor, currency, email, email_normalized, name, anonymous,
    newsletter_opt_in, source_url, campaign, created_at, updated_at)
SELECT 'don-' || i, 'paid', 'stripe',
       CASE WHEN i % 4 = 0 THEN 'monthly' ELSE 'one_time' END,
       CASE WHEN i % 4 = 0 THEN 'active' END,
       1000 + (i % 50) * 100, 0, 1000 + (i % 50) * 100, 'USD',
       'donor' || (i % 20000) || '@example.org', 'donor' || (i % 20000) || '@example.org',
       'Donor ' || (i % 20000), $bool_false, $bool_false,
       'https://example.org/story-' || (i % 2000), 'campaign-' || (i % 12),
       $(printf "$ago" "(i * 10 % 525600)"), $(printf "$ago" "(i * 10 % 525600)")
FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $COMMENTS)
INSERT INTO comments (id, reference, name, email, subject, message, message_hash, article_url,
    status, spam_verdict, spam_score, spam_signals, ip_hash, sensitive, created_at, updated_at,
    confidential, kept)
SELECT 'com-' || i, 'C-' || i, 'Writer ' || i, 'writer' || i || '@example.org', 'About story ' || i,
       'A reader writes about story ' || (i % 2000) || CASE WHEN i % 50 = 0 THEN ': the figures look outdated' ELSE '.' END,
       'hash-' || i, 'https://example.org/story-' || (i % 2000),
       CASE WHEN i % 5 = 0 THEN 'new' ELSE 'replied' END, 'ham', 0, '[]', 'ip-' || i, $bool_false,
       $(printf "$ago" "(i * 20 % 525600)"), $(printf "$ago" "(i * 20 % 525600)"), $bool_false, $bool_false
FROM n;
INSERT INTO donation_payments (id, donation_id, receipt_number, provider_ref, status,
    amount_minor, refunded_minor, currency, paid_at, created_at, method)
SELECT 'pay-' || id, id, 'BENCH-' || id, 'bench:' || id, 'paid', total_minor, 0, currency,
       created_at, created_at, 'card'
FROM donations;
SQL
}

# Sequential GETs of each path; prints p50 / p95 / max in ms.
measure() {
  local label="$1" token="$2"
  python3 - "$ADDR" "$token" "$REQUESTS" "$label" <<'PY'
import sys, time, urllib.request
addr, token, n, label = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
paths = {
    "dashboard": "/api/v1/staff/dashboard",
    "search: a donor's address": "/api/v1/staff/search?q=donor42%40example.org",
    "search: part of a name": "/api/v1/staff/search?q=reader99",
    "search: a word": "/api/v1/staff/search?q=outdated",
}
for name, path in paths.items():
    times = []
    for _ in range(n):
        req = urllib.request.Request(f"http://{addr}{path}", headers={"Authorization": f"Bearer {token}"})
        t = time.perf_counter()
        with urllib.request.urlopen(req) as r:
            body = r.read()
            assert r.status == 200, r.status
            if name.startswith("search"):
                import json
                assert json.loads(body)["hits"], (name, body[:200])
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    p = lambda q: times[min(len(times) - 1, int(q * len(times)))]
    print(f"{label:10} {name:28} p50 {p(0.5):7.1f} ms  p95 {p(0.95):7.1f} ms  max {times[-1]:7.1f} ms")
PY
}

for backend in $BACKENDS; do
  if [ "$backend" = sqlite ]; then
    url="sqlite://$tmp/bench.db"
  else
    psql "$PG_SERVER/postgres" -qc "DROP DATABASE IF EXISTS frontdesk_bench" -c "CREATE DATABASE frontdesk_bench" >/dev/null
    url="$PG_SERVER/frontdesk_bench"
  fi
  export FRONTDESK_DATABASE__URL="$url" FRONTDESK_SERVER__BIND="$ADDR" \
    FRONTDESK_MAIL__TRANSPORT=file FRONTDESK_MAIL__FILE_DIR="$tmp/mail" FRONTDESK_LIMITS__ENABLED=false
  "$FRONTDESK_BIN" migrate >"$tmp/migrate.log" 2>&1
  echo "seeding $backend: $VOTES votes, $SUBSCRIBERS subscribers, $DONATIONS donations, $COMMENTS comments"
  start=$(date +%s)
  if [ "$backend" = sqlite ]; then
    seed_sql 1 0 "strftime('%%Y-%%m-%%d %%H:%%M:%%S', 'now', '-' || %s || ' minutes')" | sqlite3 "$tmp/bench.db"
    sqlite3 "$tmp/bench.db" "ANALYZE;"
  else
    seed_sql true false "(now() at time zone 'utc' - make_interval(mins => %s))" | psql -q "$url" >/dev/null
    psql -q "$url" -c "ANALYZE" >/dev/null
  fi
  echo "seeded in $(( $(date +%s) - start )) s"
  printf 'a-long-enough-password\n' | "$FRONTDESK_BIN" staff add --email bench@example.org \
    --name Bench --role admin --password-stdin >/dev/null
  token="$("$FRONTDESK_BIN" staff token --email bench@example.org)"
  "$FRONTDESK_BIN" serve >"$tmp/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -fsS "http://$ADDR/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  measure "$backend" "$token"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  rm -f "$tmp"/bench.db*
done
