#!/usr/bin/env bash
# Benchmark: the cost of `dify-dr backup --only redis` next to the shell pipeline it replaces.
#
#   A = redis-cli --rdb - | zstd -<level> -T0 -q > file     (redis-cli 7.0 writes the RDB to stdout with `--rdb -`)
#   B = dify-dr backup --only redis to a file:// repository (the same replication handshake, parsed as it streams)
#
# A throwaway redis-server (random port, temp dir, no persistence, repl-diskless-sync-delay 0, a password) is loaded
# with KEYS keys of mixed types through `redis-cli --pipe`: 60% strings (some with a TTL), 15% hashes, 10% lists,
# 10% sets, 5% sorted sets, 5 members each. Both sides then alternate A B A B ... (RUNS pairs) after one unmeasured
# warm-up of each; outputs are deleted after every run. dify-dr runs under /usr/bin/time -v for its peak RSS.
# Targets: B/A <= 1.20, peak RSS of B <= 256 MiB.
#
# Usage:   src/bench/redis-bench.sh [KEYS]
# Env:     KEYS=1000000       number of keys
#          RUNS=3             measured runs of each side (at least 3)
#          ZSTD_LEVEL=3       zstd level of both sides (dify-dr: compression.level)
#          DIFY_DR_JAR, BUILD_DIR, BENCH_TMP, KEEP_WORK, DIFY_DR_JAVA_OPTS: as in lib.sh
# Needs: redis-server and redis-cli 7, zstd, jq, GNU time (/usr/bin/time), Java 17, Maven (offline-capable).
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
BENCH_NAME=redis-bench
KEYS=${1:-${KEYS:-1000000}}
# shellcheck source=src/bench/lib.sh
source "$here/lib.sh"
ZSTD_LEVEL=${ZSTD_LEVEL:-3}

[[ $RUNS =~ ^[0-9]+$ ]] && ((RUNS >= 3)) || die "RUNS must be a number >= 3 (got '$RUNS')"
[[ $KEYS =~ ^[0-9]+$ ]] && ((KEYS >= 100)) || die "KEYS must be a number >= 100 (got '$KEYS')"
for tool in redis-server redis-cli zstd jq java; do
  command -v "$tool" >/dev/null || die "$tool not found"
done
[[ -x /usr/bin/time ]] || die "GNU time not found at /usr/bin/time (apt-get install -y time)"

bench_workdir dify-dr-redis-bench
bench_jar

# ---------------------------------------------------------------------------------------------------------------
# the server and its data
mkdir -p "$WORK/redis"
REDIS_PW=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
export REDIS_PW REDISCLI_AUTH=$REDIS_PW
REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK/redis" --daemonize yes \
  --pidfile "$WORK/redis/redis.pid" --logfile "$WORK/redis/redis.log" --repl-diskless-sync-delay 0 \
  --requirepass "$REDIS_PW" || die "redis-server did not start"
for _ in $(seq 1 100); do [[ -s $WORK/redis/redis.pid ]] && break; sleep 0.05; done
SERVICE_PIDS+=("$(cat "$WORK/redis/redis.pid")")
cli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --no-auth-warning "$@"; }
for _ in $(seq 1 100); do cli ping >/dev/null 2>&1 && break; sleep 0.05; done
log "Redis $(redis-server --version | awk '{print $3}') on 127.0.0.1:$REDIS_PORT"

log "loading $KEYS keys of mixed types"
t0=$(now)
LC_ALL=C awk -v n="$KEYS" '
  function out(argc,   i, s) { s = "*" argc "\r\n"; for (i = 1; i <= argc; i++) s = s "$" length(a[i]) "\r\n" a[i] "\r\n"; printf "%s", s }
  BEGIN {
    for (i = 0; i < n; i++) {
      m = i % 20
      if (m < 12) {
        a[1] = "SET"; a[2] = "str:" i; a[3] = "value " i " of the benchmark, session " (i % 977) " token " (i * 7919 % 100003)
        if (m == 0) { a[4] = "EX"; a[5] = "86400"; out(5) } else out(3)
      } else if (m < 15) {
        a[1] = "HSET"; a[2] = "hash:" i
        for (j = 0; j < 5; j++) { a[3 + 2 * j] = "field" j; a[4 + 2 * j] = "v" (i * (j + 3) % 10007) }
        out(12)
      } else {
        a[1] = (m < 17 ? "RPUSH" : m < 19 ? "SADD" : "ZADD"); a[2] = (m < 17 ? "list:" : m < 19 ? "set:" : "zset:") i
        if (m == 19) { for (j = 0; j < 5; j++) { a[3 + 2 * j] = j * 1.5; a[4 + 2 * j] = "member" (i + j) } out(12) }
        else { for (j = 0; j < 5; j++) a[3 + j] = "item" (i * 31 + j) % 100003; out(7) }
      }
    }
  }' | cli --pipe >"$WORK/logs/load.log" 2>&1 || { cat "$WORK/logs/load.log" >&2; die "loading failed"; }
