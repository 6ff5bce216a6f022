#!/usr/bin/env bash
# Benchmark: the database step of a dify-dr restore next to a plain parallel pg_restore of the same dump.
#
#   A = dify-dr drill <id> --keep --json, with restore.jobs: JOBS. Its restore-databases step creates the scratch
#       database, decompresses the stored artifact into a temp file in restore.tempDir (hashing the stored bytes on the
#       way, on a read-ahead thread) and runs pg_restore --jobs=JOBS on it. The whole process also starts the JVM, verifies the backup
#       (preflight), validates the restored database against the manifest and writes the drill report.
#   B = createdb -T template0 X && pg_restore -jJOBS --exit-on-error --no-owner -d X file.dump, where file.dump is the
#       plain custom-format dump already decompressed on local disk: the same bytes dify-dr restores. Decompressing
#       it is not part of B, so A's decompression, hashing and temp file are all overhead measured against B.
#
# Setup, not measured: the throwaway PostgreSQL 15 and the Dify-shaped database `dify` of lib.sh (SIZE_GB GiB), one
# `dify-dr backup` of it to a file:// repository, and `zstd -dc` of its artifact to file.dump (checked against the
# manifest's plainSha256). file.dump and restore.tempDir are in the same directory, so both sides write and read the
# same disk.
#
# Measurements alternate A B A B ... (RUNS pairs) after WARMUP unmeasured pairs, so that drift hits both sides alike.
# Before every run, not timed: the previous run's database is dropped, then `sync` and CHECKPOINT, so that no run
# pays for the writeback of the one before (the server runs with fsync=off; the kernel still writes dirty pages back
# in the background). The drill runs with --keep and its scratch database is dropped by this script for the same
# reason: B's timing holds no DROP DATABASE either. dify-dr runs under /usr/bin/time -v for its peak RSS ("Maximum
# resident set size"; its pg_restore children are far smaller).
#   ratio (a) = median(A's restore-databases step, from the drill's JSON report) / median(B)    target <= 1.10
#   ratio (b) = median(A's whole process wall time) / median(B)                                 (for information)
#
# Usage:   src/bench/restore-bench.sh [SIZE_GB]
# Env:     SIZE_GB=1          database size in GiB (decimals allowed, e.g. 0.2 for a quick try)
#          RUNS=3             measured pairs (at least 3)
#          WARMUP=1           unmeasured pairs before them
#          JOBS=2             restore.jobs of dify-dr and pg_restore -j of the baseline
#          ZSTD_LEVEL=3       compression.level of the backup that is restored
#          DIFY_DR_JAR=...    use this jar instead of building one
#          BUILD_DIR=target   Maven build directory (-DbuildDir) for the jar
#          DIFY_DR_JAVA_OPTS  JVM options for dify-dr (default: the launcher's, see ./dify-dr)
#          BENCH_TMP=/tmp     where the temp directory goes (needs ~2x SIZE_GB free: the database, the repository,
#                             file.dump, dify-dr's temp file and one restored copy)
#          KEEP_WORK=1        keep the temp directory (server log, run logs, drill reports) after the run
# Needs: PostgreSQL 15 binaries (/usr/lib/postgresql/15/bin), zstd, jq, GNU time (/usr/bin/time), Java 17, Maven
# (offline-capable local repository). Run as root (the server then runs as user postgres) or as a normal user.
set -euo pipefail

# ---------------------------------------------------------------------------------------------------------------
# settings (lib.sh holds the shared ones, the server and the database generator)
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
BENCH_NAME=restore-bench
SIZE_GB=${1:-${SIZE_GB:-1}}
# shellcheck source=src/bench/lib.sh
source "$here/lib.sh"
WARMUP=${WARMUP:-1}
JOBS=${JOBS:-2}
ZSTD_LEVEL=${ZSTD_LEVEL:-3}

