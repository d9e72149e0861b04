#!/usr/bin/env bash
# Times `frontdesk backup` and `frontdesk restore` of a database holding SUBSCRIBERS newsletter
# subscribers (default 100,000, each with a list membership and a consent record), on SQLite,
# and on PostgreSQL too when BENCH_POSTGRES_URL names a server (a database is created there
# and dropped afterwards). The rows are seeded in SQL (sqlite3 / psql), not through the API.
#
#   bash bench/backup.sh
#   BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres bash bench/backup.sh
#   FRONTDESK_BIN=target/release/frontdesk bash bench/backup.sh   # skip the build
set -euo pipefail

subscribers=${SUBSCRIBERS:-100000}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${FRONTDESK_BIN:-}
if [[ -z "$bin" ]]; then
  (cd "$root" && cargo build --release --quiet)
  bin="$root/target/release/frontdesk"
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
work=$(mktemp -d)
pg_databases=()
cleanup() {
  for db in "${pg_databases[@]}"; do
    psql "$BENCH_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
unset FRONTDESK_ENV RUST_LOG
export FRONTDESK_LOG__LEVEL=warn

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# The subscribers, their memberships and consents, as one SQL script for either backend
# ($1: a row-number source of $subscribers rows named n(i)).
seed_sql() {
  cat <<SQL
INSERT INTO newsletter_lists (id, slug, name, description, is_public, created_at)
VALUES ('bench-list', 'bench', 'Bench', '', TRUE, CURRENT_TIMESTAMP);
INSERT INTO newsletter_subscribers (id, email, name, status, source, created_at, updated_at, confirmed_at)
SELECT 'sub-' || i, 'reader' || i || '@example.org', 'Reader ' || i, 'confirmed', 'form',
       CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM $1;
INSERT INTO newsletter_memberships (subscriber_id, list_id, status, updated_at)
SELECT 'sub-' || i, 'bench-list', 'confirmed', CURRENT_TIMESTAMP FROM $1;
INSERT INTO newsletter_consents (id, subscriber_id, kind, recorded_at, source_url, wording_version)
SELECT 'consent-' || i, 'sub-' || i, 'confirmed', CURRENT_TIMESTAMP, 'https://news.example.org/', '1' FROM $1;
SQL
}

# One CV-sized upload, so the uploads side is exercised too.
uploads() {
  mkdir -p "$1/cvs"
  head -c 200000 /dev/urandom >"$1/cvs/bench-cv"
}

run_backend() {
  local name=$1 source_url=$2 target_url=$3 seed=$4
  export FRONTDESK_DATABASE__URL=$source_url FRONTDESK_UPLOADS__DIR=$work/$name-uploads
  "$bin" migrate
  uploads "$FRONTDESK_UPLOADS__DIR"
  local t0 t1 t2 t3
  t0=$(now)
  $seed
  t1=$(now)
  "$bin" backup --to "$work/$name-backup"
  t2=$(now)
  export FRONTDESK_DATABASE__URL=$target_url FRONTDESK_UPLOADS__DIR=$work/$name-restored-uploads
  "$bin" restore --from "$work/$name-backup"
  t3=$(now)
  local size
  size=$(du -sh "$work/$name-backup" | cut -f1)
  echo "$name: seeded $subscribers subscribers in $(elapsed "$t0" "$t1") s; backup $(elapsed "$t1" "$t2") s ($size); restore $(elapsed "$t2" "$t3") s"
}

seed_sqlite() {
  { echo "BEGIN;"; seed_sql "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $subscribers) SELECT i FROM n) AS n"; echo "COMMIT;"; } \
    | sqlite3 "$work/source.db"
}
run_backend sqlite "sqlite://$work/source.db" "sqlite://$work/restored.db" seed_sqlite

if [[ -n "${BENCH_POSTGRES_URL:-}" ]]; then
  suffix=$$
  source_db=frontdesk_bench_source_$suffix
  target_db=frontdesk_bench_restored_$suffix
  pg_databases=("$source_db" "$target_db")
  psql "$BENCH_POSTGRES_URL" -qc "CREATE DATABASE $source_db" -c "CREATE DATABASE $target_db"
  base=${BENCH_POSTGRES_URL%/*}
  seed_postgres() {
    { echo "BEGIN;"; seed_sql "generate_series(1, $subscribers) AS n(i)"; echo "COMMIT;"; } \
      | psql -q "$base/$source_db" >/dev/null
  }
  run_backend postgres "$base/$source_db" "$base/$target_db" seed_postgres
fi
