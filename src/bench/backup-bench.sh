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
# settings
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
ROOT=$(cd "$here/../.." && pwd)
SIZE_GB=${1:-${SIZE_GB:-1}}
RUNS=${RUNS:-3}
ZSTD_LEVEL=${ZSTD_LEVEL:-3}
ZSTD_WORKERS=${ZSTD_WORKERS:-0}
BUILD_DIR=${BUILD_DIR:-$ROOT/target}
SKIP_S3=${SKIP_S3:-0}
BENCH_TMP=${BENCH_TMP:-${TMPDIR:-/tmp}}
KEEP_WORK=${KEEP_WORK:-0}
A_SYNC=${A_SYNC:-0}
S3_WARMUPS=${S3_WARMUPS:-3}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
DB=dify
BUCKET=dify-dr-bench

die() { echo "backup-bench: $*" >&2; exit 1; }
log() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

[[ $RUNS =~ ^[0-9]+$ ]] && ((RUNS >= 3)) || die "RUNS must be a number >= 3 (got '$RUNS')"
[[ $SIZE_GB =~ ^[0-9]+([.][0-9]+)?$ ]] || die "SIZE_GB must be a number of GiB (got '$SIZE_GB')"
[[ -x $PG_BIN/postgres ]] || die "PostgreSQL binaries not found in $PG_BIN (set PG_BIN)"
command -v zstd >/dev/null || die "zstd not found (apt-get install -y zstd)"
[[ -x /usr/bin/time ]] || die "GNU time not found at /usr/bin/time (apt-get install -y time)"
command -v java >/dev/null || die "java not found"
command -v jq >/dev/null || die "jq not found (apt-get install -y jq)"
TARGET_BYTES=$(awk -v g="$SIZE_GB" 'BEGIN { printf "%.0f", g * 1073741824 }')  # %d overflows at 2^31 in mawk

# ---------------------------------------------------------------------------------------------------------------
# cleanup of everything this script starts
WORK=
PG_DATA=
S3_PID=
BG_PIDS=()

as_pg() {
  if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  local pid
  for pid in "${BG_PIDS[@]}"; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  if [[ -n $S3_PID ]]; then
    kill "$S3_PID" 2>/dev/null
    wait "$S3_PID" 2>/dev/null
  fi
  if [[ -n $PG_DATA && -f $PG_DATA/postmaster.pid ]]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1
  fi
  if [[ -n $WORK && -d $WORK ]]; then
    if [[ $KEEP_WORK == 1 ]]; then
      echo "backup-bench: kept $WORK" >&2
    else
      rm -rf "$WORK"
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

WORK=$(mktemp -d "$BENCH_TMP/dify-dr-bench.XXXXXX")
chmod 755 "$WORK"
mkdir -p "$WORK/pg" "$WORK/sql" "$WORK/out" "$WORK/logs"

# ---------------------------------------------------------------------------------------------------------------
# the jar (and, for S3, the test classpath with S3ProxyMain)
mvn_build() { (cd "$ROOT" && mvn -o -q -DbuildDir="$BUILD_DIR" "$@"); }

if [[ -n ${DIFY_DR_JAR:-} ]]; then
  JAR=$DIFY_DR_JAR
  [[ -f $JAR ]] || die "DIFY_DR_JAR=$JAR does not exist"
else
  JAR=$BUILD_DIR/dify-dr.jar
  if [[ ! -f $JAR ]] || [[ -n $(find "$ROOT/pom.xml" "$ROOT/src/main" -newer "$JAR" -print -quit) ]]; then
    log "building $JAR"
    mvn_build package -DskipTests >"$WORK/logs/build.log" 2>&1 || { cat "$WORK/logs/build.log" >&2; die "build failed"; }
  fi
fi
JAVA_OPTS=${DIFY_DR_JAVA_OPTS:--Xms32m -Xmx160m -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError}
export DIFY_DR_JAR=$JAR DIFY_DR_JAVA_OPTS=$JAVA_OPTS

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

# ---------------------------------------------------------------------------------------------------------------
# PostgreSQL
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  die "no free port found"
}

PGPW=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
export PGPW
[[ $(id -u) == 0 ]] && chown postgres:postgres "$WORK/pg"
printf '%s\n' "$PGPW" >"$WORK/pg/pwfile"
[[ $(id -u) == 0 ]] && chown postgres:postgres "$WORK/pg/pwfile"
PG_DATA=$WORK/pg/data
log "initdb in $PG_DATA"
as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --pwfile="$WORK/pg/pwfile" --auth-local=trust \
  --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync >"$WORK/logs/initdb.log" 2>&1 \
  || { cat "$WORK/logs/initdb.log" >&2; die "initdb failed"; }