[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a number (got '$WARMUP')"
[[ $JOBS =~ ^[0-9]+$ ]] && ((JOBS >= 2)) || die "JOBS must be a number >= 2 (got '$JOBS'): with 1, dify-dr streams instead of using a temp file"
bench_check
bench_workdir dify-dr-restore-bench
bench_jar
bench_postgres
bench_generate_db

# ---------------------------------------------------------------------------------------------------------------
# the backup that both sides restore
REPO=$WORK/out/repo
DUMP=$WORK/out/file.dump
TEMP_DIR=$WORK/out/restore-tmp   # next to DUMP: the same filesystem
mkdir -p "$TEMP_DIR"
CONFIG=$WORK/bench.yaml
cat >"$CONFIG" <<EOF
deployment: bench
repository: {url: "file://$REPO"}
postgres:
  host: 127.0.0.1
  port: $PG_PORT
  user: postgres
  password: "\${env:PGPW}"
  databases: [$DB]
  binDir: $PG_BIN
compression: {level: $ZSTD_LEVEL}
restore: {jobs: $JOBS, tempDir: "$TEMP_DIR"}
EOF

log "dify-dr backup of '$DB' to file://$REPO (not measured)"
"$ROOT/dify-dr" --config "$CONFIG" --json backup >"$WORK/logs/backup.json" 2>"$WORK/logs/backup.stderr" \
  || { cat "$WORK/logs/backup.stderr" "$WORK/logs/backup.json" >&2; die "dify-dr backup failed"; }
BACKUP_ID=$(jq -r '.id' "$WORK/logs/backup.json")
artifact() { jq -r --arg db "$DB" ".artifacts[] | select(.kind == \"postgres\" and .name == \$db) | .$1" "$WORK/logs/backup.json"; }
ARTIFACT=$REPO/$(artifact path)
PLAIN_BYTES=$(artifact plainBytes)
STORED_BYTES=$(artifact storedBytes)
[[ -f $ARTIFACT ]] || die "backup $BACKUP_ID: artifact $ARTIFACT not found"

log "zstd -dc $(basename "$ARTIFACT") > $DUMP (not measured)"
zstd -dc -q "$ARTIFACT" >"$DUMP"
[[ $(sha256sum "$DUMP" | cut -d' ' -f1) == "$(artifact plainSha256)" ]] \
  || die "file.dump does not match the manifest's plainSha256: the two sides would not restore the same bytes"

# ---------------------------------------------------------------------------------------------------------------
# the runs
BASELINE_DB=${DB}_baseline

drop_db() { psqlq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)"; }

# Every run starts from the same state: no restored copy, no dirty pages waiting for writeback, a fresh checkpoint.
settle() {
  sync
  psqlq -d postgres -c "CHECKPOINT"
}

# A: the drill. Sets LAST_SECONDS (whole process), LAST_STEP (restore-databases), LAST_OTHER, LAST_RSS_KB, LAST_CPU.
run_a() { # $1 = label
  local t0 t1 json=$WORK/logs/drill-$1.json err=$WORK/logs/drill-$1.stderr tv=$WORK/logs/time-drill-$1.txt
  settle
  t0=$(now)
  if ! /usr/bin/time -v -o "$tv" "$ROOT/dify-dr" --config "$CONFIG" drill "$BACKUP_ID" --keep --json >"$json" 2>"$err"; then
    echo "--- stderr of dify-dr drill ($1) ---" >&2
    tail -40 "$err" >&2
    echo "--- report ---" >&2
    jq '{status, failure, steps: [.steps[] | {name, status, seconds, error}], databases}' "$json" >&2 2>/dev/null || cat "$json" >&2
    die "$1: dify-dr drill failed (exit code $(awk -F': ' '/Exit status/ { print $2 }' "$tv"))"
  fi
  t1=$(now)
  [[ $(jq -r '.status' "$json") == passed ]] || die "$1: drill status is $(jq -r '.status' "$json"): $(jq -r '.failure' "$json")"
  # A streamed restore (one pg_restore worker, no temp file) is not the case this benchmark measures.
  local how
  how=$(jq -r '.databases[] | "\(.method), \(.jobs) jobs"' "$json")
  [[ $how == "parallel from a temp file, $JOBS jobs" ]] || die "$1: dify-dr restored '$how', not in parallel from a temp file with $JOBS jobs"
  LAST_SECONDS=$(elapsed "$t0" "$t1")
  LAST_STEP=$(jq '.steps[] | select(.name == "restore-databases") | .seconds' "$json")
  LAST_OTHER=$(jq -r '[.steps[] | select(.name != "restore-databases") | "\(.name) \(.seconds)"] | join(", ")' "$json")
  LAST_RSS_KB=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tv")
  LAST_CPU=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f", u + s }' "$tv")
  local d
  for d in $(jq -r '.databases[].target' "$json"); do drop_db "$d"; done
}

# B: createdb and pg_restore from the local file, as an operator would type them. Sets LAST_SECONDS.
run_b() { # $1 = label
  local t0 t1
  settle
  t0=$(now)
  { "$PG_BIN/createdb" -T template0 "$BASELINE_DB" \
      && "$PG_BIN/pg_restore" -j"$JOBS" --exit-on-error --no-owner -d "$BASELINE_DB" "$DUMP"; } >"$WORK/logs/baseline-$1.log" 2>&1 \
    || { cat "$WORK/logs/baseline-$1.log" >&2; die "$1: createdb && pg_restore failed"; }
  t1=$(now)
  LAST_SECONDS=$(elapsed "$t0" "$t1")
  drop_db "$BASELINE_DB"
}

A_STEP= A_WALL= A_RSS= A_CPU= B_WALL=
for i in $(seq 1 "$WARMUP"); do
  log "warm-up $i/$WARMUP (not measured)"
  run_a "warmup$i-A"; log "  A  step ${LAST_STEP}s  process ${LAST_SECONDS}s"
  run_b "warmup$i-B"; log "  B  ${LAST_SECONDS}s"
done
log "dify-dr drill (A) vs createdb && pg_restore -j$JOBS (B), $RUNS pairs, alternating"
# Other work on the machine skews both sides; the load averages in the summary tell whether there was any.
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for i in $(seq 1 "$RUNS"); do
  run_a "A$i"
  A_STEP+="$LAST_STEP " A_WALL+="$LAST_SECONDS " A_RSS+="$LAST_RSS_KB " A_CPU+="$LAST_CPU "
  log "  A #$i  restore-databases ${LAST_STEP}s  process ${LAST_SECONDS}s  rss $((LAST_RSS_KB / 1024)) MiB  ($LAST_OTHER)"
  run_b "B$i"
  B_WALL+="$LAST_SECONDS "
  log "  B #$i  ${LAST_SECONDS}s"
done

# ---------------------------------------------------------------------------------------------------------------
# summary
step_med=$(echo "$A_STEP" | median)
wall_med=$(echo "$A_WALL" | median)
base_med=$(echo "$B_WALL" | median)
r_step=$(ratio "$step_med" "$base_med")
r_wall=$(ratio "$wall_med" "$base_med")
rss_max=$(echo "$A_RSS" | maxof)
{
  echo
  echo "== dify-dr restore benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)) =="
  echo "database      '$DB': pg_database_size $(human "$DB_BYTES") ($DB_BYTES B), $ROWS_PER_TABLE generated rows each in messages, document_segments, workflow_node_executions (generated in ${GEN_SECONDS}s)"
  echo "dump          backup $BACKUP_ID: $(human "$PLAIN_BYTES") custom-format dump, $(human "$STORED_BYTES") stored with zstd -$ZSTD_LEVEL; file.dump = its plain bytes"
  echo "dify-dr       $(basename "$JAR"), JVM options: $JAVA_OPTS; restore {jobs: $JOBS, tempDir next to file.dump}"
  echo "runs          $RUNS measured pairs, alternating A,B,A,B,...; after $WARMUP unmeasured pair(s); before every run: previous database dropped, sync, CHECKPOINT (not timed)"
  echo "load average  $LOAD_BEFORE before the measured runs, $(cut -d' ' -f1-3 /proc/loadavg) after"
  echo "wall time (median):"
  printf '  %-58s %8ss   runs: %s\n' "A  dify-dr drill: restore-databases step" "$step_med" "${A_STEP% }"
  printf '  %-58s %8ss   runs: %s   (cpu s: %s)\n' "A  dify-dr drill: whole process" "$wall_med" "${A_WALL% }" "${A_CPU% }"
  printf '  %-58s %8ss   runs: %s\n' "B  createdb -T template0 && pg_restore -j$JOBS file.dump" "$base_med" "${B_WALL% }"
  echo "     A's other steps in the last run (s): $LAST_OTHER"
  echo "ratios (median A / median B):"
  echo "  (a) restore-databases step / pg_restore   $r_step   target <= 1.10   $(verdict "$r_step" 1.10)"
  echo "  (b) whole drill process / pg_restore      $r_wall   (JVM start, verification, validation and report included)"
  echo "peak RSS of dify-dr (max over runs, /usr/bin/time -v):"
  echo "  $(awk -v k="$rss_max" 'BEGIN { printf "%.0f", k / 1024 }') MiB     runs (KiB): ${A_RSS% }"
}
