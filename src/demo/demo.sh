#!/usr/bin/env bash
# The dify-dr demo, end to end on this machine: a throwaway PostgreSQL with Dify-shaped data (Dify's real schema,
# synthetic rows, a plugin database), a throwaway Redis with Dify-shaped keys (sessions with TTLs, a Celery broker) and
# an app storage directory holding every tenant's private key; `dify-dr backup` of all three to ./demo-repo,
# `verify --read-data`, `dify-dr drill` (restore into fresh databases, a scratch Redis and a scratch directory,
# validated against the manifest, privkeys checked, RTO/RPO report), a second restore of the artifacts with nothing
# but zstd, pg_restore, tar and redis-server, and a before/after comparison of everything.
# Everything it starts is stopped on exit; ./demo-repo is kept so you can look at it.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.."
top=$PWD

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$pgbin" ] || ! command -v zstd >/dev/null || ! command -v java >/dev/null || ! command -v mvn >/dev/null \
   || ! command -v python3 >/dev/null || ! command -v redis-server >/dev/null; then
  say "installing PostgreSQL, Redis, zstd, Java, Maven and Python"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server zstd default-jdk-headless maven python3 >/dev/null
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

if [ ! -f target/dify-dr.jar ]; then
  say "building dify-dr (mvn -q package -DskipTests)"
  mvn -q -B package -DskipTests
fi

work=$(mktemp -d /tmp/dify-dr-demo.XXXXXX)
run_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  run_pg "$pgbin/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null 2>&1 || true
  for pidfile in "$work"/redis-*/redis.pid; do
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

say "starting a throwaway PostgreSQL ($("$pgbin/postgres" --version))"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 54329)
head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$work/pgpass"
chmod 600 "$work/pgpass"
if [ "$(id -u)" = 0 ]; then chown -R postgres "$work"; fi
run_pg "$pgbin/initdb" -D "$work/data" -U postgres --pwfile="$work/pgpass" --auth-local=trust --auth-host=scram-sha-256 \
  -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
run_pg "$pgbin/pg_ctl" -D "$work/data" -l "$work/server.log" -w start \
  -o "-p $port -k $work -c listen_addresses=127.0.0.1 -c fsync=off" >/dev/null