for attempt in 1 2 3 4 5; do
  PG_PORT=$(free_port)
  if as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$WORK/pg/server.log" -w -t 60 start -o "-p $PG_PORT -k $WORK/pg \
      -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
      -c shared_buffers=512MB -c work_mem=64MB -c maintenance_work_mem=512MB -c max_wal_size=16GB \
      -c checkpoint_timeout=1h -c autovacuum=off -c max_parallel_workers_per_gather=0" >/dev/null 2>&1; then
    break
  fi
  ((attempt < 5)) || { cat "$WORK/pg/server.log" >&2; die "PostgreSQL did not start"; }
done
log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"

export PGHOST=127.0.0.1 PGPORT=$PG_PORT PGUSER=postgres PGPASSWORD=$PGPW
psqlq() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
dbsize() { "$PG_BIN/psql" -X -tA -d "$DB" -c "SELECT pg_database_size(current_database())"; }
human() { awk -v b="$1" 'BEGIN { split("B KiB MiB GiB TiB", u); i = 1; while (b >= 1024 && i < 5) { b /= 1024; i++ }
  if (i == 1) printf "%d B", b; else printf "%.2f %s", b, u[i] }'; }

# ---------------------------------------------------------------------------------------------------------------
# the Dify-shaped database
cat >"$WORK/sql/setup.sql" <<'EOF'
-- Generator helpers, dropped before any measurement: a vocabulary, a pool of phrases, and para(seed, n, pool) that
-- strings n pseudo-random phrases together with numbers, percentages and short hex ids between them.
CREATE SCHEMA benchgen;
CREATE TABLE benchgen.words (id int PRIMARY KEY, w text NOT NULL);
INSERT INTO benchgen.words
SELECT ord - 1, w FROM unnest(string_to_array(
'the a an of to and in is that for it on with as you this be are by or from at your can not have will we which if all ' ||
'more one has but their they use when there its also how each these other some into than then only do so what about ' ||
'please thank help need could would should may might must here below above following example note step first second ' ||
'user assistant system model prompt token tokens context window answer question query response request reply message ' ||
'conversation chat session workflow node nodes run runs input inputs output outputs variable variables value values ' ||
'dataset datasets document documents segment segments chunk chunks embedding embeddings vector retrieval index search ' ||
'rerank score threshold top_k knowledge base file files upload image images text language translation summary summarize ' ||
'application app apps agent agents tool tools function call calls plugin plugins provider providers api key endpoint ' ||
'server client database table column row rows query_id latency seconds milliseconds error errors timeout retry failed ' ||
'success status completed running pending queued started finished created updated deleted version release deployment ' ||
'kubernetes docker container pod service cluster namespace config configuration setting settings option options ' ||
'customer order orders product products price prices invoice payment shipping delivery refund account accounts email ' ||
'address phone number date time today tomorrow yesterday week month year report reports sales revenue growth market ' ||
'analysis data insight insights trend trends chart result results metric metrics performance quality issue issues ' ||
'policy policies security privacy compliance audit risk risks team teams project projects task tasks meeting schedule ' ||
'python java javascript json yaml sql http https url link code function class method parameter parameters return ' ||
'string integer boolean list array object field fields schema format template templates instruction instructions ' ||
'generate generated generation extract extracted classify classified classification intent intents entity entities ' ||
'important useful simple complex quick detailed brief clear correct incorrect possible available required optional ' ||
'new old large small high low good best better fast slow first last next previous current default custom local remote ' ||
'I me my our us he she his her them who where why because however therefore although while during before after ' ||
'according based using used make made provide provided include includes including support supports supported ' ||
'check checked ensure review reviewed update upgrade install installed configure configured enable enabled disable ' ||
'关于 我们 用户 问题 回答 知识库 文档 模型 工作流 应用 数据 分析 报告 客户 订单 产品 价格 服务 系统 配置 ' ||
'请 帮我 总结 翻译 生成 一下 这个 那个 可以 需要 如何 什么 为什么 已经 没有 非常 感谢', ' ')) WITH ORDINALITY AS t(w, ord);
-- Phrases of 3-9 words; common words (the first ones) are picked more often, as in real text.
CREATE TABLE benchgen.phrases (id int PRIMARY KEY, t text NOT NULL);
INSERT INTO benchgen.phrases
SELECT p, (SELECT string_agg(w.w, ' ')
           FROM generate_series(1, 3 + p % 7) AS j
           JOIN benchgen.words w
             ON w.id = ((abs(hashint8(p::bigint * 16 + j)) % 1000)^2 / 1000000.0 * (SELECT count(*) FROM benchgen.words))::int)
