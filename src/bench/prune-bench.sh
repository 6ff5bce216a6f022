#!/usr/bin/env bash
# Benchmark: `dify-dr prune` over a repository of 1,000 backups in S3 (S3Proxy in its own JVM on this machine).
#
#   plan     = dify-dr prune            (dry run: lists the bucket, reads every manifest and verify record, decides)
#   deletion = dify-dr prune --yes      (the same, then DeleteObjects of everything the plan removes)
#
# Setup, not measured: S3Proxy (dev.difydr.testsupport.S3ProxyMain) on a temp directory, and COUNT hand-made
# backups (dev.difydr.testsupport.SeedBackups): each four small artifacts, a manifest and a passed verify record,
# HOURS_APART hours apart, the newest an hour old. The policy is the product's example (keepLast 3, keepDaily 7,
# keepWeekly 4, keepMonthly 12, minKeep 2), so almost every backup goes. The plan runs RUNS times (median), the
# deletion once (it changes the repository). Both run through the ./dify-dr launcher under /usr/bin/time -v for
# the peak RSS.
# Targets: plan <= 10 s, deletion <= 60 s.
#
# Usage:   src/bench/prune-bench.sh
# Env:     COUNT=1000 HOURS_APART=6, and lib.sh's settings (RUNS, BUILD_DIR, BENCH_TMP, KEEP_WORK, DIFY_DR_JAR,
#          DIFY_DR_JAVA_OPTS)
# Needs: Java 17, Maven (offline-capable local repository), jq, GNU time (/usr/bin/time).
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
BENCH_NAME=prune-bench
SIZE_GB=0
# shellcheck source=src/bench/lib.sh
source "$here/lib.sh"
COUNT=${COUNT:-1000}
HOURS_APART=${HOURS_APART:-6}
BUCKET=dify-dr-bench
[[ $COUNT =~ ^[0-9]+$ ]] && ((COUNT > 0)) || die "COUNT must be a positive number (got '$COUNT')"
[[ $HOURS_APART =~ ^[0-9]+$ ]] && ((HOURS_APART > 0)) || die "HOURS_APART must be a positive number of hours (got '$HOURS_APART')"

bench_check
bench_workdir dify-dr-prune-bench
bench_jar

cpfile=$BUILD_DIR/bench-test-classpath.txt
log "compiling the test classes for S3ProxyMain and SeedBackups into $BUILD_DIR"
mvn_build test-compile dependency:build-classpath -Dmdep.outputFile="$cpfile" >"$WORK/logs/test-compile.log" 2>&1 \
  || { tail -20 "$WORK/logs/test-compile.log" >&2; die "test-compile failed"; }
TEST_CP=$BUILD_DIR/test-classes:$BUILD_DIR/classes:$(cat "$cpfile")

start_s3proxy "$TEST_CP" "$BUCKET"

URL=s3://$BUCKET/dr
CONFIG=$WORK/bench.yaml
cat >"$CONFIG" <<CONF
deployment: bench
repository: {url: "$URL", s3: {endpoint: "$S3_ENDPOINT", region: us-east-1, pathStyle: true, accessKeyId: "\${env:AK}", secretAccessKey: "\${env:SK}"}}
retention: {keepLast: 3, keepDaily: 7, keepWeekly: 4, keepMonthly: 12, minKeep: 2}
CONF

t0=$(now)
java -cp "$TEST_CP" dev.difydr.testsupport.SeedBackups "$S3_ENDPOINT" "$URL" bench "$COUNT" "$HOURS_APART" \
  >"$WORK/logs/seed.out" 2>"$WORK/logs/seed.log" || { cat "$WORK/logs/seed.log" >&2; die "seeding failed"; }
log "seeded $COUNT backups in $(elapsed "$t0" "$(now)") s"

run_prune() { # $1 = label, then prune's arguments; sets LAST_SECONDS, LAST_RSS_KB
  local label=$1 t0 t1 tv=$WORK/logs/time-$1.txt
  shift
  t0=$(now)
  /usr/bin/time -v -o "$tv" "$ROOT/dify-dr" --config "$CONFIG" --json prune "$@" >"$WORK/logs/$label.json" 2>"$WORK/logs/$label.stderr" \
    || { cat "$WORK/logs/$label.stderr" >&2; die "$label: dify-dr prune failed"; }
  t1=$(now)
  LAST_SECONDS=$(elapsed "$t0" "$t1")
  LAST_RSS_KB=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tv")
}

PLAN_S=() PLAN_RSS=()
for i in $(seq 1 "$RUNS"); do
  run_prune "plan-$i"
  PLAN_S+=("$LAST_SECONDS") PLAN_RSS+=("$LAST_RSS_KB")
  log "plan $i: ${LAST_SECONDS} s, peak RSS $((LAST_RSS_KB / 1024)) MiB"
done
BACKUPS=$(jq '.backups | length' "$WORK/logs/plan-1.json")
REMOVE=$(jq '.removed' "$WORK/logs/plan-1.json")
KEPT=$(jq '.kept' "$WORK/logs/plan-1.json")
((BACKUPS == COUNT)) || die "the plan lists $BACKUPS backups, not $COUNT"

run_prune deletion --yes
DEL_S=$LAST_SECONDS DEL_RSS=$LAST_RSS_KB
log "deletion: ${DEL_S} s, peak RSS $((DEL_RSS / 1024)) MiB"
LEFT=$("$ROOT/dify-dr" --config "$CONFIG" --json list --all 2>/dev/null | jq '.backups | length')
((LEFT == KEPT)) || die "after prune --yes the repository lists $LEFT backups, the plan kept $KEPT"

PLAN_MEDIAN=$(echo "${PLAN_S[*]}" | median)
PLAN_RSS_MAX=$(echo "${PLAN_RSS[*]}" | maxof)
echo
echo "prune-bench: $COUNT backups ${HOURS_APART} h apart in $URL on S3Proxy; $KEPT kept, $REMOVE removed"
printf '  plan      (prune)        median %7.3f s of %s runs [%s]  peak RSS %d MiB   target <= 10 s: %s\n' \
  "$PLAN_MEDIAN" "$RUNS" "${PLAN_S[*]}" $((PLAN_RSS_MAX / 1024)) "$(verdict "$PLAN_MEDIAN" 10)"
printf '  deletion  (prune --yes)         %7.3f s                     peak RSS %d MiB   target <= 60 s: %s\n' \
  "$DEL_S" $((DEL_RSS / 1024)) "$(verdict "$DEL_S" 60)"
