#!/usr/bin/env bash
# Benchmark: the cost of `dify-dr backup` next to the shell pipeline it replaces.
#
#   A  = pg_dump -Fc -Z0 dify | zstd -<level> -T0 -q > file      (what a hand-written backup.sh does)
#   B  = dify-dr backup to a file:// repository
#   B' = dify-dr backup to an s3:// repository served by S3Proxy (in its own JVM on this machine)
#
# Everything runs on a throwaway PostgreSQL 15 (random port, temp dir, fsync=off) holding a Dify-shaped database
# `dify`: the real Dify 0.6.15 schema (src/test/resources/fixtures/dify-0.6.15.sql) plus generated rows in the big
# tables (messages, document_segments, workflow_node_executions) until pg_database_size reaches SIZE_GB GiB. The
# text is made of phrases of a ~450-word vocabulary (English and some Chinese) with numbers and short hex ids mixed
# in, inside Dify's JSON shapes: the dump compresses about 4x with zstd -3, like real chat logs, not like constant or
# random bytes.
#
# Measurements alternate so that drift (page cache, thermal, neighbours) hits both sides alike:
#   phase 1: A B A B ... (RUNS pairs)          -> ratio file:// = median(B) / median(A of phase 1)
#   phase 2: A B' A B' ... (RUNS pairs)        -> ratio s3://   = median(B') / median(A of phase 2)
# One unmeasured warm-up of A and B comes first (and S3_WARMUPS of B' before phase 2). Outputs are deleted after
# every run. dify-dr runs under /usr/bin/time -v for its peak RSS ("Maximum resident set size"; pg_dump, a child, is
# far smaller).
# Targets: B/A <= 1.10, B'/A <= 1.25, peak RSS <= 256 MiB.
#
# Usage:   src/bench/backup-bench.sh [SIZE_GB]
# Env:     SIZE_GB=1          database size in GiB (decimals allowed, e.g. 0.2 for a quick try)
#          RUNS=3             measured runs of each side per phase (at least 3)
#          ZSTD_LEVEL=3       zstd level of both sides (dify-dr: compression.level)
#          ZSTD_WORKERS=0     dify-dr compression.workers (0 = one per core; the shell side always uses -T0)
#          DIFY_DR_JAR=...    use this jar instead of building one
#          BUILD_DIR=target   Maven build directory (-DbuildDir) for the jar and the S3Proxy test classes
#          DIFY_DR_JAVA_OPTS  JVM options for dify-dr (default: the launcher's, see ./dify-dr)
#          SKIP_S3=1          skip phase 2 (no S3Proxy)
#          S3_PART_MIB, S3_CONCURRENCY   repository.s3.partSizeMiB / uploadConcurrency (default: dify-dr's)
#          S3_WARMUPS=3       unmeasured dify-dr backups to S3Proxy before phase 2 (S3Proxy's own JIT warm-up)
#          A_SYNC=1           end A with `sync FILE`, as durable as dify-dr (whose file store fsyncs before the
#                             rename); default 0: A is the plain pipeline, without fsync
#          BENCH_TMP=/tmp     where the temp directory goes (needs ~1.5x SIZE_GB free)
#          KEEP_WORK=1        keep the temp directory (server log, run logs) after the run
# Needs: PostgreSQL 15 binaries (/usr/lib/postgresql/15/bin), zstd, jq, GNU time (/usr/bin/time), Java 17, Maven
# (offline-capable local repository). Run as root (the server then runs as user postgres) or as a normal user.
set -euo pipefail

# ---------------------------------------------------------------------------------------------------------------
# settings (lib.sh holds the shared ones, the server and the database generator)
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
BENCH_NAME=backup-bench
SIZE_GB=${1:-${SIZE_GB:-1}}
# shellcheck source=src/bench/lib.sh
source "$here/lib.sh"
ZSTD_LEVEL=${ZSTD_LEVEL:-3}
ZSTD_WORKERS=${ZSTD_WORKERS:-0}
SKIP_S3=${SKIP_S3:-0}
A_SYNC=${A_SYNC:-0}
S3_WARMUPS=${S3_WARMUPS:-3}
BUCKET=dify-dr-bench
S3_PID=

