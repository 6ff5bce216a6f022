#!/usr/bin/env bash
# Benchmark: what `dify-dr schedule` costs while it waits, and how late it starts a job.
#
#   idle:    the scheduler with the five shipped schedules (schedules/) and /healthz + /metrics on, started through
#            the ./dify-dr launcher with its default JVM options, left alone for IDLE_SECONDS; its RSS is sampled every
#            second and its peak read from VmHWM at the end.                               target: peak RSS <= 128 MiB
#   latency: a second scheduler with one schedule firing every minute (a `verify latest` of an empty repository: it
#            fails at once, which does not matter here); for FIRES fires, the time from the minute boundary to the
#            start of the job's child process (its start time in /proc, in 10 ms ticks: a start within 10 ms of the
#            boundary may show as a few ms before it).                                       target: <= 1 s
# A shipped schedule that comes due during the idle phase (hourly-redis-backup at :15) runs as a child process and
# fails without a Redis section; the scheduler's own RSS is what is measured.
#
# Usage:   src/bench/schedule-bench.sh
# Env:     IDLE_SECONDS=60    length of the idle phase
#          FIRES=3            fires measured in the latency phase (one a minute)
#          DIFY_DR_JAR=...    use this jar instead of building one
#          BUILD_DIR=target   Maven build directory (-DbuildDir) for the jar
#          DIFY_DR_JAVA_OPTS  JVM options (default: the launcher's, see ./dify-dr)
#          BENCH_TMP=/tmp     where the temp directory goes; KEEP_WORK=1 keeps it (logs)
# Needs: Java 17, Maven (offline-capable local repository), curl, Linux /proc.
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
BENCH_NAME=schedule-bench
# shellcheck source=src/bench/lib.sh
source "$here/lib.sh"
IDLE_SECONDS=${IDLE_SECONDS:-60}
FIRES=${FIRES:-3}
[[ $IDLE_SECONDS =~ ^[0-9]+$ ]] && ((IDLE_SECONDS >= 10)) || die "IDLE_SECONDS must be a number >= 10 (got '$IDLE_SECONDS')"
[[ $FIRES =~ ^[0-9]+$ ]] && ((FIRES >= 1)) || die "FIRES must be a number >= 1 (got '$FIRES')"
command -v java >/dev/null || die "java not found"
command -v curl >/dev/null || die "curl not found (apt-get install -y curl)"

bench_workdir dify-dr-schedule-bench
bench_jar
CLK_TCK=$(getconf CLK_TCK)

config() { # $1 = metrics port
  mkdir -p "$WORK/repo"
  cat >"$WORK/dify-dr.yaml" <<YAML
deployment: bench
repository: {url: "file://$WORK/repo"}
metrics: {port: $1}
schedule: {gracePeriod: 10s}
YAML
}

start_scheduler() { # $1 = schedules directory, $2 = log file; sets SCHED_PID
  "$ROOT/dify-dr" --config "$WORK/dify-dr.yaml" schedule --schedules "$1" >"$2" 2>&1 &
  SCHED_PID=$!
  SERVICE_PIDS+=("$SCHED_PID")
}

await_health() { # $1 = port
  local i
  for i in $(seq 1 300); do
    if curl -fsS "http://127.0.0.1:$1/healthz" >/dev/null 2>&1; then return; fi
    kill -0 "$SCHED_PID" 2>/dev/null || { cat "$WORK/logs/"*.log >&2; die "the scheduler exited"; }
    sleep 0.1
  done
  die "no answer on /healthz after 30 s"
}

stop_scheduler() { # sets STOP_RC, the scheduler's exit code after SIGTERM
  kill -TERM "$SCHED_PID"
  STOP_RC=0
  wait "$SCHED_PID" || STOP_RC=$?
  SERVICE_PIDS=()
}

kib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

# ---------------------------------------------------------------------------------------------------------------
# idle
PORT=$(free_port)
config "$PORT"
log "idle: the scheduler with $(ls "$ROOT"/schedules/*.yaml | wc -l) shipped schedules for ${IDLE_SECONDS}s (JVM options: $DIFY_DR_JAVA_OPTS)"
start_scheduler "$ROOT/schedules" "$WORK/logs/idle.log"
await_health "$PORT"
max_rss=0
for _ in $(seq 1 "$IDLE_SECONDS"); do
  rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$SCHED_PID/status")
  ((rss > max_rss)) && max_rss=$rss
  sleep 1
done
curl -fsS "http://127.0.0.1:$PORT/metrics" >/dev/null || die "/metrics did not answer"
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$SCHED_PID/status")
# the kernel updates RSS counters lazily: a sample can exceed VmHWM by a few hundred KiB
((max_rss > hwm)) && hwm=$max_rss
stop_scheduler
idle_rc=$STOP_RC
[[ $idle_rc == 0 ]] || { cat "$WORK/logs/idle.log" >&2; die "the idle scheduler exited with $idle_rc after SIGTERM"; }

# ---------------------------------------------------------------------------------------------------------------
# fire latency
mkdir -p "$WORK/latency"
cat >"$WORK/latency/every-minute.yaml" <<YAML
name: every-minute
cron: "* * * * *"
job: verify
YAML
PORT=$(free_port)
config "$PORT"
log "latency: $FIRES fires of an every-minute schedule"
start_scheduler "$WORK/latency" "$WORK/logs/latency.log"
await_health "$PORT"
latencies=()
seen=""
while ((${#latencies[@]} < FIRES)); do
  for child in $(pgrep -P "$SCHED_PID" || true); do
    [[ " $seen " == *" $child "* ]] && continue
    seen="$seen $child"
    start_ticks=$(awk '{ print $22 }' "/proc/$child/stat" 2>/dev/null) || continue
    # the boot time in /proc/stat is whole seconds: take it from the uptime read next to the clock instead
    read -r uptime _ </proc/uptime
    lat=$(awk -v now="$EPOCHREALTIME" -v up="$uptime" -v s="$start_ticks" -v hz="$CLK_TCK" \
      'BEGIN { t = now - up + s / hz; m = int(t / 60 + 0.5) * 60; printf "%.3f", t - m }')
    latencies+=("$lat")
    log "  fire $((${#latencies[@]})): child $child started $lat s after the minute"
  done
  sleep 0.02
done
stop_scheduler
latency_rc=$STOP_RC
logged=$(grep -o 'started (fire time [^,]*, [0-9.]*s late' "$WORK/logs/latency.log" | sed 's/.*, //' | tr '\n' ' ')

# ---------------------------------------------------------------------------------------------------------------
echo
echo "dify-dr schedule, $(nproc) cores, JVM options: $DIFY_DR_JAVA_OPTS"
printf '%-44s %s\n' "idle ${IDLE_SECONDS}s, peak RSS (VmHWM, samples)" "$(kib "$hwm")  (target 128 MiB: $(verdict "$hwm" 131072))"
printf '%-44s %s\n' "idle, highest sampled RSS" "$(kib "$max_rss")"
printf '%-44s %s\n' "fire latency (boundary -> child start), max" "$(echo "${latencies[*]}" | maxof) s  (target 1 s: $(verdict "$(echo "${latencies[*]}" | maxof)" 1))"
printf '%-44s %s\n' "fire latency, each" "${latencies[*]}"
printf '%-44s %s\n' "lateness logged by the scheduler" "$logged"
printf '%-44s %s\n' "exit codes after SIGTERM (idle, latency)" "$idle_rc, $latency_rc"