PGPASSWORD=$(cat "$work/pgpass")
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGPASSWORD
psql_q() { "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }

say "seeding Dify-shaped data: dify (Dify 0.6.15 schema, 67 tables) and dify_plugin"
psql_q -d postgres -c 'CREATE DATABASE dify' -c 'CREATE DATABASE dify_plugin'
psql_q -d dify -f src/test/resources/fixtures/dify-0.6.15.sql >/dev/null
psql_q -d dify_plugin -f src/test/resources/fixtures/dify-plugin.sql >/dev/null

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_redis() {  # name port [password]
  mkdir -p "$work/redis-$1"
  redis-server --port "$2" --bind 127.0.0.1 --save '' --appendonly no --dir "$work/redis-$1" --daemonize yes \
    --pidfile "$work/redis-$1/redis.pid" --logfile "$work/redis-$1/redis.log" --repl-diskless-sync-delay 0 \
    ${3:+--requirepass "$3"}
  for _ in $(seq 50); do redis-cli -p "$2" ${3:+--no-auth-warning -a "$3"} ping >/dev/null 2>&1 && return; sleep 0.1; done
  echo "redis $1 did not start"; exit 1
}
redis_port=$(free_port); drill_redis_port=$(free_port)
head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$work/redispass"
start_redis source "$redis_port" "$(cat "$work/redispass")"
start_redis drill "$drill_redis_port"
say "seeding Dify-shaped Redis keys (redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')): sessions and caches in DB 0, a Celery broker in DB 1"
rcli() { REDISCLI_AUTH=$(cat "$work/redispass") redis-cli -p "$redis_port" "$@"; }
python3 - "$work/redis-seed.txt" <<'PY'
import sys, random, uuid
r = random.Random(42)
with open(sys.argv[1], "w") as f:
    f.write("SELECT 0\n")
    for i in range(2000):
        f.write(f"SET session:{uuid.UUID(int=r.getrandbits(128))} account-{i} EX {3600 + i}\n")
    for i in range(200):
        f.write(f"HSET tenant_config:{i} plan sandbox members {r.randint(1, 50)} region cn\n")
        f.write(f"ZADD rate_limit:app-{i} {r.randint(1, 10**9)} req-{i}-a {r.randint(1, 10**9)} req-{i}-b\n")
    f.write("SELECT 1\n")
    for i in range(500):
        f.write(f"RPUSH celery task-{i}-{uuid.UUID(int=r.getrandbits(128))}\n")
    f.write("SADD _kombu.binding.celery celery dataset generation mail\n")
    for i in range(300):
        f.write(f"SET celery-task-meta-{uuid.UUID(int=r.getrandbits(128))} '{{\"status\": \"SUCCESS\", \"n\": {i}}}' PX 86400000\n")
PY
rcli < "$work/redis-seed.txt" >/dev/null
echo "DB 0: $(rcli -n 0 dbsize) keys, DB 1: $(rcli -n 1 dbsize) keys"

say "seeding the app storage: uploads and privkeys/<tenant_id>/private.pem for every tenant"
storage="$work/storage"
for tenant in $(psql_q -d dify -At -c 'SELECT id FROM tenants'); do
  mkdir -p "$storage/privkeys/$tenant" "$storage/upload_files/$tenant"
  openssl genrsa 2048 2>/dev/null > "$storage/privkeys/$tenant/private.pem" || head -c 1700 /dev/urandom | base64 > "$storage/privkeys/$tenant/private.pem"
  chmod 600 "$storage/privkeys/$tenant/private.pem"
  for n in 1 2 3; do head -c $((n * 40000)) /dev/urandom > "$storage/upload_files/$tenant/file-$n.pdf"; done
  echo "Über Dify — résumé" > "$storage/upload_files/$tenant/notes für $tenant.txt"
done
echo "$(find "$storage" -type f | wc -l) files, $(du -sh "$storage" | cut -f1)"

cat > "$work/dify-dr.yaml" <<YAML
deployment: demo
repository:
  url: file://$top/demo-repo
postgres:
  host: 127.0.0.1
  port: $port
  user: postgres
  password: "\${file:$work/pgpass}"
  databases: [dify, dify_plugin]
redis:
  host: 127.0.0.1
  port: $redis_port
  password: "\${file:$work/redispass}"
storage:
  - { name: app, path: $storage }
drill:
  databases: {dify: dify_drill, dify_plugin: dify_plugin_drill}
  redis: { host: 127.0.0.1, port: $drill_redis_port }
  storage:
    - { name: app, path: $work/drill-storage }
YAML

say "dify-dr backup"
id=$(./dify-dr --config "$work/dify-dr.yaml" --json backup | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
./dify-dr --config "$work/dify-dr.yaml" show "$id"

say "dify-dr verify --read-data"
./dify-dr --config "$work/dify-dr.yaml" verify "$id" --read-data

say "dify-dr list"
./dify-dr --config "$work/dify-dr.yaml" list

say "dify-dr drill $id --keep: restore into fresh databases, a scratch Redis and a scratch directory; validate, check privkeys, measure RTO and RPO"
./dify-dr --config "$work/dify-dr.yaml" drill "$id" --keep

say "restoring with standard tools only: zstd -dc <artifact> | pg_restore -d <fresh database>"
for db in dify dify_plugin; do
  art="demo-repo/demo/backups/$id/postgres/$db.dump.zst"
  psql_q -d postgres -c "CREATE DATABASE ${db}_restored"
  echo "zstd -dc $art | pg_restore -d ${db}_restored"
  zstd -q -dc "$art" | "$pgbin/pg_restore" --exit-on-error -d "${db}_restored"
done

say "restoring Redis and storage with standard tools only: zstd -dc | tar -x, and redis-server loading the RDB"
mkdir -p "$work/tar-storage" "$work/redis-rdb"
zstd -q -dc "demo-repo/demo/backups/$id/storage/app.tar.zst" | tar -x -C "$work/tar-storage"
echo "zstd -dc storage/app.tar.zst | tar -x -C <dir>: $(find "$work/tar-storage" -type f | wc -l) files"
zstd -q -dc "demo-repo/demo/backups/$id/redis/dump.rdb.zst" > "$work/redis-rdb/dump.rdb"
redis-check-rdb "$work/redis-rdb/dump.rdb" | grep -E "RDB looks OK|keys read" | sed "s/^/redis-check-rdb: /"
rdb_port=$(free_port)
redis-server --port "$rdb_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work/redis-rdb" --dbfilename dump.rdb \
  --daemonize yes --pidfile "$work/redis-rdb/redis.pid" --logfile "$work/redis-rdb/redis.log"
for _ in $(seq 50); do redis-cli -p "$rdb_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

say "before / after"
counts() {
  psql_q -d "$1" -At -c "SELECT string_agg(t || '=' || n, ' ' ORDER BY t) FROM (
    SELECT 'accounts' t, count(*) n FROM accounts UNION ALL SELECT 'tenants', count(*) FROM tenants
    UNION ALL SELECT 'apps', count(*) FROM apps UNION ALL SELECT 'conversations', count(*) FROM conversations
    UNION ALL SELECT 'messages', count(*) FROM messages UNION ALL SELECT 'document_segments', count(*) FROM document_segments
    UNION ALL SELECT 'workflow_runs', count(*) FROM workflow_runs) c"
}
comparable() { "$pgbin/pg_dump" -d "$1" | grep -v -e '^--' -e '^\\restrict ' -e '^\\unrestrict '; }
printf '%-12s %s\n' "source" "$(counts dify)" "drill" "$(counts dify_drill)" "restored" "$(counts dify_restored)"
printf '%-12s %s\n' "alembic" "$(psql_q -d dify -At -c 'SELECT version_num FROM alembic_version') -> $(psql_q -d dify_restored -At -c 'SELECT version_num FROM alembic_version')"
status=0
for db in dify dify_plugin; do
  for copy in "${db}_drill" "${db}_restored"; do
    if diff <(comparable "$db") <(comparable "$copy") >/dev/null; then
      echo "$copy: plain pg_dump identical to $db's ($(comparable "$db" | wc -l) lines)"
    else
      echo "$copy: DIFFERENT from $db"; status=1
    fi
  done
done
# Redis: every key's type, content (sorted where Redis does not keep an order) and expiry time (ms).
redis_state() {  # port [password]
  ( if [ -n "${2:-}" ]; then export REDISCLI_AUTH=$2; fi
  python3 - "$1" <<'PY'
import os, subprocess, sys
port = sys.argv[1]
def cli(*args):
    return subprocess.run(["redis-cli", "-p", port, "--no-auth-warning", *args], capture_output=True, text=True,
                          env=os.environ, check=True).stdout.splitlines()
for db in ("0", "1"):
    for key in sorted(cli("-n", db, "--scan")):
        kind = cli("-n", db, "type", key)[0]
        body = {"string": lambda: cli("-n", db, "get", key), "list": lambda: cli("-n", db, "lrange", key, "0", "-1"),
                "set": lambda: sorted(cli("-n", db, "smembers", key)), "hash": lambda: sorted(cli("-n", db, "hgetall", key)),
                "zset": lambda: cli("-n", db, "zrange", key, "0", "-1", "withscores")}[kind]()
        print(db, key, kind, body, "expires at", cli("-n", db, "pexpiretime", key)[0])
PY
  )
}
src_redis=$(redis_state "$redis_port" "$(cat "$work/redispass")")
for copy in "drill:$drill_redis_port" "redis-server+rdb:$rdb_port"; do
  if [ "$src_redis" = "$(redis_state "${copy#*:}")" ]; then
    echo "redis ${copy%%:*}: $(echo "$src_redis" | wc -l) keys identical to the source (type, content, expiry)"
  else
    echo "redis ${copy%%:*}: DIFFERENT from the source:"; status=1
    diff <(echo "$src_redis") <(redis_state "${copy#*:}") | head -n 6
  fi
done
# Storage: every path, type, mode, mtime and content.
tree_state() { (cd "$1" && find . -mindepth 1 -printf '%p %y %m %T@ %l\n' | sed 's/\.[0-9]* / /' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
for copy in "drill:$work/drill-storage" "tar:$work/tar-storage"; do
  if diff <(tree_state "$storage") <(tree_state "${copy#*:}") >/dev/null; then
    echo "storage ${copy%%:*}: $(find "$storage" -type f | wc -l) files identical to the source (paths, modes, mtimes, SHA-256)"
  else
    echo "storage ${copy%%:*}: DIFFERENT from the source:"; status=1
    diff <(tree_state "$storage") <(tree_state "${copy#*:}") | head -n 6
  fi
done
[ "$status" = 0 ] && say "demo passed: backup $id restored by dify-dr drill and by the standard tools, Redis and storage too, all match the source" || say "demo FAILED"
exit "$status"