FROM generate_series(0, :np - 1) AS p;
ANALYZE benchgen.words;
ANALYZE benchgen.phrases;
CREATE FUNCTION benchgen.para(seed bigint, n int, nphr int) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT string_agg((SELECT ph.t FROM benchgen.phrases ph WHERE ph.id = (abs(hashint8(seed * 64 + j)) % nphr)::int) ||
           CASE abs(hashint8(seed * 131 + j)) % 6
             WHEN 0 THEN ' ' || (abs(hashint8(seed + j)) % 100000)::text
             WHEN 1 THEN ' ' || round((abs(hashint8(seed - j)) % 100000) / 100.0, 2)::text || '%'
             WHEN 2 THEN ' #' || to_hex(hashint8(seed * 7 + j) & 1048575)
             ELSE '' END,
           CASE WHEN j % 5 = 0 THEN E'.\n' WHEN j % 3 = 0 THEN ', ' ELSE '. ' END)
  FROM generate_series(1, n) AS j
$$;
EOF

cat >"$WORK/sql/messages.sql" <<'EOF'
INSERT INTO public.messages (id, app_id, model_provider, model_id, override_model_configs, conversation_id, inputs, query,
  message, message_tokens, message_unit_price, answer, answer_tokens, answer_unit_price, provider_response_latency,
  total_price, currency, from_source, from_end_user_id, from_account_id, created_at, updated_at, agent_based,
  message_price_unit, answer_price_unit, workflow_run_id, status, error, message_metadata, invoke_from)
SELECT gen_random_uuid(),
       md5('app' || (g % 23))::uuid,
       (ARRAY['openai','anthropic','tongyi','deepseek','azure_openai'])[1 + g % 5],
       (ARRAY['gpt-4o','claude-3-5-sonnet-20240620','qwen-max','deepseek-chat','gpt-4o-mini'])[1 + g % 5],
       NULL,
       md5('conversation' || (g / 7))::uuid,
       json_build_object('language', (ARRAY['en','zh-Hans','ja'])[1 + g % 3], 'user_name', 'user' || (g % 997)),
       t.q,
       json_build_array(
         json_build_object('role', 'system', 'text', t.sys, 'files', '[]'::json),
         json_build_object('role', 'user', 'text', t.q, 'files', '[]'::json)),
       length(t.q) / 3 + length(t.sys) / 3, 0.0025, t.a, length(t.a) / 3, 0.01,
       round((0.4 + (g % 9000) / 1000.0)::numeric, 3)::double precision,
       round((length(t.a) / 3 * 0.00001)::numeric, 7), 'USD',
       (ARRAY['api','console'])[1 + g % 2],
       md5('enduser' || (g % 4099))::uuid, NULL,
       '2024-01-01'::timestamp + g * interval '13 seconds',
       '2024-01-01'::timestamp + g * interval '13 seconds' + interval '3 seconds',
       false, 0.000001, 0.000001, NULL, 'normal', NULL,
       json_build_object('usage', json_build_object(
           'prompt_tokens', length(t.q) / 3, 'prompt_unit_price', '0.0025', 'prompt_price_unit', '0.000001',
           'prompt_price', round(length(t.q) / 3 * 0.0000025, 7)::text,
           'completion_tokens', length(t.a) / 3, 'completion_unit_price', '0.01', 'completion_price_unit', '0.000001',
           'completion_price', round(length(t.a) / 3 * 0.00001, 7)::text,
           'total_tokens', (length(t.q) + length(t.a)) / 3, 'currency', 'USD',
           'latency', round((0.4 + (g % 9000) / 1000.0)::numeric, 3)),
         'retriever_resources', '[]'::json)::text,
       (ARRAY['service-api','web-app','explore','debugger'])[1 + g % 4]
FROM generate_series(:s::bigint, :e::bigint) AS g,
LATERAL (SELECT benchgen.para(g * 3, 1 + (g % 4)::int, :np) AS q,
                benchgen.para(g * 3 + 1, 4 + (g % 37)::int, :np) AS a,
                benchgen.para(g % 23, 12, :np) AS sys
         OFFSET 0) AS t;
