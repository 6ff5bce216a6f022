#!/usr/bin/env bash
# Benchmark: the read a restore's preflight adds. Before anything in Dify is stopped, the restore reads every artifact
# it will use end to end: the stored SHA-256, zstd decompression (with its content checksum) and the plain length and
# SHA-256. That read is `dify-dr verify <id> --read-data` on the same artifacts.
#
#   A = dify-dr verify <id> --read-data                              (the whole process, JVM start included)
#   B = sha256sum artifact && zstd -dc artifact | sha256sum          (the same checks with the standard tools)
#
# Setup, not measured: the throwaway PostgreSQL 15 and the Dify-shaped database of lib.sh (SIZE_GB GiB), one
# `dify-dr backup` of it to a file:// repository. Runs alternate A B A B after one unmeasured pair; the artifact is
# in the page cache for both (it was just written and is read again every run), as it is not for a bucket.
#   ratio = median(A) / median(B)        peak RSS of A from /usr/bin/time -v
#
# Usage:   src/bench/preflight-bench.sh [SIZE_GB]        Env: SIZE_GB=1 RUNS=3 ZSTD_LEVEL=3, and lib.sh's settings
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
BENCH_NAME=preflight-bench
SIZE_GB=${1:-${SIZE_GB:-1}}
# shellcheck source=src/bench/lib.sh
source "$here/lib.sh"
ZSTD_LEVEL=${ZSTD_LEVEL:-3}
bench_check
bench_workdir dify-dr-preflight-bench
bench_jar
bench_postgres
bench_generate_db

REPO=$WORK/out/repo
CONFIG=$WORK/bench.yaml
cat >"$CONFIG" <<CONF
deployment: bench
repository: {url: "file://$REPO"}
postgres: {host: 127.0.0.1, port: $PG_PORT, user: postgres, password: "\${env:PGPW}", databases: [$DB], binDir: $PG_BIN}
compression: {level: $ZSTD_LEVEL}
CONF
log "dify-dr backup of '$DB' (not measured)"
"$ROOT/dify-dr" --config "$CONFIG" --json backup >"$WORK/logs/backup.json" 2>"$WORK/logs/backup.stderr" \
  || { cat "$WORK/logs/backup.stderr" >&2; die "dify-dr backup failed"; }
BACKUP_ID=$(jq -r '.id' "$WORK/logs/backup.json")
ARTIFACT=$REPO/$(jq -r '.artifacts[0].path' "$WORK/logs/backup.json")
PLAIN_BYTES=$(jq -r '.artifacts[0].plainBytes' "$WORK/logs/backup.json")
STORED_BYTES=$(jq -r '.artifacts[0].storedBytes' "$WORK/logs/backup.json")

run_a() {
  local t0 t1 tv=$WORK/logs/time-$1.txt
  t0=$(now)
  /usr/bin/time -v -o "$tv" "$ROOT/dify-dr" --config "$CONFIG" verify "$BACKUP_ID" --read-data >"$WORK/logs/verify-$1.txt" 2>&1 \
    || { cat "$WORK/logs/verify-$1.txt" >&2; die "$1: verify failed"; }
  t1=$(now)
  LAST_SECONDS=$(elapsed "$t0" "$t1")
  LAST_RSS_KB=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tv")
}
run_b() {
  local t0 t1
  t0=$(now)
  sha256sum "$ARTIFACT" >/dev/null && zstd -dcq "$ARTIFACT" | sha256sum >/dev/null
  t1=$(now)
  LAST_SECONDS=$(elapsed "$t0" "$t1")
}

run_a warmup; run_b warmup
A= B= RSS=
for i in $(seq 1 "$RUNS"); do
  run_a "A$i"; A+="$LAST_SECONDS " RSS+="$LAST_RSS_KB "; log "  A #$i ${LAST_SECONDS}s rss $((LAST_RSS_KB / 1024)) MiB"
  run_b "B$i"; B+="$LAST_SECONDS "; log "  B #$i ${LAST_SECONDS}s"
done
a=$(echo "$A" | median) b=$(echo "$B" | median)
echo
echo "== dify-dr preflight read benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores) =="
echo "dump     backup $BACKUP_ID: $(human "$PLAIN_BYTES") plain, $(human "$STORED_BYTES") stored (zstd -$ZSTD_LEVEL)"
printf '  %-52s %8ss   runs: %s\n' "A  dify-dr verify --read-data" "$a" "${A% }"
printf '  %-52s %8ss   runs: %s\n' "B  sha256sum && zstd -dc | sha256sum" "$b" "${B% }"
echo "ratio A/B  $(ratio "$a" "$b")"
echo "peak RSS of A  $(awk -v k="$(echo "$RSS" | maxof)" 'BEGIN { printf "%.0f", k / 1024 }') MiB"
