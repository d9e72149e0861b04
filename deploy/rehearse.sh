#!/usr/bin/env bash
# Rehearses docs/deploy.md on one machine without touching it: a temporary folder stands in
# for /, nginx listens on 18443/18080 instead of 443/80, and each systemd unit's ExecStart runs
# by hand with the unit's environment (no systemd needed). It installs, checks the
# configuration, migrates, starts two `serve` and a `worker` behind nginx, restarts the servers
# one at a time while a client POSTs through nginx (and counts the answers), takes a backup,
# runs the restore drill and shows pg_dump's command line.
#
# Needs: nginx, openssl, curl, the PostgreSQL client tools, a PostgreSQL server reachable as an
# administrator with PGADMIN (default "-h 127.0.0.1 -U postgres") where the role `frontdesk`
# exists with the password FRONTDESK_PASSWORD (createuser --pwprompt frontdesk), and a built
# binary (FRONTDESK_BIN, default target/release/frontdesk). The databases `frontdesk` and
# `frontdesk_drill` there are dropped and created. NGINX_MAX_FAILS=1 tries nginx's default
# instead of the file's max_fails=0.
#
#   FRONTDESK_PASSWORD=… FRONTDESK_BIN=target/debug/frontdesk bash deploy/rehearse.sh
set -euo pipefail
WT=$(cd "$(dirname "$0")/.." && pwd)
BUILT=${FRONTDESK_BIN:-$WT/target/release/frontdesk}
PASSWORD=${FRONTDESK_PASSWORD:?set FRONTDESK_PASSWORD to the frontdesk role\'s password}
PGADMIN=${PGADMIN:--h 127.0.0.1 -U postgres}
WORK=$(mktemp -d)
R=$WORK/root
mkdir -p $R/usr/local/bin $R/etc/nginx $R/etc/ssl/frontdesk $R/log
cleanup() {
  [ -f $R/log/nginx.pid ] && kill -TERM "$(cat $R/log/nginx.pid)" 2>/dev/null || true
  for f in $R/log/*.pid; do [ -f "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null || true; done
  sleep 1
  rm -rf "$WORK"
}
trap cleanup EXIT
psql $PGADMIN -d postgres -qc "DROP DATABASE IF EXISTS frontdesk WITH (FORCE)" -c "DROP DATABASE IF EXISTS frontdesk_drill WITH (FORCE)"
createdb $PGADMIN --owner frontdesk frontdesk

echo "== install"
cd $WT
install -d -m 0700 $R/var/lib/frontdesk $R/var/backups/frontdesk
install -d -m 0750 $R/etc/frontdesk
install -m 0755 "$BUILT" $R/usr/local/bin/frontdesk
install -m 0640 config/production.example.toml $R/etc/frontdesk/frontdesk.toml
install -m 0640 deploy/secrets.env.example $R/etc/frontdesk/secrets.env
# The edits the page asks for (paths under the stand-in root; one client sends all traffic here).
sed -i 's#trusted_proxies = \["10.0.0.0/8"\]#trusted_proxies = ["127.0.0.1/32"]#; s#dir = "/var/backups/frontdesk"#dir = "'$R'/var/backups/frontdesk"#' $R/etc/frontdesk/frontdesk.toml
sed -i 's#dir = "/var/lib/frontdesk/uploads"#dir = "'$R'/var/lib/frontdesk/uploads"#' $R/etc/frontdesk/frontdesk.toml
printf '\n[limits]\npublic_per_minute = 100000\n' >> $R/etc/frontdesk/frontdesk.toml
sed -i "s#^FRONTDESK_DATABASE__URL=.*#FRONTDESK_DATABASE__URL=postgres://frontdesk:$PASSWORD@127.0.0.1:5432/frontdesk#; s#^FRONTDESK_MAIL__SMTP_URL=.*#FRONTDESK_MAIL__SMTP_URL=smtp://127.0.0.1:2525#; s#^FRONTDESK_SECURITY__SECRET_KEY=.*#FRONTDESK_SECURITY__SECRET_KEY=$(openssl rand -hex 32)#" $R/etc/frontdesk/secrets.env

BIN=$R/usr/local/bin/frontdesk
CONFIG="--config $R/etc/frontdesk/frontdesk.toml"
as_service() { sh -c "set -a; . $R/etc/frontdesk/secrets.env; set +a; cd $R/var/lib/frontdesk && $*"; }
# The same in the background, its pid in $R/log/$1.pid: sh execs into frontdesk, so the pid is the service's.
start() { local name=$1; shift; sh -c "set -a; . $R/etc/frontdesk/secrets.env; set +a; cd $R/var/lib/frontdesk && exec $*" >>$R/log/$name.log 2>&1 & echo $! > $R/log/$name.pid; }
echo "== check-config"; as_service "$BIN $CONFIG check-config" | grep -E "^url|secret_key|smtp_url|trusted_proxies"
echo "== pg_dump --version"; pg_dump --version
echo "== migrate"; as_service "$BIN $CONFIG migrate" 2>&1 | tail -1

serve() { start serve-$1 "env FRONTDESK_SERVER__BIND=127.0.0.1:$1 FRONTDESK_MAIL__WORKER_IN_SERVE=false $BIN $CONFIG serve --no-migrate"; }
ready() { for _ in $(seq 1 100); do curl -fsS http://127.0.0.1:$1/readyz >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "127.0.0.1:$1 not ready"; return 1; }
serve 8081; serve 8082
start worker "$BIN $CONFIG worker"
ready 8081; ready 8082
echo "== readyz"; curl -fsS http://127.0.0.1:8081/readyz; echo

echo "== nginx -t"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=frontdesk.example.org -keyout $R/etc/ssl/frontdesk/privkey.pem -out $R/etc/ssl/frontdesk/fullchain.pem 2>/dev/null
sed -e "s#listen 443#listen 18443#; s#listen 80;#listen 18080;#; s#/etc/ssl/frontdesk#$R/etc/ssl/frontdesk#g" deploy/nginx/frontdesk.conf > $R/etc/nginx/frontdesk.conf
if [ -n "${NGINX_MAX_FAILS:-}" ]; then sed -i "s#max_fails=0#max_fails=$NGINX_MAX_FAILS#" $R/etc/nginx/frontdesk.conf; fi
cat > $R/etc/nginx/nginx.conf <<NGINX
worker_processes 1;
pid $R/log/nginx.pid;
error_log $R/log/nginx-error.log;
events {}
http {
    access_log $R/log/nginx-access.log;
    client_body_temp_path $R/log/nginx-body;
    proxy_temp_path $R/log/nginx-proxy;
    include $R/etc/nginx/frontdesk.conf;
}
NGINX
nginx -t -c $R/etc/nginx/nginx.conf 2>&1
nginx -c $R/etc/nginx/nginx.conf
URL=https://frontdesk.example.org:18443
CURL="curl -sk --resolve frontdesk.example.org:18443:127.0.0.1"
echo "== through nginx"; $CURL $URL/readyz; echo

traffic() {
  local n=0
  while [ ! -f $R/log/stop ]; do
    n=$((n+1))
    $CURL -o /dev/null -w '%{http_code}\n' -H 'content-type: application/json' \
      -d "{\"article_url\":\"https://www.example.org/story/$n\",\"helpful\":true}" $URL/api/v1/feedback >> $R/log/codes
  done
}
traffic & tp=$!
sleep 1
echo "== rolling restart (SIGTERM, wait for exit, start, wait for /readyz)"
for port in 8081 8082; do
  pid=$(cat $R/log/serve-$port.pid)
  ps -o args= -p $pid | cut -c1-60
  kill -TERM $pid; while kill -0 $pid 2>/dev/null; do sleep 0.05; done
  serve $port
  until curl -fsS http://127.0.0.1:$port/readyz >/dev/null 2>&1; do sleep 0.1; done
  echo "restarted $port"
done
sleep 1; touch $R/log/stop; wait $tp
echo "== answers through nginx during the restart:"; sort $R/log/codes | uniq -c

echo "== backups"; ls $R/var/backups/frontdesk
as_service "$BIN $CONFIG backup --to $R/var/backups/frontdesk/before-upgrade-1" 2>&1 | tail -1
echo "== upgrade: migrate again"; as_service "$BIN $CONFIG migrate" 2>&1 | tail -1

latest=$(ls -d $R/var/backups/frontdesk/frontdesk-* | tail -1)
echo "== restore drill from $latest"
createdb $PGADMIN --owner frontdesk frontdesk_drill
as_service "FRONTDESK_DATABASE__URL=postgres://frontdesk:$PASSWORD@127.0.0.1:5432/frontdesk_drill FRONTDESK_UPLOADS__DIR=$WORK/drill-uploads $BIN $CONFIG restore --from $latest" 2>&1 | tail -1
start drill "env FRONTDESK_DATABASE__URL=postgres://frontdesk:$PASSWORD@127.0.0.1:5432/frontdesk_drill FRONTDESK_UPLOADS__DIR=$WORK/drill-uploads FRONTDESK_SERVER__BIND=127.0.0.1:8090 FRONTDESK_MAIL__WORKER_IN_SERVE=false $BIN $CONFIG serve --no-migrate"
ready 8090; curl -fsS http://127.0.0.1:8090/readyz; echo
kill -TERM "$(cat $R/log/drill.pid)"; while kill -0 "$(cat $R/log/drill.pid)" 2>/dev/null; do sleep 0.05; done
dropdb $PGADMIN frontdesk_drill
echo "== the password is on no command line: ps during a backup"
( as_service "$BIN $CONFIG backup --to $R/var/backups/frontdesk/ps-check" >/dev/null 2>&1 & ); for _ in $(seq 1 200); do ps -eo args | grep -q "[p]g_dump" && { ps -eo args | grep "[p]g_dump" | cut -c1-200; break; }; sleep 0.01; done
echo "== worker log"; grep -E "backup" $R/log/worker.log | cut -c1-200
