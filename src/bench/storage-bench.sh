#!/usr/bin/env bash
# Benchmark: `dify-dr backup --only storage` of a directory next to the shell pipeline it replaces.
#
#   A = tar -cf - -C DIR . | zstd -<level> -T0 -q > file
#   B = dify-dr backup --only storage to a file:// repository, storage [{name: app, path: DIR}]
#
# DIR is generated once, shaped like Dify's upload storage: SIZE_GB GiB in FILES files under upload_files/<tenant>/,
# image_files/ and privkeys/ (sizes mostly small, exponential around a few tens of KiB, plus a few large files); about
# 70% of the bytes are text made of a ~300-word vocabulary with numbers (compresses ~3-4x), 30% random bytes (does
# not compress), like user uploads of documents and images. The page cache is warm for both sides: the warm-up pair
# reads everything once, nothing is dropped between runs (`sync` only, so that writeback of one run does not land in
# the next).
# Measurements alternate A B A B ... (RUNS pairs) after one unmeasured pair. dify-dr runs under /usr/bin/time -v for
# its peak RSS. Targets: median(B) / median(A) <= 1.10, peak RSS <= 256 MiB.
#
# Usage:   src/bench/storage-bench.sh [SIZE_GB]
# Env:     SIZE_GB=1          storage size in GiB (decimals allowed, e.g. 0.1 for a quick try)
#          FILES=20000        number of files
#          RUNS=3             measured runs of each side (at least 3)
#          ZSTD_LEVEL=3       zstd level of both sides (dify-dr: compression.level)
#          DIFY_DR_JAR=...    use this jar instead of building one
#          BUILD_DIR=target   Maven build directory (-DbuildDir) for the jar
#          DIFY_DR_JAVA_OPTS  JVM options for dify-dr (default: the launcher's, see ./dify-dr)
#          BENCH_TMP=/tmp     where the temp directory goes (needs ~2.5x SIZE_GB free)
#          KEEP_WORK=1        keep the temp directory after the run
#          A_SYNC=1           end A with `sync FILE`, as durable as dify-dr (whose file store fsyncs before the
#                             rename); default 0: A is the plain pipeline, without fsync
#          A_HASH=1           A also computes what dify-dr records: sha256sum of the tar stream and of the compressed
#                             stream (tee into two sha256sum through fifos); default 0
# Needs: GNU tar, zstd, jq, python3 (the generator), GNU time (/usr/bin/time), Java 17, Maven (offline-capable local
# repository). No PostgreSQL.
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
BENCH_NAME=storage-bench
SIZE_GB=${1:-${SIZE_GB:-1}}
# shellcheck source=src/bench/lib.sh
source "$here/lib.sh"
FILES=${FILES:-20000}
ZSTD_LEVEL=${ZSTD_LEVEL:-3}
A_SYNC=${A_SYNC:-0}
A_HASH=${A_HASH:-0}

[[ $RUNS =~ ^[0-9]+$ ]] && ((RUNS >= 3)) || die "RUNS must be a number >= 3 (got '$RUNS')"
[[ $SIZE_GB =~ ^[0-9]+([.][0-9]+)?$ ]] || die "SIZE_GB must be a number of GiB (got '$SIZE_GB')"
[[ $FILES =~ ^[0-9]+$ ]] && ((FILES >= 100)) || die "FILES must be a number >= 100 (got '$FILES')"
for tool in zstd jq python3 java; do command -v "$tool" >/dev/null || die "$tool not found"; done
tar --version 2>/dev/null | grep -q 'GNU tar' || die "GNU tar not found"
[[ -x /usr/bin/time ]] || die "GNU time not found at /usr/bin/time (apt-get install -y time)"
TARGET_BYTES=$(awk -v g="$SIZE_GB" 'BEGIN { printf "%.0f", g * 1073741824 }')

bench_workdir dify-dr-storage-bench
bench_jar
DIR=$WORK/storage

