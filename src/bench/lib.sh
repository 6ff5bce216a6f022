# Shared by the benchmarks in this directory; sourced, not run. It provides a throwaway PostgreSQL 15 holding a
# generated Dify-shaped database, the dify-dr jar, and small timing and statistics helpers.
#
# The sourcing script sets `set -euo pipefail`, BENCH_NAME (the prefix of its error messages) and SIZE_GB, sources
# this file, and then calls in this order:
#   bench_check           the settings and tools every benchmark needs; sets TARGET_BYTES
#   bench_workdir PREFIX  the temp directory $WORK (with pg/ sql/ out/ logs/) under BENCH_TMP and the exit trap that
#                         stops everything started here and removes $WORK (unless KEEP_WORK=1)
#   bench_jar             $JAR: DIFY_DR_JAR, else built into BUILD_DIR when missing or older than the sources;
#                         exported with the JVM options for the ./dify-dr launcher
#   bench_postgres        initdb and start on a random port; exports PGHOST PGPORT PGUSER PGPASSWORD (and PGPW)
#   bench_generate_db     the database $DB, filled to SIZE_GB GiB; sets DB_BYTES, ROWS_PER_TABLE, GEN_SECONDS
# Long-running helpers the script starts itself (a server, say) go into SERVICE_PIDS so that the exit trap stops them.
#
# Settings read here (see the scripts' headers): RUNS, BUILD_DIR, BENCH_TMP, KEEP_WORK, PG_BIN, DIFY_DR_JAR,
# DIFY_DR_JAVA_OPTS.

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
RUNS=${RUNS:-3}
BUILD_DIR=${BUILD_DIR:-$ROOT/target}
BENCH_TMP=${BENCH_TMP:-${TMPDIR:-/tmp}}
KEEP_WORK=${KEEP_WORK:-0}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
DB=dify

die() { echo "$BENCH_NAME: $*" >&2; exit 1; }
log() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

bench_check() {
  [[ $RUNS =~ ^[0-9]+$ ]] && ((RUNS >= 3)) || die "RUNS must be a number >= 3 (got '$RUNS')"
  [[ $SIZE_GB =~ ^[0-9]+([.][0-9]+)?$ ]] || die "SIZE_GB must be a number of GiB (got '$SIZE_GB')"
  [[ -x $PG_BIN/postgres ]] || die "PostgreSQL binaries not found in $PG_BIN (set PG_BIN)"
  command -v zstd >/dev/null || die "zstd not found (apt-get install -y zstd)"
  [[ -x /usr/bin/time ]] || die "GNU time not found at /usr/bin/time (apt-get install -y time)"
  command -v java >/dev/null || die "java not found"
  command -v jq >/dev/null || die "jq not found (apt-get install -y jq)"
  TARGET_BYTES=$(awk -v g="$SIZE_GB" 'BEGIN { printf "%.0f", g * 1073741824 }')  # %d overflows at 2^31 in mawk
}

# ---------------------------------------------------------------------------------------------------------------
# cleanup of everything the benchmark starts
WORK=
PG_DATA=
BG_PIDS=()
SERVICE_PIDS=()

as_pg() {
  if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

bench_cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  local pid
  for pid in "${BG_PIDS[@]}" "${SERVICE_PIDS[@]}"; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  if [[ -n $PG_DATA && -f $PG_DATA/postmaster.pid ]]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1
  fi
  if [[ -n $WORK && -d $WORK ]]; then
    if [[ $KEEP_WORK == 1 ]]; then
      echo "$BENCH_NAME: kept $WORK" >&2
    else
      rm -rf "$WORK"
    fi
  fi
  exit "$rc"
}

bench_workdir() { # $1 = name prefix of the temp directory
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  WORK=$(mktemp -d "$BENCH_TMP/$1.XXXXXX")
  chmod 755 "$WORK"
  mkdir -p "$WORK/pg" "$WORK/sql" "$WORK/out" "$WORK/logs"
}

# ---------------------------------------------------------------------------------------------------------------
# the jar
mvn_build() { (cd "$ROOT" && mvn -o -q -DbuildDir="$BUILD_DIR" "$@"); }

bench_jar() {
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

bench_postgres() {
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
  local attempt
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
}

psqlq() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
dbsize() { "$PG_BIN/psql" -X -tA -d "$DB" -c "SELECT pg_database_size(current_database())"; }
human() { awk -v b="$1" 'BEGIN { split("B KiB MiB GiB TiB", u); i = 1; while (b >= 1024 && i < 5) { b /= 1024; i++ }
  if (i == 1) printf "%d B", b; else printf "%.2f %s", b, u[i] }'; }

# ---------------------------------------------------------------------------------------------------------------
# the Dify-shaped database
bench_write_sql() {
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
}

# One "unit" is UNIT_ROWS rows in each of the three tables (about 60 MB with indexes). A small first round measures
# the bytes per unit; later rounds aim at the target, at most MAX_ROUND_UNITS units per statement. The three tables
# are filled by three concurrent sessions.
NPHRASES=100000
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

bench_generate_db() {
  bench_write_sql
  local gen_started=$SECONDS base size per_unit rows
  log "creating database '$DB' (Dify 0.6.15 schema) and generating $(human "$TARGET_BYTES") of data"
  psqlq -d postgres -c "CREATE DATABASE $DB"
  psqlq -d "$DB" -f "$ROOT/src/test/resources/fixtures/dify-0.6.15.sql" >/dev/null
  psqlq -d "$DB" -v np=$NPHRASES -f "$WORK/sql/setup.sql"
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
}

# ---------------------------------------------------------------------------------------------------------------
# timing and statistics
now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) printf "%.3f", v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
maxof() { tr ' ' '\n' | grep -v '^$' | sort -g | tail -1; }
ratio() { awk -v b="$1" -v a="$2" 'BEGIN { printf "%.3f", b / a }'; }
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v <= t ? "ok" : "MISSED") }'; }

# Starts S3Proxy (dev.difydr.testsupport.S3ProxyMain) with blobs under $WORK/s3blobs and one bucket, and waits for it.
# $1 = class path holding S3ProxyMain, $2 = bucket. Sets S3_PID, S3_ENDPOINT and exports AK and SK.
start_s3proxy() {
  mkdir -p "$WORK/s3blobs"
  log "starting S3Proxy (dev.difydr.testsupport.S3ProxyMain)"
  java -cp "$1" dev.difydr.testsupport.S3ProxyMain "$WORK/s3blobs" "$2" >"$WORK/logs/s3proxy.out" 2>"$WORK/logs/s3proxy.log" &
  S3_PID=$!
  SERVICE_PIDS+=("$S3_PID")
  for _ in $(seq 1 600); do
    grep -q '^endpoint=' "$WORK/logs/s3proxy.out" 2>/dev/null && break
    kill -0 "$S3_PID" 2>/dev/null || { cat "$WORK/logs/s3proxy.log" >&2; die "S3Proxy exited"; }
    sleep 0.1
  done
  local line
  line=$(grep -m1 '^endpoint=' "$WORK/logs/s3proxy.out") || die "S3Proxy printed no endpoint within 60 s"
  S3_ENDPOINT=$(sed -E 's/.*endpoint=([^ ]+).*/\1/' <<<"$line")
  export AK SK
  AK=$(sed -E 's/.*accessKey=([^ ]+).*/\1/' <<<"$line")
  SK=$(sed -E 's/.*secretKey=([^ ]+).*/\1/' <<<"$line")
  log "S3Proxy at $S3_ENDPOINT"
}