bench_check
bench_workdir dify-dr-bench
bench_jar

# the test classpath with S3ProxyMain
s3proxy_classpath() {
  local cpfile=$BUILD_DIR/bench-test-classpath.txt
  log "compiling the test classes for S3ProxyMain into $BUILD_DIR"
  if mvn_build test-compile dependency:build-classpath -Dmdep.outputFile="$cpfile" >"$WORK/logs/test-compile.log" 2>&1; then
    S3_CP=$BUILD_DIR/test-classes:$BUILD_DIR/classes:$(cat "$cpfile")
    return
  fi
  # Some other test may not compile right now: compile only what S3ProxyMain needs.
  log "test-compile failed (see below); compiling S3ProxyMain and what it uses only"
  tail -5 "$WORK/logs/test-compile.log" >&2
  mvn_build compile dependency:build-classpath -Dmdep.outputFile="$cpfile" >"$WORK/logs/compile.log" 2>&1 \
    || { cat "$WORK/logs/compile.log" >&2; die "cannot build the classpath for S3ProxyMain"; }
  local out=$WORK/s3proxy-classes
  mkdir -p "$out"
  javac -nowarn -d "$out" -cp "$BUILD_DIR/classes:$(cat "$cpfile")" -sourcepath "$ROOT/src/test/java" \
    "$ROOT/src/test/java/dev/difydr/testsupport/S3ProxyMain.java" >"$WORK/logs/javac.log" 2>&1 \
    || { cat "$WORK/logs/javac.log" >&2; die "cannot compile S3ProxyMain"; }
  S3_CP=$out:$BUILD_DIR/classes:$(cat "$cpfile")
}

bench_postgres
bench_generate_db

# ---------------------------------------------------------------------------------------------------------------
# the runs
write_config() { # $1 = file, $2 = repository block
  cat >"$1" <<EOF
deployment: bench
repository: $2
postgres:
  host: 127.0.0.1
  port: $PG_PORT
  user: postgres
  password: "\${env:PGPW}"
  databases: [$DB]
  binDir: $PG_BIN
compression: {level: $ZSTD_LEVEL, workers: $ZSTD_WORKERS}
EOF
}
REPO_FILE=$WORK/out/repo
write_config "$WORK/file.yaml" "{url: \"file://$REPO_FILE\"}"

# A: the shell pipeline; the password goes through the environment, like dify-dr's.
run_a() { # $1 = label; sets LAST_SECONDS, LAST_STORED, LAST_CPU
  local out=$WORK/out/a.dump.zst t0 t1
  t0=$(now)
  /usr/bin/time -f '%U %S' -o "$WORK/logs/time-a.txt" bash -c 'set -o pipefail
    PGPASSWORD=$PGPW "$0/pg_dump" --format=custom --compress=0 --no-password --host=127.0.0.1 --port="$1" \
      --username=postgres --dbname="$2" | zstd "-$3" -T0 -q >"$4"
    if [[ $5 == 1 ]]; then sync "$4"; fi' "$PG_BIN" "$PG_PORT" "$DB" "$ZSTD_LEVEL" "$out" "$A_SYNC" \
    || die "$1: pg_dump | zstd failed"
  t1=$(now)
  LAST_SECONDS=$(elapsed "$t0" "$t1")
  LAST_STORED=$(stat -c %s "$out")
  LAST_CPU=$(awk '{ printf "%.2f", $1 + $2 }' "$WORK/logs/time-a.txt")
  LAST_RSS_KB=0
  rm -f "$out"
}

