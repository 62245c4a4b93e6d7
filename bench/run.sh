#!/usr/bin/env bash
# bench/run.sh — `make bench`: Perimeter's added latency, throughput and memory, side by side with
# nginx (plain reverse proxy) and Portkey's open-source gateway, all in front of the same mock
# upstream, in one run. See docs/benchmarks.md for the method and the latest figures.
#
# Expects (builds nothing): build/bench_mock_upstream, build/bench_loadgen, build/perimeter,
# nginx on PATH (Debian nginx-light), node + npm. Installs Portkey into bench/portkey/node_modules
# with `npm ci` from the committed lock file when it is missing.
#
# Everything listens on and sends to 127.0.0.1 only. Every process this script starts is stopped
# on exit (normal end, error or Ctrl-C). Each load run is bounded by BENCH_WARMUP + BENCH_DURATION
# (plus a 2 s grace in the load driver).
#
# Knobs (environment):
#   BENCH_DURATION=10        measured seconds per load run
#   BENCH_WARMUP=2           warm-up seconds before each measured window (not recorded)
#   BENCH_ROUNDS=3           rounds; each round runs every target at every concurrency, in a
#                            rotated order, and the report takes medians across rounds
#   BENCH_CONCURRENCY="1 64" concurrency levels (virtual clients, one keep-alive connection each)
#   BENCH_TARGETS="direct nginx perimeter portkey"
#                            (also: perimeter-guard, the same Perimeter with a guardrail bound to
#                            the OpenAI door: 26 entity types ANONYMIZE, ten custom words and the
#                            profanity list, judging input and output; needs perimeter too;
#                            perimeter-nofsync, the same Perimeter with audit.fsync: none (the
#                            audit record is written before each answer but not flushed to disk:
#                            what the per-batch fdatasync costs); needs perimeter too;
#                            perimeter-prev, a second Perimeter binary given by BENCH_PREV_BIN
#                            (e.g. a build of the previous commit) with the perimeter target's
#                            config, to measure a change side by side; needs perimeter too;
#                            perimeter-core, a second Perimeter binary given by
#                            BENCH_CORE_BIN and run without an access section, e.g. a build of
#                            the gateway core before identity and access, to measure what the
#                            controls add in the same run)
#   BENCH_PROMPT_BYTES=0     0: a one-line prompt; N: a prompt of about N bytes of prose with a
#                            few identifiers (an e-mail, a phone, a card), for every target
#   BENCH_MOCK_THREADS=1     mock upstream threads
#   BENCH_MOCK_DELAY_US=0    mock upstream delay per answer
#   BENCH_LOADGEN_THREADS=1  load driver threads
#   BENCH_NGINX_WORKERS=auto nginx worker_processes
#   BENCH_BUILD_DIR=build    where the binaries are
#   BENCH_OUT=bench/results/latest.json
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BENCH_BUILD_DIR:-$ROOT/build}"
DURATION="${BENCH_DURATION:-10}"
WARMUP="${BENCH_WARMUP:-2}"
ROUNDS="${BENCH_ROUNDS:-3}"
CONCURRENCIES="${BENCH_CONCURRENCY:-1 64}"
TARGETS="${BENCH_TARGETS:-direct nginx perimeter portkey}"
MOCK_THREADS="${BENCH_MOCK_THREADS:-1}"
MOCK_DELAY_US="${BENCH_MOCK_DELAY_US:-0}"
LOADGEN_THREADS="${BENCH_LOADGEN_THREADS:-1}"
NGINX_WORKERS="${BENCH_NGINX_WORKERS:-auto}"
OUT="${BENCH_OUT:-$ROOT/bench/results/latest.json}"
PORTKEY_DIR="$ROOT/bench/portkey"
MODEL="bench-model"

die() {
  echo "bench: $*" >&2
  exit 1
}
log() { echo "bench: $*" >&2; }