EOF

cat >"$WORK/sql/segments.sql" <<'EOF'
INSERT INTO public.document_segments (id, tenant_id, dataset_id, document_id, "position", content, word_count, tokens,
  keywords, index_node_id, index_node_hash, hit_count, enabled, status, created_by, created_at, indexing_at,
  completed_at, updated_by, updated_at)
SELECT gen_random_uuid(),
       md5('tenant' || (g % 5))::uuid,
       md5('dataset' || (g % 61))::uuid,
       md5('document' || (g / 40))::uuid,
       1 + (g % 40)::int,
       t.c,
       length(t.c) / 6, length(t.c) / 4,
       to_json(string_to_array(benchgen.para(g * 7 + 5, 1, :np), ' ')),
       gen_random_uuid()::text,
       encode(sha256(convert_to(t.c, 'UTF8')), 'hex'),
       (g % 17)::int, true, 'completed',
       md5('account' || (g % 11))::uuid,
       '2024-01-01'::timestamp + g * interval '29 seconds',
       '2024-01-01'::timestamp + g * interval '29 seconds' + interval '1 second',
       '2024-01-01'::timestamp + g * interval '29 seconds' + interval '2 seconds',
       NULL,
       '2024-01-01'::timestamp + g * interval '29 seconds' + interval '2 seconds'
FROM generate_series(:s::bigint, :e::bigint) AS g,
LATERAL (SELECT benchgen.para(g * 7, 8 + (g % 25)::int, :np) AS c OFFSET 0) AS t;
EOF

cat >"$WORK/sql/nodes.sql" <<'EOF'
INSERT INTO public.workflow_node_executions (id, tenant_id, app_id, workflow_id, triggered_from, workflow_run_id, index,
  predecessor_node_id, node_id, node_type, title, inputs, process_data, outputs, status, error, elapsed_time,
  execution_metadata, created_at, created_by_role, created_by, finished_at)
SELECT gen_random_uuid(),
       md5('tenant' || (g % 5))::uuid,
       md5('app' || (g % 23))::uuid,
       md5('workflow' || (g % 23))::uuid,
       'workflow-run',
       md5('run' || (g / 5))::uuid,
       1 + (g % 5)::int,
       CASE WHEN g % 5 = 0 THEN NULL ELSE '17' || lpad(((g - 1) % 5 * 7919)::text, 11, '0') END,
       '17' || lpad((g % 5 * 7919)::text, 11, '0'),
       (ARRAY['start','knowledge-retrieval','llm','code','end'])[1 + g % 5],
       (ARRAY['Start','Knowledge Retrieval','LLM','Code','End'])[1 + g % 5],
       json_build_object('sys.query', t.q, 'sys.files', '[]'::json,
                         'sys.conversation_id', md5('conversation' || (g / 35))::uuid,
                         'sys.user_id', md5('enduser' || (g % 4099))::uuid, 'sys.dialogue_count', g % 9)::text,
       CASE WHEN g % 5 = 2 THEN json_build_object('model_mode', 'chat', 'prompts', json_build_array(
              json_build_object('role', 'system', 'text', benchgen.para(g % 23, 12, :np), 'files', '[]'::json),
              json_build_object('role', 'user', 'text', t.q, 'files', '[]'::json)))::text END,
       json_build_object('text', t.o, 'usage', json_build_object('prompt_tokens', length(t.q) / 3,
                         'completion_tokens', length(t.o) / 3, 'total_tokens', (length(t.q) + length(t.o)) / 3,
                         'latency', round((g % 7000) / 1000.0, 3)), 'finish_reason', 'stop')::text,
       'succeeded', NULL,
       round((g % 7000) / 1000.0, 3)::double precision,
       json_build_object('total_tokens', (length(t.q) + length(t.o)) / 3,
                         'total_price', round(length(t.o) / 3 * 0.00001, 7)::text, 'currency', 'USD')::text,
       '2024-01-01'::timestamp + g * interval '11 seconds',
       'end_user',
       md5('enduser' || (g % 4099))::uuid,
       '2024-01-01'::timestamp + g * interval '11 seconds' + interval '2 seconds'
FROM generate_series(:s::bigint, :e::bigint) AS g,
LATERAL (SELECT benchgen.para(g * 5, 1 + (g % 3)::int, :np) AS q,
                benchgen.para(g * 5 + 2, 2 + (g % 29)::int, :np) AS o
         OFFSET 0) AS t;