# ---------------------------------------------------------------------------------------------------------------
# the storage
log "generating $(human "$TARGET_BYTES") in $FILES files under $DIR"
gen_t0=$(now)
python3 - "$DIR" "$TARGET_BYTES" "$FILES" <<'PY'
import os, random, sys, uuid
root, total, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(20240601)
words = ("the a of to and in is that for it on with as this be are by or from at your can not have will we which if "
         "user assistant model prompt token context answer question query response message conversation workflow node "
         "dataset document segment chunk embedding vector retrieval index search rerank score knowledge file upload "
         "image text summary application agent tool plugin provider api key endpoint server database table row error "
         "status completed running version release deployment customer order product price invoice payment report "
         "关于 我们 用户 问题 回答 知识库 文档 模型 工作流 应用 数据 分析 报告").split()
# one pool of text and one of random bytes; files are slices of them at random offsets
pool_size = 48 << 20
parts, n = [], 0
while n < pool_size:
    line = " ".join(rnd.choice(words) for _ in range(rnd.randint(6, 18)))
    line += " %d %.2f%% #%05x\n" % (rnd.randint(0, 99999), rnd.random() * 100, rnd.getrandbits(20))
    b = line.encode()
    parts.append(b)
    n += len(b)
text = b"".join(parts)[:pool_size]
noise = os.urandom(pool_size)
big = max(1, files // 200)                  # 0.5% large files hold about half of the bytes
small_mean = (total / 2) / (files - big)
big_mean = (total / 2) / big
tenants = [str(uuid.UUID(int=rnd.getrandbits(128), version=4)) for _ in range(8)]
for t in tenants:
    os.makedirs(os.path.join(root, "privkeys", t), exist_ok=True)
    with open(os.path.join(root, "privkeys", t, "private.pem"), "wb") as f:
        f.write(b"-----BEGIN RSA PRIVATE KEY-----\n" + os.urandom(1200).hex().encode() + b"\n-----END RSA PRIVATE KEY-----\n")
written = 0
for i in range(files):
    size = int(rnd.expovariate(1 / (big_mean if i % (files // big) == 0 else small_mean)))
    size = max(0, min(size, total - written, pool_size))
    kind = "text" if rnd.random() < 0.7 else "bin"
    src = text if kind == "text" else noise
    off = rnd.randint(0, pool_size - size)
    d = os.path.join(root, "upload_files" if kind == "text" else "image_files", rnd.choice(tenants), "%02x" % (i % 64))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "%s.%s" % (uuid.UUID(int=rnd.getrandbits(128), version=4), "txt" if kind == "text" else "png")), "wb") as f:
        f.write(src[off:off + size])
    written += size
print(written)
PY
GEN_SECONDS=$(elapsed "$gen_t0" "$(now)")
DIR_BYTES=$(du -sb "$DIR" | awk '{ print $1 }')
DIR_FILES=$(find "$DIR" -type f | wc -l)
log "generated $DIR_FILES files, $(human "$DIR_BYTES") in ${GEN_SECONDS}s"

REPO=$WORK/out/repo
cat >"$WORK/storage.yaml" <<EOF
deployment: bench
repository: {url: "file://$REPO"}
compression: {level: $ZSTD_LEVEL}
storage:
  - {name: app, path: "$DIR"}
EOF

# ---------------------------------------------------------------------------------------------------------------
# the runs
run_a() { # sets LAST_SECONDS, LAST_STORED, LAST_CPU
  local out=$WORK/out/a.tar.zst t0 t1
  t0=$(now)
  /usr/bin/time -f '%U %S' -o "$WORK/logs/time-a.txt" bash -c 'set -o pipefail
    if [[ $4 == 1 ]]; then
      rm -f "$2.p" "$2.s"; mkfifo "$2.p" "$2.s"
      sha256sum <"$2.p" >"$2.plain.sha256" & sha256sum <"$2.s" >"$2.sha256" &
      tar -cf - -C "$0" . | tee "$2.p" | zstd "-$1" -T0 -q | tee "$2.s" >"$2"
      wait; rm -f "$2.p" "$2.s" "$2.plain.sha256" "$2.sha256"
    else
      tar -cf - -C "$0" . | zstd "-$1" -T0 -q >"$2"
    fi
    if [[ $3 == 1 ]]; then sync "$2"; fi' "$DIR" "$ZSTD_LEVEL" "$out" "$A_SYNC" "$A_HASH" || die "tar | zstd failed"
  t1=$(now)
  LAST_SECONDS=$(elapsed "$t0" "$t1")
  LAST_STORED=$(stat -c %s "$out")
  LAST_CPU=$(awk '{ printf "%.2f", $1 + $2 }' "$WORK/logs/time-a.txt")
  rm -f "$out"
}

run_b() { # sets LAST_SECONDS, LAST_STORED, LAST_CPU, LAST_RSS_KB
  local t0 t1 json=$WORK/logs/b.json
  t0=$(now)
  /usr/bin/time -v -o "$WORK/logs/time-b.txt" "$ROOT/dify-dr" --config "$WORK/storage.yaml" --json backup --only storage \
    >"$json" 2>"$WORK/logs/b.stderr" || { cat "$WORK/logs/b.stderr" "$json" >&2; die "dify-dr backup failed"; }
  t1=$(now)
  LAST_SECONDS=$(elapsed "$t0" "$t1")
  LAST_STORED=$(jq '[.artifacts[].storedBytes] | add' "$json")
  LAST_RSS_KB=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/logs/time-b.txt")
  LAST_CPU=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f", u + s }' "$WORK/logs/time-b.txt")
  rm -rf "$REPO"
}

declare -A SECS=([A]="" [B]="") CPUS=([A]="" [B]="") STORED=([A]="" [B]="")
RSS=""
log "warm-up pair (unmeasured)"
sync; run_a
sync; run_b
for i in $(seq 1 "$RUNS"); do
  sync; run_a
  SECS[A]+="$LAST_SECONDS "; CPUS[A]+="$LAST_CPU "; STORED[A]=$LAST_STORED
  log "run $i A: ${LAST_SECONDS}s (cpu ${LAST_CPU}s) $(human "$LAST_STORED")"
  sync; run_b
  SECS[B]+="$LAST_SECONDS "; CPUS[B]+="$LAST_CPU "; STORED[B]=$LAST_STORED; RSS+="$LAST_RSS_KB "
  log "run $i B: ${LAST_SECONDS}s (cpu ${LAST_CPU}s) $(human "$LAST_STORED"), peak RSS $((LAST_RSS_KB / 1024)) MiB"
done

# ---------------------------------------------------------------------------------------------------------------
# the report
ma=$(echo "${SECS[A]}" | median)
mb=$(echo "${SECS[B]}" | median)
rb=$(ratio "$mb" "$ma")
rss_kb=$(echo "$RSS" | maxof)
rss_mib=$((rss_kb / 1024))
echo
echo "storage-bench: $DIR_FILES files, $(human "$DIR_BYTES") (generated in ${GEN_SECONDS}s), zstd -$ZSTD_LEVEL, $(nproc) cores, $RUNS runs each"
echo "wall time (median):"
printf '  %-40s %8ss   runs: %s   (cpu s: %s)   stored %s\n' "A  tar |$([[ $A_HASH == 1 ]] && echo ' sha256 |') zstd -$ZSTD_LEVEL -T0$([[ $A_HASH == 1 ]] && echo ' | sha256')$([[ $A_SYNC == 1 ]] && echo ' ; sync')" "$ma" "${SECS[A]% }" "${CPUS[A]% }" "$(human "${STORED[A]}")"
printf '  %-40s %8ss   runs: %s   (cpu s: %s)   stored %s\n' "B  dify-dr backup --only storage" "$mb" "${SECS[B]% }" "${CPUS[B]% }" "$(human "${STORED[B]}")"
echo "ratio median(B) / median(A): $rb   (target <= 1.10: $(verdict "$rb" 1.10))"
echo "peak RSS of dify-dr: ${rss_mib} MiB   (target <= 256 MiB: $(verdict "$rss_mib" 256))"