is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }
{ is_uint "$DURATION" && ((DURATION > 0)); } || die "BENCH_DURATION must be a whole number of seconds > 0 (got '$DURATION')"
is_uint "$WARMUP" || die "BENCH_WARMUP must be a whole number of seconds (got '$WARMUP')"
{ is_uint "$ROUNDS" && ((ROUNDS > 0 && ROUNDS <= 20)); } || die "BENCH_ROUNDS must be 1-20 (got '$ROUNDS')"
read -r -a CONC_LIST <<<"$CONCURRENCIES"
((${#CONC_LIST[@]} > 0)) || die "BENCH_CONCURRENCY is empty"
for c in "${CONC_LIST[@]}"; do
  { is_uint "$c" && ((c > 0 && c <= 4096)); } || die "BENCH_CONCURRENCY entries must be 1-4096 (got '$c')"
done
for t in $TARGETS; do
  case "$t" in direct | nginx | perimeter | perimeter-guard | perimeter-nofsync | perimeter-prev | perimeter-core | portkey) ;; *) die "unknown target '$t' in BENCH_TARGETS (known: direct nginx perimeter perimeter-guard perimeter-nofsync perimeter-prev perimeter-core portkey)" ;; esac
done

MOCK_BIN="$BUILD/bench_mock_upstream"
LOADGEN_BIN="$BUILD/bench_loadgen"
PERIMETER_BIN="$BUILD/perimeter"
[[ -x "$MOCK_BIN" ]] || die "$MOCK_BIN not found; build it first (cmake --build build --target bench_mock_upstream)"
[[ -x "$LOADGEN_BIN" ]] || die "$LOADGEN_BIN not found; build it first (cmake --build build --target bench_loadgen)"
command -v node >/dev/null || die "node is required (report and Portkey); install nodejs"
has_target() { [[ " $TARGETS " == *" $1 "* ]]; }
if has_target perimeter-guard && ! has_target perimeter; then
  die "perimeter-guard needs the perimeter target too (its config is derived from it)"
fi
if has_target perimeter-prev && { ! has_target perimeter || [[ ! -x "${BENCH_PREV_BIN:-}" ]]; }; then
  die "perimeter-prev needs the perimeter target and BENCH_PREV_BIN, the path of another perimeter binary"
fi
if has_target perimeter-nofsync && ! has_target perimeter; then
  die "perimeter-nofsync needs the perimeter target too (its config is derived from it)"
fi
if has_target perimeter; then
  [[ -x "$PERIMETER_BIN" ]] || die "$PERIMETER_BIN not found; build it (cmake --build build --target perimeter) or leave perimeter out of BENCH_TARGETS"
fi
if has_target perimeter-core; then
  [[ -n "${BENCH_CORE_BIN:-}" && -x "${BENCH_CORE_BIN:-}" ]] ||
    die "perimeter-core needs BENCH_CORE_BIN, the path of a perimeter binary without identity and access"
fi
if has_target nginx; then
  command -v nginx >/dev/null || die "nginx not found; apt-get install nginx-light, or leave nginx out of BENCH_TARGETS"
fi
PORTKEY_MAIN="$PORTKEY_DIR/node_modules/@portkey-ai/gateway/build/start-server.js"
if has_target portkey && [[ ! -f "$PORTKEY_MAIN" ]]; then
  log "installing Portkey's gateway from bench/portkey/package-lock.json (npm ci)"
  npm ci --prefix "$PORTKEY_DIR" --no-audit --no-fund --ignore-scripts >&2 ||
    die "npm ci in bench/portkey failed; check that the npm registry is reachable"
fi

WORK="$(mktemp -d /tmp/perimeter-bench.XXXXXX)"
chmod 755 "$WORK" # nginx workers run unprivileged and must reach their temp dirs
PIDS=()        # long-running servers this script started
LOADGEN_PID="" # the load run in progress, if any
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [[ -n "$LOADGEN_PID" ]]; then
    kill -TERM "$LOADGEN_PID" 2>/dev/null || true
    wait "$LOADGEN_PID" 2>/dev/null || true
  fi
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ -n "${BENCH_KEEP_WORK:-}" ]]; then
    log "kept work directory $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# wait_for_line FILE REGEX SECONDS PID: prints the first match of REGEX (grep -o) in FILE.