EOF

NPHRASES=100000
gen_started=$SECONDS
log "creating database '$DB' (Dify 0.6.15 schema) and generating $(human "$TARGET_BYTES") of data"
psqlq -d postgres -c "CREATE DATABASE $DB"
psqlq -d "$DB" -f "$ROOT/src/test/resources/fixtures/dify-0.6.15.sql" >/dev/null
psqlq -d "$DB" -v np=$NPHRASES -f "$WORK/sql/setup.sql"

# One "unit" is UNIT_ROWS rows in each of the three tables (about 60 MB with indexes). A small first round measures
# the bytes per unit; later rounds aim at the target, at most MAX_ROUND_UNITS units per statement. The three tables
# are filled by three concurrent sessions.
UNIT_ROWS=10000
MAX_ROUND_UNITS=8
next_g=1
round_rows() {
  local rows=$1 t
  local s=$next_g e=$((next_g + rows - 1))
  BG_PIDS=()
  for t in messages segments nodes; do
    psqlq -d "$DB" -v s="$s" -v e="$e" -v np=$NPHRASES -f "$WORK/sql/$t.sql" >"$WORK/logs/gen-$t.log" 2>&1 &
    BG_PIDS+=($!)
  done
  local pid failed=0
  for pid in "${BG_PIDS[@]}"; do wait "$pid" || failed=1; done
  BG_PIDS=()
  ((failed == 0)) || { cat "$WORK"/logs/gen-*.log >&2; die "data generation failed"; }
  next_g=$((e + 1))
}
base=$(dbsize)
round_rows "$UNIT_ROWS"
size=$(dbsize)
per_unit=$((size - base))
((per_unit > 0)) || die "calibration round added no bytes"
while ((size < TARGET_BYTES)); do
  rows=$(awk -v r=$((TARGET_BYTES - size)) -v u="$per_unit" -v n=$UNIT_ROWS -v m=$MAX_ROUND_UNITS \
    'BEGIN { x = r / u; if (x > m) x = m; rows = int(x * n) + 1; if (rows < 500) rows = 500; print rows }')
  round_rows "$rows"
  size=$(dbsize)
  log "  $(human "$size") of $(human "$TARGET_BYTES") ($((next_g - 1)) rows in each big table)"
done
psqlq -d "$DB" -c "SET client_min_messages = warning" -c "DROP SCHEMA benchgen CASCADE" -c "VACUUM (FREEZE, ANALYZE)" -c "CHECKPOINT"
DB_BYTES=$(dbsize)
ROWS_PER_TABLE=$((next_g - 1))
GEN_SECONDS=$((SECONDS - gen_started))
log "database ready: $(human "$DB_BYTES") in ${GEN_SECONDS}s"

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

now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

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
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) printf "%.3f", v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
maxof() { tr ' ' '\n' | grep -v '^$' | sort -g | tail -1; }

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
  mkdir -p "$WORK/s3blobs"
  log "starting S3Proxy (dev.difydr.testsupport.S3ProxyMain)"
  java -cp "$S3_CP" dev.difydr.testsupport.S3ProxyMain "$WORK/s3blobs" "$BUCKET" >"$WORK/logs/s3proxy.out" 2>"$WORK/logs/s3proxy.log" &
  S3_PID=$!
  for _ in $(seq 1 600); do
    grep -q '^endpoint=' "$WORK/logs/s3proxy.out" 2>/dev/null && break
    kill -0 "$S3_PID" 2>/dev/null || { cat "$WORK/logs/s3proxy.log" >&2; die "S3Proxy exited"; }
    sleep 0.1
  done
  line=$(grep -m1 '^endpoint=' "$WORK/logs/s3proxy.out") || die "S3Proxy printed no endpoint within 60 s"
  S3_ENDPOINT=$(sed -E 's/.*endpoint=([^ ]+).*/\1/' <<<"$line")
  export AK SK
  AK=$(sed -E 's/.*accessKey=([^ ]+).*/\1/' <<<"$line")
  SK=$(sed -E 's/.*secretKey=([^ ]+).*/\1/' <<<"$line")
  log "S3Proxy at $S3_ENDPOINT"
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
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v <= t ? "ok" : "MISSED") }'; }
ratio() { awk -v b="$1" -v a="$2" 'BEGIN { printf "%.3f", b / a }'; }
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
