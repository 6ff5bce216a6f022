#!/usr/bin/env bash
# Benchmark: `dify-dr backup` in physical mode next to the shell pipeline it replaces.
#
#   A = pg_basebackup -c fast -Ft -X fetch -D - | zstd -<level> -T0 -q > file
#   B = dify-dr backup with postgres.mode physical to a file:// repository
#
# The cluster is lib.sh's throwaway PostgreSQL 15 holding the Dify-shaped database `dify` of SIZE_GB GiB. Before
# every run: CHECKPOINT and sync, so that neither side pays for the other's dirty pages. One unmeasured warm-up pair,
# then RUNS pairs alternating A B A B. dify-dr runs under /usr/bin/time -v for its peak RSS (pg_basebackup, a child,
# is not counted). Targets: B/A <= 1.10, peak RSS <= 256 MiB.
#
# Usage:   src/bench/physical-bench.sh [SIZE_GB]
# Env:     SIZE_GB=1, RUNS=3, ZSTD_LEVEL=3, ZSTD_WORKERS=0, DIFY_DR_JAR, BUILD_DIR, DIFY_DR_JAVA_OPTS, BENCH_TMP,
#          KEEP_WORK (as in backup-bench.sh). Needs ~1.5x SIZE_GB free in BENCH_TMP.
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
BENCH_NAME=physical-bench
SIZE_GB=${1:-${SIZE_GB:-1}}
# shellcheck source=src/bench/lib.sh
source "$here/lib.sh"
ZSTD_LEVEL=${ZSTD_LEVEL:-3}
ZSTD_WORKERS=${ZSTD_WORKERS:-0}

bench_check
bench_workdir dify-dr-physical-bench
bench_jar
bench_postgres
bench_generate_db

REPO_FILE=$WORK/out/repo
cat >"$WORK/physical.yaml" <<EOF2
deployment: bench
repository: {url: "file://$REPO_FILE"}
postgres:
  host: 127.0.0.1
  port: $PG_PORT
  user: postgres
  password: "\${env:PGPW}"
  databases: [$DB]
  binDir: $PG_BIN
  mode: physical
compression: {level: $ZSTD_LEVEL, workers: $ZSTD_WORKERS}
EOF2

settle() {
  psqlq -d postgres -c CHECKPOINT
  sync
}

run_a() { # $1 = label
  local out=$WORK/out/a.tar.zst t0 t1
  settle
  t0=$(now)
  /usr/bin/time -f '%U %S' -o "$WORK/logs/time-a.txt" bash -c 'set -o pipefail
    PGPASSWORD=$PGPW "$0/pg_basebackup" --no-password --host=127.0.0.1 --port="$1" --username=postgres \
      --checkpoint=fast --format=tar --wal-method=fetch --pgdata=- | zstd "-$2" -T0 -q >"$3"' \
    "$PG_BIN" "$PG_PORT" "$ZSTD_LEVEL" "$out" || die "$1: pg_basebackup | zstd failed"
  t1=$(now)
  LAST_SECONDS=$(elapsed "$t0" "$t1")
  LAST_STORED=$(stat -c %s "$out")
  LAST_CPU=$(awk '{ printf "%.2f", $1 + $2 }' "$WORK/logs/time-a.txt")
  LAST_RSS_KB=0
  rm -f "$out"
}

run_b() { # $1 = label
  local t0 t1 json=$WORK/logs/b.json
  settle
  t0=$(now)
  /usr/bin/time -v -o "$WORK/logs/time-b.txt" "$ROOT/dify-dr" --config "$WORK/physical.yaml" --json backup >"$json" 2>"$WORK/logs/b.stderr" \
    || { cat "$WORK/logs/b.stderr" "$json" >&2; die "$1: dify-dr backup failed"; }
  t1=$(now)
  LAST_SECONDS=$(elapsed "$t0" "$t1")
  LAST_STORED=$(jq '[.artifacts[].storedBytes] | add' "$json")
  PLAIN_BYTES=$(jq '[.artifacts[].plainBytes] | add' "$json")
  LAST_RSS_KB=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/logs/time-b.txt")
  LAST_CPU=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f", u + s }' "$WORK/logs/time-b.txt")
  rm -rf "$REPO_FILE"
}

declare -A SECS CPUS RSS STORED
record() { # $1 = series
  SECS[$1]+="$LAST_SECONDS "
  CPUS[$1]+="$LAST_CPU "
  RSS[$1]+="${LAST_RSS_KB:-0} "
  STORED[$1]=$LAST_STORED
}

log "warm-up (not measured): one pipeline run and one dify-dr backup"
run_a warmup
run_b warmup
log "$RUNS pairs, alternating pipeline (A) and dify-dr physical (B)"
for i in $(seq 1 "$RUNS"); do
  run_a "A$i"; record A; log "  A #$i  ${LAST_SECONDS}s"
  run_b "B$i"; record B; log "  B #$i  ${LAST_SECONDS}s  rss $((LAST_RSS_KB / 1024)) MiB"
done

rss_mib=$(echo "${RSS[B]}" | maxof | awk '{ printf "%.0f", $1 / 1024 }')
ratio_ba=$(ratio "$(echo "${SECS[B]}" | median)" "$(echo "${SECS[A]}" | median)")
{
  echo
  echo "== dify-dr physical backup benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores) =="
  echo "database      '$DB': pg_database_size $(human "$DB_BYTES"); base.tar $(human "$PLAIN_BYTES"); zstd -$ZSTD_LEVEL: $(human "${STORED[A]}") by the pipeline, $(human "${STORED[B]}") by dify-dr"
  echo "runs          $RUNS measured pairs, alternating, after one warm-up pair; CHECKPOINT + sync before each"
  echo "wall time (median):"
  printf '  %-55s %8ss   runs: %s   (cpu s: %s)\n' "A  pg_basebackup -c fast -Ft -X fetch -D - | zstd" "$(echo "${SECS[A]}" | median)" "${SECS[A]% }" "${CPUS[A]% }"
  printf '  %-55s %8ss   runs: %s   (cpu s: %s)\n' "B  dify-dr backup (physical) -> file://" "$(echo "${SECS[B]}" | median)" "${SECS[B]% }" "${CPUS[B]% }"
  echo "ratio B/A     $ratio_ba   target <= 1.10   $(verdict "$ratio_ba" 1.10)"
  echo "peak RSS (B)  $rss_mib MiB   target <= 256   $(verdict "$rss_mib" 256)     runs (KiB): ${RSS[B]% }"
}