# B: dify-dr backup through the launcher (its default JVM options unless DIFY_DR_JAVA_OPTS is set).
s3proxy_ticks() { if [[ -n $S3_PID ]]; then awk '{ print $14 + $15 }' "/proc/$S3_PID/stat"; else echo 0; fi; }
CLK_TCK=$(getconf CLK_TCK)

run_b() { # $1 = label, $2 = config, $3 = cleanup command
  local t0 t1 json=$WORK/logs/b.json s0 s1
  s0=$(s3proxy_ticks)
  t0=$(now)
  /usr/bin/time -v -o "$WORK/logs/time-b.txt" "$ROOT/dify-dr" --config "$2" --json backup >"$json" 2>"$WORK/logs/b.stderr" \
    || { cat "$WORK/logs/b.stderr" "$json" >&2; die "$1: dify-dr backup failed"; }
  t1=$(now)
  s1=$(s3proxy_ticks)
  LAST_S3PROXY_CPU=$(awk -v a="$s0" -v b="$s1" -v t="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / t }')
  LAST_SECONDS=$(elapsed "$t0" "$t1")
  LAST_STORED=$(jq '[.artifacts[].storedBytes] | add' "$json")
  PLAIN_BYTES=$(jq '[.artifacts[].plainBytes] | add' "$json")
  LAST_INNER=$(jq '.durationSeconds' "$json")
  LAST_RSS_KB=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/logs/time-b.txt")
  LAST_CPU=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f", u + s }' "$WORK/logs/time-b.txt")
  eval "$3"
}

declare -A SECS CPUS RSS INNER STORED PROXY
record() { # $1 = series
  SECS[$1]+="$LAST_SECONDS "
  CPUS[$1]+="$LAST_CPU "
  RSS[$1]+="${LAST_RSS_KB:-0} "
  INNER[$1]+="${LAST_INNER:-} "
  PROXY[$1]+="${LAST_S3PROXY_CPU:-} "
  STORED[$1]=$LAST_STORED
  LAST_INNER=
  LAST_S3PROXY_CPU=
}

clean_file_repo() { rm -rf "$REPO_FILE"; }

log "warm-up (not measured): one pipeline run and one dify-dr backup"
run_a warmup
run_b warmup "$WORK/file.yaml" clean_file_repo

log "phase 1: pipeline (A) vs dify-dr to file:// (B), $RUNS pairs, alternating"
for i in $(seq 1 "$RUNS"); do
  run_a "A$i"; record A1; log "  A #$i  ${LAST_SECONDS}s"
  run_b "B$i" "$WORK/file.yaml" clean_file_repo; record B; log "  B #$i  ${LAST_SECONDS}s  rss $((LAST_RSS_KB / 1024)) MiB"
done

if [[ $SKIP_S3 != 1 ]]; then
  s3proxy_classpath
  start_s3proxy "$S3_CP" "$BUCKET"
  s3_extra=
  [[ -n ${S3_PART_MIB:-} ]] && s3_extra+=", partSizeMiB: $S3_PART_MIB"
  [[ -n ${S3_CONCURRENCY:-} ]] && s3_extra+=", uploadConcurrency: $S3_CONCURRENCY"
  write_config "$WORK/s3.yaml" "{url: \"s3://$BUCKET/dr\", s3: {endpoint: \"$S3_ENDPOINT\", region: us-east-1, pathStyle: true, accessKeyId: \"\${env:AK}\", secretAccessKey: \"\${env:SK}\"$s3_extra}}"
  # The filesystem blob store keeps one file per object (and parts while a multipart upload is open).
  clean_s3() { find "$WORK/s3blobs/$BUCKET" -mindepth 1 -delete 2>/dev/null || true; }

  # S3Proxy is a fresh JVM: its first uploads run interpreted. Warm it up so that B' measures dify-dr, not S3Proxy's JIT.
  for _ in $(seq 1 "$S3_WARMUPS"); do run_b warmup "$WORK/s3.yaml" clean_s3; done
  log "phase 2: pipeline (A) vs dify-dr to s3:// on S3Proxy (B'), $RUNS pairs, alternating"
  for i in $(seq 1 "$RUNS"); do
    run_a "A'$i"; record A2; log "  A #$i  ${LAST_SECONDS}s"
    run_b "B'$i" "$WORK/s3.yaml" clean_s3; record S; log "  B' #$i ${LAST_SECONDS}s  rss $((LAST_RSS_KB / 1024)) MiB"
  done
fi

# ---------------------------------------------------------------------------------------------------------------
# summary
rss_mib() { echo "${RSS[$1]}" | maxof | awk '{ printf "%.0f", $1 / 1024 }'; }
row() { # series label
  printf '  %-50s %8ss   runs: %s   (cpu s: %s)\n' "$2" "$(echo "${SECS[$1]}" | median)" "${SECS[$1]% }" "${CPUS[$1]% }"
}
{
  echo
  echo "== dify-dr backup benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)) =="
  echo "database      '$DB': pg_database_size $(human "$DB_BYTES") ($DB_BYTES B), $ROWS_PER_TABLE generated rows each in messages, document_segments, workflow_node_executions (generated in ${GEN_SECONDS}s)"
  echo "dump          pg_dump -Fc -Z0: $(human "$PLAIN_BYTES"); zstd -$ZSTD_LEVEL: $(human "${STORED[A1]}") by the pipeline, $(human "${STORED[B]}") by dify-dr (ratio $(awk -v p="$PLAIN_BYTES" -v s="${STORED[A1]}" 'BEGIN { printf "%.2f", p / s }')x)"
  echo "dify-dr       $(basename "$JAR"), JVM options: $JAVA_OPTS; compression {level: $ZSTD_LEVEL, workers: $ZSTD_WORKERS}"
  echo "runs          $RUNS measured pairs per phase, alternating A,B,A,B,...; after one unmeasured warm-up; A $( ((A_SYNC == 1)) && echo "ends with sync FILE" || echo "does not fsync (dify-dr's file store does)")"
  echo "wall time (median):"
  row A1 "A  pg_dump | zstd -$ZSTD_LEVEL -T0 > file  (phase 1)"
  row B "B  dify-dr backup -> file://"
  echo "     dify-dr's own durationSeconds (no JVM start/exit): ${INNER[B]% }"
  if [[ $SKIP_S3 != 1 ]]; then
    row A2 "A  pg_dump | zstd -$ZSTD_LEVEL -T0 > file  (phase 2)"
    row S "B' dify-dr backup -> s3:// (S3Proxy)"
    echo "     dify-dr's own durationSeconds (no JVM start/exit): ${INNER[S]% }"
    echo "     CPU seconds used by S3Proxy (same machine) during each run: ${PROXY[S]% }"
  fi
  rb=$(ratio "$(echo "${SECS[B]}" | median)" "$(echo "${SECS[A1]}" | median)")
  echo "ratios (median dify-dr / median pipeline of the same phase):"
  echo "  file:// backup / pipeline   $rb   target <= 1.10   $(verdict "$rb" 1.10)"
  if [[ $SKIP_S3 != 1 ]]; then
    rs=$(ratio "$(echo "${SECS[S]}" | median)" "$(echo "${SECS[A2]}" | median)")
    echo "  s3://   backup / pipeline   $rs   target <= 1.25   $(verdict "$rs" 1.25)"
  fi
  echo "peak RSS of dify-dr (max over runs, /usr/bin/time -v):"
  echo "  file://  $(rss_mib B) MiB   target <= 256   $(verdict "$(rss_mib B)" 256)     runs (KiB): ${RSS[B]% }"
  if [[ $SKIP_S3 != 1 ]]; then
    echo "  s3://    $(rss_mib S) MiB   target <= 256   $(verdict "$(rss_mib S)" 256)     runs (KiB): ${RSS[S]% }"
  fi
}