wait_for_line() {
  local file=$1 regex=$2 seconds=$3 pid=$4 match
  for _ in $(seq $((seconds * 10))); do
    match="$(grep -o -m1 -E "$regex" "$file" 2>/dev/null || true)"
    if [[ -n "$match" ]]; then
      echo "$match"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  return 1
}

wait_for_http() {
  local url=$1 seconds=$2 pid=$3
  for _ in $(seq $((seconds * 10))); do
    if curl -s -o /dev/null --max-time 1 "$url"; then
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# Resident memory of a process and its children, in KiB (nginx is a master plus workers; shared
# pages are counted once per process, so this overstates nginx a little).
rss_kib() {
  local pid=$1 total=0 kib child
  kib="$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)"
  total=$((total + ${kib:-0}))
  for child in $(pgrep -P "$pid" || true); do
    total=$((total + $(rss_kib "$child")))
  done
  echo "$total"
}

# CPU time (user + system, clock ticks) of a process and its children.
cpu_ticks() {
  local pid=$1 total=0 child stat
  stat="$(cat "/proc/$pid/stat" 2>/dev/null || true)"
  if [[ -n "$stat" ]]; then
    stat="${stat##*) }" # fields after the command name; utime and stime are the 12th and 13th
    read -r -a fields <<<"$stat"
    total=$((fields[11] + fields[12]))
  fi
  for child in $(pgrep -P "$pid" || true); do
    total=$((total + $(cpu_ticks "$child")))
  done
  echo "$total"
}

# ---------------------------------------------------------------------------- start the targets

BODY="$WORK/chat_request.json"
PROMPT_BYTES="${BENCH_PROMPT_BYTES:-0}"
{ is_uint "$PROMPT_BYTES" && ((PROMPT_BYTES <= 1048576)); } || die "BENCH_PROMPT_BYTES must be 0-1048576 (got '$PROMPT_BYTES')"
if ((PROMPT_BYTES == 0)); then
  printf '{"model":"%s","messages":[{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":32}' \
    "$MODEL" >"$BODY"
else
  node -e '
    const [model, bytes] = [process.argv[1], Number(process.argv[2])];
    const prose = "We are planning the quarterly review for the operations team and want to summarise the main risks, the mitigation steps and the owners for each item. ";
    const ids = ["You can reach me at adaeze.okafor@example.com or on +234 803 123 4567. ", "The card on file is 4111 1111 1111 1111, exp 12/26. "];
    let text = "", i = 0;
    while (text.length < bytes) text += (i % 5 === 4 ? ids[(i >> 2) % ids.length] : prose), i++;
    process.stdout.write(JSON.stringify({ model, messages: [{ role: "user", content: text.slice(0, bytes) }], max_tokens: 32 }));
  ' "$MODEL" "$PROMPT_BYTES" >"$BODY"
fi

log "work directory $WORK; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"

"$MOCK_BIN" --port 0 --threads "$MOCK_THREADS" --delay-us "$MOCK_DELAY_US" >"$WORK/mock.log" 2>&1 &
MOCK_PID=$!
PIDS+=("$MOCK_PID")
MOCK_URL="$(wait_for_line "$WORK/mock.log" 'http://127\.0\.0\.1:[0-9]+' 10 "$MOCK_PID")" ||
  die "mock upstream did not start: $(cat "$WORK/mock.log")"
log "mock upstream at $MOCK_URL"

declare -A URL PID HEADERS IDLE_RSS
URL[direct]="$MOCK_URL"
PID[direct]="$MOCK_PID"
HEADERS[direct]=""

if has_target nginx; then
  NGINX_PORT="$(free_port)"
  mkdir -p "$WORK/nginx"
  cat >"$WORK/nginx/nginx.conf" <<EOF
# Generated by bench/run.sh: a plain reverse proxy to the mock upstream, as commonly deployed.
worker_processes $NGINX_WORKERS;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log $WORK/nginx/access.log;
  client_body_temp_path $WORK/nginx/client_body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  upstream mock {
    server ${MOCK_URL#http://};
    keepalive 128;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
  nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" >"$WORK/nginx/stdout.log" 2>&1 &
  PID[nginx]=$!
  PIDS+=("${PID[nginx]}")
  URL[nginx]="http://127.0.0.1:$NGINX_PORT"
  HEADERS[nginx]=""
  wait_for_http "${URL[nginx]}/healthz" 10 "${PID[nginx]}" ||
    die "nginx did not start: $(cat "$WORK/nginx/error.log" "$WORK/nginx/stdout.log" 2>/dev/null)"
fi

if has_target perimeter; then
  mkdir -p "$WORK/perimeter"
  cat >"$WORK/perimeter/perimeter.yaml" <<EOF
# Generated by bench/run.sh: one listener, one OpenAI-compatible upstream (the mock), and
# authentication and authorization on, as in production: an API key of a user whose policy
# allows the model, under a deployment-wide region cap.
server:
  state_dir: $WORK/perimeter/var
access:
  account_id: "111122223333"
  regions: [eu-west-1]
  egress_allow_hosts: ["127.0.0.1"]
  deployment_policies:
    - Version: "2012-10-17"
      Statement:
        - {Effect: Allow, Action: "*", Resource: "*"}
        - Effect: Deny
          Action: "bedrock:*"
          Resource: "*"
          Condition: {StringNotEquals: {aws:RequestedRegion: eu-west-1}}
  principals:
    - user: bench-client
      tags: {workload: production-ai-bench}
      policies:
        - Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Action: [bedrock:InvokeModel, bedrock:InvokeModelWithResponseStream]
              Resource: "arn:aws:bedrock:eu-west-1::foundation-model/$MODEL"
              Condition: {StringLike: {aws:PrincipalTag/workload: "production-ai-*"}}
listeners:
  - name: main
    address: 127.0.0.1
    port: 0
upstreams:
  - name: mock
    type: openai
    base_url: $MOCK_URL/v1
routes:
  - model: $MODEL
    upstream: mock
EOF
  PERIMETER_SHA="$(sha256sum "$PERIMETER_BIN" | cut -c1-16)" # the binary as started
  # The access log goes to stdout (one JSON line per request): appended to a file, which is
  # emptied between load runs so it cannot fill the disk.
  (cd "$WORK/perimeter" && exec "$PERIMETER_BIN" serve --config "$WORK/perimeter/perimeter.yaml") \
    >>"$WORK/perimeter/stdout.log" 2>"$WORK/perimeter/stderr.log" &
  PID[perimeter]=$!
  PIDS+=("${PID[perimeter]}")
  PERIMETER_URL="$(wait_for_line "$WORK/perimeter/stdout.log" 'listening on http://[^ ]+' 30 "${PID[perimeter]}")" ||
    die "perimeter did not start: $(tail -c 2000 "$WORK/perimeter/stderr.log" "$WORK/perimeter/stdout.log")"
  URL[perimeter]="${PERIMETER_URL#listening on }"
  HEADERS[perimeter]=""
  PERIMETER_KEY="$(cd "$WORK/perimeter" && "$PERIMETER_BIN" credentials create --config "$WORK/perimeter/perimeter.yaml" \
    --principal bench-client --type api-key | tail -1)" || die "could not create the benchmark's API key"
fi

if has_target perimeter-guard; then
  mkdir -p "$WORK/perimeter-guard"
  # The perimeter target's config (its own state directory) plus a guardrail bound to the
  # OpenAI door.
  sed -e "s#$WORK/perimeter/var#$WORK/perimeter-guard/var#" "$WORK/perimeter/perimeter.yaml" \
    >"$WORK/perimeter-guard/perimeter.yaml"
  {
    printf 'guardrails:\n  definitions:\n    - id: bench\n      definition:\n'
    printf '        name: bench\n        blockedInputMessaging: blocked\n        blockedOutputsMessaging: blocked\n'
    printf '        sensitiveInformationPolicyConfig:\n          piiEntitiesConfig:\n'
    for t in EMAIL PHONE CREDIT_DEBIT_CARD_NUMBER CREDIT_DEBIT_CARD_CVV CREDIT_DEBIT_CARD_EXPIRY \
      INTERNATIONAL_BANK_ACCOUNT_NUMBER SWIFT_CODE IP_ADDRESS MAC_ADDRESS URL AWS_ACCESS_KEY \
      AWS_SECRET_KEY PASSWORD PIN US_SOCIAL_SECURITY_NUMBER US_BANK_ACCOUNT_NUMBER \
      US_BANK_ROUTING_NUMBER UK_NATIONAL_INSURANCE_NUMBER NG_NUBAN NG_BVN NG_NIN NG_TIN \
      SECRET_PRIVATE_KEY SECRET_JWT SECRET_BEARER_TOKEN SECRET_GENERIC; do
      printf '            - {type: %s, action: ANONYMIZE}\n' "$t"
    done
    printf '        wordPolicyConfig:\n          managedWordListsConfig: [{type: PROFANITY}]\n          wordsConfig:\n'
    for w in "project falcon" merger layoffs insider "acquisition target" "internal only" \
      confidential "board minutes" "salary band" ponzi; do
      printf '            - {text: "%s"}\n' "$w"
    done
    printf '  bindings:\n    - {guardrail: bench, version: "1"}\n'
  } >>"$WORK/perimeter-guard/perimeter.yaml"
  (cd "$WORK/perimeter-guard" && exec "$PERIMETER_BIN" serve --config "$WORK/perimeter-guard/perimeter.yaml") \
    >>"$WORK/perimeter-guard/stdout.log" 2>"$WORK/perimeter-guard/stderr.log" &
  PID[perimeter-guard]=$!
  PIDS+=("${PID[perimeter-guard]}")
  GUARD_URL="$(wait_for_line "$WORK/perimeter-guard/stdout.log" 'listening on http://[^ ]+' 30 "${PID[perimeter-guard]}")" ||
    die "perimeter-guard did not start: $(tail -c 2000 "$WORK/perimeter-guard/stderr.log" "$WORK/perimeter-guard/stdout.log")"
  URL[perimeter-guard]="${GUARD_URL#listening on }"
  HEADERS[perimeter-guard]=""
  PERIMETER_GUARD_KEY="$(cd "$WORK/perimeter-guard" && "$PERIMETER_BIN" credentials create --config "$WORK/perimeter-guard/perimeter.yaml" \
    --principal bench-client --type api-key | tail -1)" || die "could not create perimeter-guard's API key"
fi

if has_target perimeter-nofsync; then
  mkdir -p "$WORK/perimeter-nofsync"
  # The perimeter target's config (its own state directory), audit records not fdatasync'ed.
  sed -e "s#$WORK/perimeter/var#$WORK/perimeter-nofsync/var#" "$WORK/perimeter/perimeter.yaml" \
    >"$WORK/perimeter-nofsync/perimeter.yaml"
  printf 'audit:\n  fsync: none\n' >>"$WORK/perimeter-nofsync/perimeter.yaml"
  (cd "$WORK/perimeter-nofsync" && exec "$PERIMETER_BIN" serve --config "$WORK/perimeter-nofsync/perimeter.yaml") \
    >>"$WORK/perimeter-nofsync/stdout.log" 2>"$WORK/perimeter-nofsync/stderr.log" &
  PID[perimeter-nofsync]=$!
  PIDS+=("${PID[perimeter-nofsync]}")
  NOFSYNC_URL="$(wait_for_line "$WORK/perimeter-nofsync/stdout.log" 'listening on http://[^ ]+' 30 "${PID[perimeter-nofsync]}")" ||
    die "perimeter-nofsync did not start: $(tail -c 2000 "$WORK/perimeter-nofsync/stderr.log" "$WORK/perimeter-nofsync/stdout.log")"
  URL[perimeter-nofsync]="${NOFSYNC_URL#listening on }"
  HEADERS[perimeter-nofsync]=""
  PERIMETER_NOFSYNC_KEY="$(cd "$WORK/perimeter-nofsync" && "$PERIMETER_BIN" credentials create --config "$WORK/perimeter-nofsync/perimeter.yaml" \
    --principal bench-client --type api-key | tail -1)" || die "could not create perimeter-nofsync's API key"
fi

if has_target perimeter-prev; then
  mkdir -p "$WORK/perimeter-prev"
  sed -e "s#$WORK/perimeter/var#$WORK/perimeter-prev/var#" "$WORK/perimeter/perimeter.yaml" \
    >"$WORK/perimeter-prev/perimeter.yaml"
  (cd "$WORK/perimeter-prev" && exec "$BENCH_PREV_BIN" serve --config "$WORK/perimeter-prev/perimeter.yaml") \
    >>"$WORK/perimeter-prev/stdout.log" 2>"$WORK/perimeter-prev/stderr.log" &
  PID[perimeter-prev]=$!
  PIDS+=("${PID[perimeter-prev]}")
  PREV_URL="$(wait_for_line "$WORK/perimeter-prev/stdout.log" 'listening on http://[^ ]+' 30 "${PID[perimeter-prev]}")" ||
    die "perimeter-prev did not start: $(tail -c 2000 "$WORK/perimeter-prev/stderr.log" "$WORK/perimeter-prev/stdout.log")"
  URL[perimeter-prev]="${PREV_URL#listening on }"
  HEADERS[perimeter-prev]=""
  PERIMETER_PREV_KEY="$(cd "$WORK/perimeter-prev" && "$BENCH_PREV_BIN" credentials create --config "$WORK/perimeter-prev/perimeter.yaml" \
    --principal bench-client --type api-key | tail -1)" || die "could not create perimeter-prev's API key"
fi

if has_target perimeter-core; then
  mkdir -p "$WORK/perimeter-core"
  cat >"$WORK/perimeter-core/perimeter.yaml" <<EOF
# Generated by bench/run.sh: the same listener, upstream and route, no access section (a binary
# from before identity and access, which accepts any caller).
server:
  state_dir: $WORK/perimeter-core/var
listeners:
  - name: main
    address: 127.0.0.1
    port: 0
upstreams:
  - name: mock
    type: openai
    base_url: $MOCK_URL/v1
routes:
  - model: $MODEL
    upstream: mock
EOF
  (cd "$WORK/perimeter-core" && exec "$BENCH_CORE_BIN" serve --config "$WORK/perimeter-core/perimeter.yaml") \
    >>"$WORK/perimeter-core/stdout.log" 2>"$WORK/perimeter-core/stderr.log" &
  PID[perimeter-core]=$!
  PIDS+=("${PID[perimeter-core]}")
  CORE_URL="$(wait_for_line "$WORK/perimeter-core/stdout.log" 'listening on http://[^ ]+' 30 "${PID[perimeter-core]}")" ||
    die "perimeter-core did not start: $(tail -c 2000 "$WORK/perimeter-core/stderr.log" "$WORK/perimeter-core/stdout.log")"
  URL[perimeter-core]="${CORE_URL#listening on }"
  HEADERS[perimeter-core]=""
fi

if has_target portkey; then
  PORTKEY_PORT="$(free_port)"
  mkdir -p "$WORK/portkey"
  # Portkey listens on all interfaces with no option to change it; loopback_only.cjs pins the
  # listen address to 127.0.0.1. --headless and NODE_ENV=production turn off its log UI.
  (cd "$WORK/portkey" && exec env NODE_ENV=production node --require "$PORTKEY_DIR/loopback_only.cjs" \
    "$PORTKEY_MAIN" --port="$PORTKEY_PORT" --headless) >"$WORK/portkey/stdout.log" 2>&1 &
  PID[portkey]=$!
  PIDS+=("${PID[portkey]}")
  URL[portkey]="http://127.0.0.1:$PORTKEY_PORT"
  # Routed per request: provider openai with a custom host (the mock).
  HEADERS[portkey]="x-portkey-provider: openai|x-portkey-custom-host: $MOCK_URL/v1"
  wait_for_http "${URL[portkey]}/" 30 "${PID[portkey]}" ||
    die "Portkey did not start: $(tail -c 2000 "$WORK/portkey/stdout.log")"
fi

# Every target gets the same request. The bearer token is a placeholder (the mock ignores it),
# except for Perimeter, which checks a real API key and authorizes every request.
header_args() {
  local target=$1 h
  echo "--header"
  if [[ "$target" == perimeter ]]; then
    echo "Authorization: Bearer $PERIMETER_KEY" # Perimeter authenticates and authorizes
  elif [[ "$target" == perimeter-guard ]]; then
    echo "Authorization: Bearer $PERIMETER_GUARD_KEY"
  elif [[ "$target" == perimeter-nofsync ]]; then
    echo "Authorization: Bearer $PERIMETER_NOFSYNC_KEY"
  elif [[ "$target" == perimeter-prev ]]; then
    echo "Authorization: Bearer $PERIMETER_PREV_KEY"
  else
    echo "Authorization: Bearer sk-bench-placeholder"
  fi
  IFS='|' read -r -a hs <<<"${HEADERS[$target]}"
  for h in "${hs[@]}"; do
    [[ -n "$h" ]] && printf -- '--header\n%s\n' "$h"
  done
}

# One request through each target before measuring: it must answer 200 with the mock's text.
for target in $TARGETS; do
  mapfile -t hargs < <(header_args "$target")
  curl_args=()
  for ((i = 1; i < ${#hargs[@]}; i += 2)); do curl_args+=(-H "${hargs[i]}"); done
  answer="$(curl -s --max-time 10 -w '\n%{http_code}' -H 'Content-Type: application/json' \
    "${curl_args[@]}" --data-binary "@$BODY" "${URL[$target]}/v1/chat/completions" || true)"
  code="${answer##*$'\n'}"
  if [[ "$code" != "200" || "$answer" != *"benchmark mock upstream"* ]]; then
    die "$target did not relay a chat completion to the mock (HTTP $code): ${answer:0:500}"
  fi
  sleep 0.5
  IDLE_RSS[$target]="$(rss_kib "${PID[$target]}")"
  log "$target at ${URL[$target]} (pid ${PID[$target]}, idle RSS $((IDLE_RSS[$target] / 1024)) MiB)"
done

# ------------------------------------------------------------------------------------ measure

CLK_TCK="$(getconf CLK_TCK)"
RUNS="$WORK/runs.jsonl"
: >"$RUNS"
read -r -a TARGET_LIST <<<"$TARGETS"
NT=${#TARGET_LIST[@]}
runs_total=$((ROUNDS * NT * ${#CONC_LIST[@]}))
log "$runs_total load runs of ${WARMUP}s + ${DURATION}s each (about $((runs_total * (WARMUP + DURATION + 3) / 60 + 1)) min)"

run_one() {
  local round=$1 target=$2 conc=$3 out="$WORK/run.json" pid=${PID[$2]}
  mapfile -t hargs < <(header_args "$target")
  [[ -f "$WORK/perimeter/stdout.log" ]] && : >"$WORK/perimeter/stdout.log"
  [[ -f "$WORK/perimeter-core/stdout.log" ]] && : >"$WORK/perimeter-core/stdout.log"
  [[ -f "$WORK/perimeter-guard/stdout.log" ]] && : >"$WORK/perimeter-guard/stdout.log"
  [[ -f "$WORK/perimeter-nofsync/stdout.log" ]] && : >"$WORK/perimeter-nofsync/stdout.log"
  [[ -f "$WORK/perimeter-prev/stdout.log" ]] && : >"$WORK/perimeter-prev/stdout.log"
  [[ -f "$WORK/nginx/access.log" ]] && : >"$WORK/nginx/access.log"
  "$LOADGEN_BIN" --url "${URL[$target]}/v1/chat/completions" --body-file "$BODY" \
    --concurrency "$conc" --threads "$LOADGEN_THREADS" --duration "${DURATION}s" \
    --warmup "${WARMUP}s" "${hargs[@]}" >"$out" 2>"$WORK/loadgen.err" &
  LOADGEN_PID=$!
  # Sample the target's CPU over the measured window and its RSS one second before the end.
  sleep "$WARMUP"
  local cpu0 cpu1 rss
  cpu0="$(cpu_ticks "$pid")"
  if ((DURATION > 1)); then
    sleep $((DURATION - 1))
    rss="$(rss_kib "$pid")"
    sleep 1
  else
    sleep "$DURATION"
    rss="$(rss_kib "$pid")"
  fi
  cpu1="$(cpu_ticks "$pid")"
  local lg_status=0
  wait "$LOADGEN_PID" || lg_status=$?
  LOADGEN_PID=""
  ((lg_status == 0)) || die "bench_loadgen failed for $target c=$conc: $(cat "$WORK/loadgen.err")"
  [[ -s "$WORK/loadgen.err" ]] && log "$target c=$conc: $(head -c 600 "$WORK/loadgen.err")"
  local cpu_ms=$(((cpu1 - cpu0) * 1000 / CLK_TCK))
  echo "{\"round\":$round,\"target\":\"$target\",\"concurrency\":$conc,\"rss_kib\":$rss,\"cpu_ms\":$cpu_ms,\"load\":$(cat "$out")}" >>"$RUNS"
  log "round $round $target c=$conc: $(cat "$out")"
}

for ((round = 1; round <= ROUNDS; round++)); do
  for conc in "${CONC_LIST[@]}"; do
    # Rotate the order every round so no target always runs first (or right after a heavy one).
    for ((k = 0; k < NT; k++)); do
      run_one "$round" "${TARGET_LIST[$(((k + round - 1) % NT))]}" "$conc"
    done
  done
done

# ------------------------------------------------------------------------------------- report

declare -A AFTER_RSS
for target in $TARGETS; do
  AFTER_RSS[$target]="$(rss_kib "${PID[$target]}")"
done

versions() {
  local perimeter_commit="" perimeter_sha="" portkey_version=""
  if has_target perimeter; then
    perimeter_commit="$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    perimeter_sha="$PERIMETER_SHA"
  fi
  has_target portkey && portkey_version="$(node -p "require('$PORTKEY_DIR/node_modules/@portkey-ai/gateway/package.json').version")"
  printf '"nginx":"%s","node":"%s","portkey":"%s","perimeter_commit":"%s","perimeter_sha256":"%s"' \
    "$( (nginx -v 2>&1 || true) | sed 's/.*nginx\///')" "$(node --version)" "$portkey_version" \
    "$perimeter_commit" "$perimeter_sha"
}

memory_json() {
  local first=1 target
  printf '{'
  for target in $TARGETS; do
    ((first)) || printf ','
    first=0
    printf '"%s":{"idle_rss_kib":%s,"after_load_rss_kib":%s}' "$target" "${IDLE_RSS[$target]}" "${AFTER_RSS[$target]}"
  done
  printf '}'
}

META="$WORK/meta.json"
cat >"$META" <<EOF
{
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "machine": {
    "nproc": $(nproc),
    "cpu_model": "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)",
    "kernel": "$(uname -r)",
    "memory_kib": $(awk '/^MemTotal:/ {print $2}' /proc/meminfo),
    "load_average_start": "$LOAD_START",
    "load_average_end": "$(cut -d' ' -f1-3 /proc/loadavg)"
  },
  "settings": {
    "duration_s": $DURATION, "warmup_s": $WARMUP, "rounds": $ROUNDS,
    "concurrency": [$(printf '%s,' "${CONC_LIST[@]}" | sed 's/,$//')],
    "targets": [$(printf '"%s",' "${TARGET_LIST[@]}" | sed 's/,$//')],
    "mock_threads": $MOCK_THREADS, "mock_delay_us": $MOCK_DELAY_US,
    "loadgen_threads": $LOADGEN_THREADS, "nginx_workers": "$NGINX_WORKERS",
    "request_body_bytes": $(wc -c <"$BODY")
  },
  "versions": {$(versions)},
  "memory": $(memory_json)
}
EOF

mkdir -p "$(dirname "$OUT")"
node "$ROOT/bench/report.mjs" "$META" "$RUNS" "$OUT"
log "wrote $OUT"