LOAD_SECONDS=$(elapsed "$t0" "$(now)")
DBSIZE=$(cli dbsize)
USED=$(cli info memory | awk -F: '/^used_memory:/ { print $2 }' | tr -d '\r')
log "loaded $DBSIZE keys ($(human "$USED") used memory) in ${LOAD_SECONDS}s"

# ---------------------------------------------------------------------------------------------------------------
# the runs
REPO=$WORK/out/repo
cat >"$WORK/redis.yaml" <<EOF2
deployment: bench
repository: {url: "file://$REPO"}
redis:
  host: 127.0.0.1
  port: $REDIS_PORT
  password: "\${env:REDIS_PW}"
  mode: rdb
compression: {level: $ZSTD_LEVEL}
EOF2

run_a() { # sets LAST_SECONDS, LAST_STORED
  local out=$WORK/out/a.rdb.zst t0
  t0=$(now)
  /usr/bin/time -f '%U %S' -o "$WORK/logs/time-a.txt" bash -c 'set -o pipefail; redis-cli -h 127.0.0.1 -p "$0" --no-auth-warning --rdb - 2>/dev/null | zstd "-$1" -T0 -q >"$2"' \
    "$REDIS_PORT" "$ZSTD_LEVEL" "$out" || die "redis-cli --rdb - | zstd failed"
  LAST_SECONDS=$(elapsed "$t0" "$(now)")
  LAST_STORED=$(stat -c %s "$out")
  LAST_CPU=$(awk '{ printf "%.2f", $1 + $2 }' "$WORK/logs/time-a.txt")
  LAST_RSS_KB=0
  rm -f "$out"
}

run_b() { # sets LAST_SECONDS, LAST_STORED, LAST_RSS_KB
  local json=$WORK/logs/b.json t0
  t0=$(now)
  /usr/bin/time -v -o "$WORK/logs/time-b.txt" "$ROOT/dify-dr" --config "$WORK/redis.yaml" --json backup --only redis \
    >"$json" 2>"$WORK/logs/b.stderr" || { cat "$WORK/logs/b.stderr" "$json" >&2; die "dify-dr backup failed"; }
  LAST_SECONDS=$(elapsed "$t0" "$(now)")
  LAST_STORED=$(jq '[.artifacts[].storedBytes] | add' "$json")
  PLAIN_BYTES=$(jq '[.artifacts[].plainBytes] | add' "$json")
  LAST_INNER=$(jq '.durationSeconds' "$json")
  LAST_RSS_KB=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/logs/time-b.txt")
  LAST_CPU=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f", u + s }' "$WORK/logs/time-b.txt")
  rm -rf "$REPO"
}

declare -A SECS CPUS RSS INNER STORED
record() { SECS[$1]+="$LAST_SECONDS "; CPUS[$1]+="$LAST_CPU "; RSS[$1]+="$LAST_RSS_KB "; INNER[$1]+="${LAST_INNER:-} "; STORED[$1]=$LAST_STORED; LAST_INNER=; }

log "warm-up (not measured): one pipeline run and one dify-dr backup"
run_a
run_b
log "$RUNS pairs, alternating A (redis-cli --rdb - | zstd) and B (dify-dr)"
for i in $(seq 1 "$RUNS"); do
  run_a; record A; log "  A #$i  ${LAST_SECONDS}s"
  run_b; record B; log "  B #$i  ${LAST_SECONDS}s  rss $((LAST_RSS_KB / 1024)) MiB"
done

ma=$(echo "${SECS[A]}" | median)
mb=$(echo "${SECS[B]}" | median)
rb=$(ratio "$mb" "$ma")
rss=$(echo "${RSS[B]}" | maxof | awk '{ printf "%.0f", $1 / 1024 }')
echo
echo "== dify-dr Redis backup benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores) =="
echo "data          $DBSIZE keys, $(human "$USED") used memory; RDB $(human "$PLAIN_BYTES"), zstd -$ZSTD_LEVEL: $(human "${STORED[A]}") by the pipeline, $(human "${STORED[B]}") by dify-dr"
echo "dify-dr       $(basename "$JAR"), JVM options: $JAVA_OPTS"
echo "wall time (median of $RUNS, alternating, after one warm-up each):"
printf '  %-44s %8ss   runs: %s   (cpu s: %s)\n' "A  redis-cli --rdb - | zstd -$ZSTD_LEVEL -T0 > file" "$ma" "${SECS[A]% }" "${CPUS[A]% }"
printf '  %-44s %8ss   runs: %s   (cpu s: %s)\n' "B  dify-dr backup --only redis -> file://" "$mb" "${SECS[B]% }" "${CPUS[B]% }"
echo "     dify-dr's own durationSeconds (no JVM start/exit): ${INNER[B]% }"
echo "load average  $(cut -d' ' -f1-3 /proc/loadavg) (other work on this machine skews the wall times)"
echo "ratio B/A     $rb   target <= 1.20   $(verdict "$rb" 1.20)"
echo "peak RSS (B)  $rss MiB   target <= 256 MiB   $(verdict "$rss" 256)"
