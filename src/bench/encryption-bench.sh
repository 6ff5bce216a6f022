#!/usr/bin/env bash
# Benchmark: what encryption at rest costs. The same database is backed up, verified and restored by dify-dr twice
# over, once with a plain repository and once with an encrypted one:
#
#   P = dify-dr with no `encryption` block: artifacts are zstd frames, stored in the clear
#   E = dify-dr with `encryption: {keyset: "${file:KEYSET}"}`: the zstd frames are encrypted with Tink streaming AEAD
#       (AES256_GCM_HKDF_1MB) on their way to the store, and decrypted on their way back
#
# Both repositories are file:// repositories in the same directory, both configurations are identical but for the
# `encryption` block; the keyset is generated for this run (a 0600 file in the temp directory, written by a few lines
# of Java run against the jar: dev.difydr.crypto.KeysetFile of a new Keyring.generate() keyset).
#
# Setup, not measured: the throwaway PostgreSQL 15 and the Dify-shaped database `dify` of lib.sh (SIZE_GB GiB; see
# backup-bench.sh for what its rows look like) and the keyset.
#
# Three phases, each WARMUP unmeasured pairs and then RUNS measured pairs, alternating P E P E ... so that drift
# (page cache, neighbours) hits both sides alike. Before every run, not timed: `sync` and a CHECKPOINT, so that no run
# pays for the writeback of the one before. dify-dr runs under /usr/bin/time -v for its wall time, CPU time and peak
# RSS ("Maximum resident set size"; its pg_dump / pg_restore children are far smaller and not counted).
#   1. backup:               dify-dr backup; the repository is emptied before each run, so the last backup of each
#                            side stays for phases 2 and 3.
#   2. verify --read-data:   dify-dr verify ID --read-data of that backup: every stored byte read back, hashed,
#                            decrypted (E) and decompressed, the plain bytes hashed. The artifact is in the page cache.
#   3. restore:              dify-dr drill ID --keep, as in restore-bench.sh: a scratch database restored with
#                            pg_restore --jobs=JOBS from a temp file the artifact is decrypted (E) and decompressed
#                            into, then validated; the scratch database is dropped by this script, not timed.
#                            The ratio is taken on the drill's restore-databases step and on the whole process;
#                            the part of the step before pg_restore starts (dify-dr's log line "decompressed into
#                            ... in N s") is shown too: encryption changes nothing in what pg_restore does.
#   ratio = median(E) / median(P) of the whole process's wall time       target <= 1.05 for each phase
#   peak RSS: max over the runs of each side; E - P                       target <= 16 MiB
# The ratio of the median CPU times (user + system of the dify-dr process) is printed too: on a shared machine the
# wall times of a CPU-bound backup swing by tens of percent with other load, its CPU time much less.
#
# Usage:   src/bench/encryption-bench.sh [SIZE_GB]
# Env:     SIZE_GB=2          database size in GiB (decimals allowed: 0.5 for a quicker run, 0.1 for a smoke test)
#          RUNS=3             measured pairs per phase (at least 3)
#          WARMUP=1           unmeasured pairs before them, per phase
#          JOBS=2             restore.jobs of the drill (2 or more: restore from a temp file, as restore-bench.sh)
#          ZSTD_LEVEL=3       compression.level of both sides
#          PHASES="backup verify restore"   which phases to run (backup always runs once per side for the others)
#          DIFY_DR_JAR=...    use this jar instead of building one
#          BUILD_DIR=target   Maven build directory (-DbuildDir) for the jar
#          DIFY_DR_JAVA_OPTS  JVM options for dify-dr (default: the launcher's, see ./dify-dr)
#          BENCH_TMP=/tmp     where the temp directory goes (needs ~2x SIZE_GB free: the database, two repositories,
#                             the drill's temp file and one restored copy)
#          KEEP_WORK=1        keep the temp directory (server log, run logs, reports) after the run
# Needs: PostgreSQL 15 binaries (/usr/lib/postgresql/15/bin), zstd, jq, GNU time (/usr/bin/time), Java 17, Maven
# (offline-capable local repository). Run as root (the server then runs as user postgres) or as a normal user.
set -euo pipefail

