#!/usr/bin/env bash
# The dify-dr demo, end to end on this machine: a throwaway PostgreSQL with Dify-shaped data (Dify's real schema,
# synthetic rows, a plugin database), `dify-dr backup` to ./demo-repo, `verify --read-data`, `dify-dr drill` (restore
# into fresh databases, validated against the manifest, RTO/RPO report), a second restore of the artifacts with nothing
# but zstd and pg_restore, and a before/after comparison of both.
# Everything it starts is stopped on exit; ./demo-repo is kept so you can look at it.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.."
top=$PWD

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$pgbin" ] || ! command -v zstd >/dev/null || ! command -v java >/dev/null || ! command -v mvn >/dev/null \
   || ! command -v python3 >/dev/null; then
  say "installing PostgreSQL, zstd, Java, Maven and Python"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql zstd default-jdk-headless maven python3 >/dev/null
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
drill:
  databases: {dify: dify_drill, dify_plugin: dify_plugin_drill}
YAML

say "dify-dr backup"
id=$(./dify-dr --config "$work/dify-dr.yaml" --json backup | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
./dify-dr --config "$work/dify-dr.yaml" show "$id"

say "dify-dr verify --read-data"
./dify-dr --config "$work/dify-dr.yaml" verify "$id" --read-data

say "dify-dr list"
./dify-dr --config "$work/dify-dr.yaml" list

say "dify-dr drill $id --keep: restore into fresh databases, validate against the manifest, measure RTO and RPO"
./dify-dr --config "$work/dify-dr.yaml" drill "$id" --keep

say "restoring with standard tools only: zstd -dc <artifact> | pg_restore -d <fresh database>"
for db in dify dify_plugin; do
  art="demo-repo/demo/backups/$id/postgres/$db.dump.zst"
  psql_q -d postgres -c "CREATE DATABASE ${db}_restored"
  echo "zstd -dc $art | pg_restore -d ${db}_restored"
  zstd -q -dc "$art" | "$pgbin/pg_restore" --exit-on-error -d "${db}_restored"
done

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
[ "$status" = 0 ] && say "demo passed: backup $id restored by dify-dr drill and by the standard tools, both match the source" || say "demo FAILED"
exit "$status"