# ---------------------------------------------------------------------------------------------------------------
# settings (lib.sh holds the shared ones, the server and the database generator)
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
BENCH_NAME=encryption-bench
SIZE_GB=${1:-${SIZE_GB:-2}}
# shellcheck source=src/bench/lib.sh
source "$here/lib.sh"
WARMUP=${WARMUP:-1}
JOBS=${JOBS:-2}
ZSTD_LEVEL=${ZSTD_LEVEL:-3}
PHASES=${PHASES:-backup verify restore}

[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a number (got '$WARMUP')"
[[ $JOBS =~ ^[0-9]+$ ]] && ((JOBS >= 2)) || die "JOBS must be a number >= 2 (got '$JOBS')"
for p in $PHASES; do [[ $p =~ ^(backup|verify|restore)$ ]] || die "PHASES: unknown phase '$p' (backup, verify, restore)"; done
phase_on() { [[ " $PHASES " == *" $1 "* ]]; }
bench_check
bench_workdir dify-dr-encryption-bench
bench_jar
bench_postgres
bench_generate_db

# ---------------------------------------------------------------------------------------------------------------
# the keyset and the two configurations
KEYSET=$WORK/keyset.json
log "generating a keyset in $KEYSET"
java -jar "$JAR" keys generate --out "$KEYSET" >"$WORK/logs/keyset.log" 2>&1 || { cat "$WORK/logs/keyset.log" >&2; die "cannot generate a keyset"; }

TEMP_DIR=$WORK/out/restore-tmp
mkdir -p "$TEMP_DIR"
declare -A CONFIG REPO
REPO[P]=$WORK/out/repo-plain
REPO[E]=$WORK/out/repo-encrypted
write_config() { # $1 = side, $2 = extra lines
  CONFIG[$1]=$WORK/$1.yaml
  cat >"${CONFIG[$1]}" <<EOF
deployment: bench
repository: {url: "file://${REPO[$1]}"}
postgres:
  host: 127.0.0.1
  port: $PG_PORT
  user: postgres
  password: "\${env:PGPW}"
  databases: [$DB]
  binDir: $PG_BIN
compression: {level: $ZSTD_LEVEL}
restore: {jobs: $JOBS, tempDir: "$TEMP_DIR"}
$2
EOF
}
write_config P ""
write_config E "encryption: {keyset: \"\${file:$KEYSET}\"}"
declare -A LABEL=([P]="plain" [E]="encrypted")

# ---------------------------------------------------------------------------------------------------------------
# the runs
drop_db() { psqlq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)"; }
settle() {
  sync
  psqlq -d postgres -c "CHECKPOINT"
}

# Runs dify-dr for side $1 with the arguments after $2 (the run's name), under /usr/bin/time -v, with --json.
# Sets LAST_SECONDS, LAST_RSS_KB, LAST_CPU; the report is in $WORK/logs/$2.json.
dify_dr() { # $1 = side, $2 = run name, $3... = command
  local side=$1 name=$2 t0 t1 tv=$WORK/logs/time-$2.txt
  shift 2
  settle
  t0=$(now)
  if ! /usr/bin/time -v -o "$tv" "$ROOT/dify-dr" --config "${CONFIG[$side]}" --json "$@" >"$WORK/logs/$name.json" 2>"$WORK/logs/$name.stderr"; then
    echo "--- stderr of dify-dr $* ($name) ---" >&2
    tail -40 "$WORK/logs/$name.stderr" >&2
    echo "--- report ---" >&2
    head -c 4000 "$WORK/logs/$name.json" >&2
    die "$name: dify-dr $1 failed (exit code $(awk -F': ' '/Exit status/ { print $2 }' "$tv"))"
  fi
  t1=$(now)
  LAST_SECONDS=$(elapsed "$t0" "$t1")
  LAST_RSS_KB=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tv")
  LAST_CPU=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f", u + s }' "$tv")
}

declare -A SECS CPUS RSS INNER DECOMPRESS BACKUP_ID STORED PLAIN
record() { # $1 = series
  SECS[$1]+="$LAST_SECONDS "
  CPUS[$1]+="$LAST_CPU "
  RSS[$1]+="$LAST_RSS_KB "
  INNER[$1]+="${LAST_INNER:-} "
  DECOMPRESS[$1]+="${LAST_DECOMPRESS:-} "
  LAST_INNER= LAST_DECOMPRESS=
}

run_backup() { # $1 = side, $2 = run name
  rm -rf "${REPO[$1]}"
  dify_dr "$1" "$2" backup
  local json=$WORK/logs/$2.json
  BACKUP_ID[$1]=$(jq -r '.id' "$json")
  STORED[$1]=$(jq '[.artifacts[].storedBytes] | add' "$json")
  PLAIN[$1]=$(jq '[.artifacts[].plainBytes] | add' "$json")
  LAST_INNER=$(jq '.durationSeconds' "$json")
  local enc
  enc=$(jq -r '[.artifacts[].encryption // "none"] | unique | join(",")' "$json")
  if [[ $1 == E ]]; then
    [[ $enc == AES256_GCM_HKDF_1MB ]] || die "$2: the encrypted side stored artifacts with encryption '$enc'"
  else
    [[ $enc == none ]] || die "$2: the plain side stored artifacts with encryption '$enc'"
  fi
}

run_verify() { # $1 = side, $2 = run name
  dify_dr "$1" "$2" verify "${BACKUP_ID[$1]}" --read-data
  [[ $(jq -r '.status' "$WORK/logs/$2.json") == ok ]] || die "$2: verify status is $(jq -r '.status' "$WORK/logs/$2.json")"
  LAST_INNER=
}

run_restore() { # $1 = side, $2 = run name
  dify_dr "$1" "$2" drill "${BACKUP_ID[$1]}" --keep
  local json=$WORK/logs/$2.json d how
  [[ $(jq -r '.status' "$json") == passed ]] || die "$2: drill status is $(jq -r '.status' "$json"): $(jq -r '.failure' "$json")"
  how=$(jq -r '.databases[] | "\(.method), \(.jobs) jobs"' "$json")
  [[ $how == "parallel from a temp file, $JOBS jobs" ]] || die "$2: dify-dr restored '$how', not in parallel from a temp file with $JOBS jobs"
  LAST_INNER=$(jq '.steps[] | select(.name == "restore-databases") | .seconds' "$json")
  # dify-dr's own part of that step, before pg_restore starts: reading, decrypting and decompressing into the temp file
  LAST_DECOMPRESS=$(sed -nE 's/.* decompressed into .* in ([0-9.]+) s; pg_restore .*/\1/p' "$WORK/logs/$2.stderr" | head -1)
  for d in $(jq -r '.databases[].target' "$json"); do drop_db "$d"; done
}

phase() { # $1 = phase (backup, verify, restore)
  local i s
  for i in $(seq 1 "$WARMUP"); do
    log "$1: warm-up pair $i/$WARMUP (not measured)"
    for s in P E; do
      "run_$1" "$s" "$1-warmup$i-$s"
      log "  ${LABEL[$s]}  ${LAST_SECONDS}s  rss $((LAST_RSS_KB / 1024)) MiB"
    done
  done
  log "$1: plain (P) vs encrypted (E), $RUNS pairs, alternating"
  for i in $(seq 1 "$RUNS"); do
    for s in P E; do
      "run_$1" "$s" "$1-$i-$s"
      record "$1-$s"
      log "  ${LABEL[$s]} #$i  ${LAST_SECONDS}s  cpu ${LAST_CPU}s  rss $((LAST_RSS_KB / 1024)) MiB"
    done
  done
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
if phase_on backup; then
  phase backup
else
  log "backup: one of each side for the other phases (not measured)"
  run_backup P setup-P
  run_backup E setup-E
fi
if phase_on verify; then phase verify; fi
if phase_on restore; then phase restore; fi
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------------------------------------------
# summary
med() { echo "${SECS[$1]}" | median; }
rss_mib() { echo "${RSS[$1]}" | maxof | awk '{ printf "%.0f", $1 / 1024 }'; }
row() { # series, label
  printf '  %-44s %8ss   runs: %s   (cpu s: %s; peak RSS %s MiB)\n' "$2" "$(med "$1")" "${SECS[$1]% }" "${CPUS[$1]% }" "$(rss_mib "$1")"
}
summary() { # phase, description, target
  local p=$1 r d rin
  echo "$2:"
  row "$p-P" "P  plain"
  row "$p-E" "E  encrypted"
  if [[ -n ${INNER[$p-P]// /} ]]; then
    local what=durationSeconds
    [[ $p == restore ]] && what="restore-databases step"
    echo "     $what (no JVM start/exit): plain $(echo "${INNER[$p-P]}" | median)s (${INNER[$p-P]% }), encrypted $(echo "${INNER[$p-E]}" | median)s (${INNER[$p-E]% })"
    rin=$(ratio "$(echo "${INNER[$p-E]}" | median)" "$(echo "${INNER[$p-P]}" | median)")
  fi
  r=$(ratio "$(med "$p-E")" "$(med "$p-P")")
  rc=$(ratio "$(echo "${CPUS[$p-E]}" | median)" "$(echo "${CPUS[$p-P]}" | median)")
  d=$(( $(rss_mib "$p-E") - $(rss_mib "$p-P") ))
  echo "  ratio E/P of the medians, wall time (whole process)   $r   target <= $3   $(verdict "$r" "$3")"
  if [[ -n ${rin:-} ]]; then echo "  ratio E/P of the medians, $what   $rin"; fi
  if [[ -n ${DECOMPRESS[$p-P]// /} ]]; then
    echo "     of which read, decrypt (E) and decompress into the temp file, before pg_restore: plain $(echo "${DECOMPRESS[$p-P]}" | median)s (${DECOMPRESS[$p-P]% }), encrypted $(echo "${DECOMPRESS[$p-E]}" | median)s (${DECOMPRESS[$p-E]% })"
    echo "  ratio E/P of the medians, temp file written   $(ratio "$(echo "${DECOMPRESS[$p-E]}" | median)" "$(echo "${DECOMPRESS[$p-P]}" | median)")   (dify-dr's own part of the restore; pg_restore's is the same bytes on both sides)"
  fi
  echo "  ratio E/P of the medians, CPU time of dify-dr   $rc   (for information: less sensitive to other load on the machine)"
  echo "  peak RSS E - P   $d MiB   target <= 16   $(verdict "$d" 16)"
}
{
  echo
  echo "== dify-dr encryption benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)) =="
  echo "database      '$DB': pg_database_size $(human "$DB_BYTES") ($DB_BYTES B), $ROWS_PER_TABLE generated rows each in messages, document_segments, workflow_node_executions (generated in ${GEN_SECONDS}s)"
  echo "backup        pg_dump -Fc -Z0: $(human "${PLAIN[P]}"); stored with zstd -$ZSTD_LEVEL: $(human "${STORED[P]}") plain, $(human "${STORED[E]}") encrypted (AES256_GCM_HKDF_1MB, +$(( STORED[E] - STORED[P] )) B)"
  echo "dify-dr       $(basename "$JAR"), JVM options: $JAVA_OPTS; compression {level: $ZSTD_LEVEL}; restore {jobs: $JOBS}"
  echo "runs          $RUNS measured pairs per phase, alternating P,E,P,E,...; after $WARMUP unmeasured pair(s); before every run: sync, CHECKPOINT (not timed)"
  echo "load average  $LOAD_BEFORE before the runs, $LOAD_AFTER after"
  echo "wall time (median):"
  if phase_on backup; then summary backup "1. backup" 1.05; fi
  if phase_on verify; then summary verify "2. verify --read-data" 1.05; fi
  if phase_on restore; then summary restore "3. restore (drill --keep, pg_restore -j$JOBS from a temp file)" 1.05; fi
}
