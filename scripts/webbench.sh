#!/usr/bin/env bash
# Web benchmark: nginx serving files as static files against streamfront serving the same files
# through a web distribution (an S3 origin, sf-s3-server, with a warm cache), each pinned to the
# same core in turn, wrk pinned to the other, in one run:
#   - requests per second for a 10 KB object on cache hits, keep-alive (WB_CONNECTIONS);
#   - CPU seconds per GB (user + system of the server's processes) for a 100 MB object.
#
#   bash scripts/webbench.sh
#   WB_DURATION_S=20 WB_ROUNDS=3 bash scripts/webbench.sh
#
# Settings (environment):
#   WB_DURATION_S    seconds of each wrk run                       (10)
#   WB_ROUNDS        rounds; each runs every server once per test   (2)
#   WB_CONNECTIONS   keep-alive connections for the 10 KB test       (64)
#   WB_BIG_CONNS     connections for the 100 MB test                 (4)
#   WB_THREADS       wrk threads                                     (2)
#   WB_SERVER_CPUS   core both servers are pinned to                 (0)
#   WB_CLIENT_CPUS   cores wrk is pinned to                          (1, or 0 on a 1-core machine)
#   WB_OUT           directory for logs and the report               (a new temp dir)
#   SF_BIN, S3_BIN   prebuilt streamfront / sf-s3-server             (built with cargo --release)
#
# The web distribution is created through streamfront's CloudFront API with the AWS CLI of
# scripts/api-venv.sh. Its behavior has Compress off (the objects are not text) and a day's TTL;
# streamfront logs at `warn` (no per-request log line) and nginx has `access_log off`, so
# neither writes a log per request. The report (markdown) is printed and written to
# $WB_OUT/report.md.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

DURATION_S=${WB_DURATION_S:-10}
ROUNDS=${WB_ROUNDS:-2}
CONNECTIONS=${WB_CONNECTIONS:-64}
BIG_CONNS=${WB_BIG_CONNS:-4}
THREADS=${WB_THREADS:-2}
SERVER_CPUS=${WB_SERVER_CPUS:-0}
if [ "$(nproc)" -gt 1 ]; then CLIENT_CPUS=${WB_CLIENT_CPUS:-1}; else CLIENT_CPUS=${WB_CLIENT_CPUS:-0}; fi
OUT=${WB_OUT:-$(mktemp -d /tmp/webbench.XXXXXX)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

log() { echo "webbench: $*" >&2; }
# shellcheck source=lib/ports.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/ports.sh"
# shellcheck source=lib/bench.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/bench.sh"

for tool in wrk nginx taskset curl; do
    command -v "$tool" >/dev/null || { log "$tool is needed"; exit 2; }
done
NGINX=$(command -v nginx)

release_server_binaries
VENV=$(scripts/api-venv.sh | tail -1)

# The objects: the same bytes for nginx (a directory) and for the bucket `media` under `site/`.
FILES=$OUT/files
S3_ROOT=$OUT/s3
mkdir -p "$FILES" "$S3_ROOT/media/site"
head -c 10240 /dev/urandom >"$FILES/small.bin"
head -c $((100 * 1024 * 1024)) /dev/urandom >"$FILES/big.bin"
cp "$FILES/small.bin" "$FILES/big.bin" "$S3_ROOT/media/site/"
chmod -R a+rX "$OUT"

PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    PIDS=()
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

# utime + stime of process PID and its children (nginx workers), in clock ticks.
ticks() {
    local total=0 pid rest
    for pid in "$1" $(pgrep -P "$1" 2>/dev/null || true); do
        rest=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
        set -- $rest
        total=$((total + ${12} + ${13}))
    done
    echo "$total"
}
TICKS=$(getconf CLK_TCK)

NGINX_PORT=$(free_port)
mkdir -p "$OUT/nginx"
cat >"$OUT/nginx/nginx.conf" <<EOF
worker_processes $(taskset -c "$SERVER_CPUS" nproc);
daemon off;
pid $OUT/nginx/nginx.pid;
error_log $OUT/nginx/error.log warn;
worker_rlimit_nofile 65536;
events { worker_connections 16384; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    types { application/octet-stream bin; }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $FILES;
    }
}
EOF
taskset -c "$SERVER_CPUS" "$NGINX" -p "$OUT/nginx" -c "$OUT/nginx/nginx.conf" -e "$OUT/nginx/error.log" &
NGINX_PID=$!
PIDS+=("$NGINX_PID")

S3_PORT=$(free_port)
taskset -c "$CLIENT_CPUS" "$S3_BIN" --root "$S3_ROOT" --listen "127.0.0.1:$S3_PORT" >"$OUT/s3.env" 2>"$OUT/s3.log" &
PIDS+=($!)

SF_HTTP=$(free_port) SF_ADMIN=$(free_port) SF_API=$(free_port) SF_RTMP=$(free_port)
API_KEY=AKIAWEBBENCH00000001 API_SECRET=webbench/secret/0123456789abcdef
mkdir -p "$OUT/sf-data"
env AWS_ACCESS_KEY_ID=streamfront-test AWS_SECRET_ACCESS_KEY=streamfront-test-secret-0123456789 \
    AWS_REGION=us-east-1 AWS_ENDPOINT_URL="http://127.0.0.1:$S3_PORT" \
    STREAMFRONT_API_ACCESS_KEY_ID=$API_KEY STREAMFRONT_API_SECRET_ACCESS_KEY=$API_SECRET \
    taskset -c "$SERVER_CPUS" "$SF_BIN" serve --origin none --data-dir "$OUT/sf-data" \
    --rtmp-listen "127.0.0.1:$SF_RTMP" --http-listen "127.0.0.1:$SF_HTTP" --admin-listen "127.0.0.1:$SF_ADMIN" \
    --api-listen "127.0.0.1:$SF_API" --distribution-domain bench.test --log warn 2>"$OUT/streamfront.log" &
SF_PID=$!
PIDS+=("$SF_PID")
wait_port "$NGINX_PORT" "$NGINX_PID" && wait_port "$S3_PORT" "${PIDS[1]}" && wait_port "$SF_API" "$SF_PID" \
    && wait_port "$SF_HTTP" "$SF_PID" || { log "a server did not start (see $OUT)"; exit 1; }

cat >"$OUT/distribution.json" <<'EOF'
{
  "CallerReference": "webbench",
  "Origins": {"Quantity": 1, "Items": [{"Id": "bucket", "DomainName": "media.s3.amazonaws.com",
    "OriginPath": "/site", "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
  "DefaultCacheBehavior": {"TargetOriginId": "bucket", "ViewerProtocolPolicy": "allow-all",
    "AllowedMethods": {"Quantity": 2, "Items": ["HEAD", "GET"],
      "CachedMethods": {"Quantity": 2, "Items": ["HEAD", "GET"]}},
    "Compress": false, "ForwardedValues": {"QueryString": false, "Cookies": {"Forward": "none"}},
    "MinTTL": 0, "DefaultTTL": 86400, "MaxTTL": 31536000},
  "Comment": "webbench", "Enabled": true
}
EOF
DOMAIN=$(env -i PATH="$PATH" HOME="$OUT" AWS_ACCESS_KEY_ID=$API_KEY AWS_SECRET_ACCESS_KEY=$API_SECRET \
    AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    "$VENV/bin/aws" --endpoint-url "http://127.0.0.1:$SF_API" cloudfront create-distribution \
    --distribution-config "file://$OUT/distribution.json" --query Distribution.DomainName --output text)
log "web distribution $DOMAIN"
for _ in $(seq 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $DOMAIN" "http://127.0.0.1:$SF_HTTP/small.bin")
    [ "$code" = 200 ] && break
    sleep 0.1
done
[ "$code" = 200 ] || { log "the distribution is not served ($code)"; exit 1; }

# Warm: every object read whole once through each server, and checked byte for byte.
for name in small.bin big.bin; do
    curl -sf -o "$OUT/got-nginx" "http://127.0.0.1:$NGINX_PORT/$name"
    curl -sf -o "$OUT/got-sf" -H "Host: $DOMAIN" "http://127.0.0.1:$SF_HTTP/$name"
    cmp "$FILES/$name" "$OUT/got-nginx" && cmp "$FILES/$name" "$OUT/got-sf" || { log "$name differs"; exit 1; }
done
x_cache=$(curl -s -D - -o /dev/null -H "Host: $DOMAIN" "http://127.0.0.1:$SF_HTTP/big.bin" | tr -d '\r' \
    | awk -F': ' 'tolower($1) == "x-cache" {print $2}')
log "streamfront big.bin: $x_cache"
rm -f "$OUT/got-nginx" "$OUT/got-sf"

# bytes of a wrk size ("1.23GB", "512.00MB", "10.5KB", "100B").
to_bytes() {
    awk -v s="$1" 'BEGIN {
        n = s + 0; u = s; sub(/^[0-9.]+/, "", u)
        m = (u == "KB") ? 1024 : (u == "MB") ? 1048576 : (u == "GB") ? 1073741824 : (u == "TB") ? 1099511627776 : 1
        printf "%.0f", n * m }'
}

RESULTS=$OUT/results.txt
: >"$RESULTS"
# measure SERVER TEST PORT PID HOST PATH CONNECTIONS: one wrk run; appends
# "SERVER TEST rps bytes cpu_s" to $RESULTS.
measure() {
    local server=$1 test=$2 port=$3 pid=$4 host=$5 path=$6 conns=$7 t0 t1 out rps read bytes cpu
    t0=$(ticks "$pid")
    out=$(taskset -c "$CLIENT_CPUS" wrk -t "$THREADS" -c "$conns" -d "${DURATION_S}s" -H "Host: $host" \
        "http://127.0.0.1:$port$path")
    t1=$(ticks "$pid")
    echo "$out" >>"$OUT/wrk-$server-$test.txt"
    if echo "$out" | grep -q "Non-2xx"; then log "$server $test: errors: $out"; exit 1; fi
    rps=$(echo "$out" | awk '/^Requests\/sec:/ {print $2}')
    read=$(echo "$out" | awk '/requests in/ {for (i = 1; i <= NF; i++) if ($(i+1) == "read") print $i}')
    bytes=$(to_bytes "$read")
    cpu=$(awk -v t=$((t1 - t0)) -v hz="$TICKS" 'BEGIN {printf "%.2f", t / hz}')
    log "$server $test: $rps req/s, $read read, $cpu CPU s"
    echo "$server $test $rps $bytes $cpu" >>"$RESULTS"
}

for round in $(seq "$ROUNDS"); do
    log "round $round of $ROUNDS"
    measure nginx small "$NGINX_PORT" "$NGINX_PID" localhost /small.bin "$CONNECTIONS"
    measure streamfront small "$SF_HTTP" "$SF_PID" "$DOMAIN" /small.bin "$CONNECTIONS"
    measure nginx big "$NGINX_PORT" "$NGINX_PID" localhost /big.bin "$BIG_CONNS"
    measure streamfront big "$SF_HTTP" "$SF_PID" "$DOMAIN" /big.bin "$BIG_CONNS"
done

# The report: medians over the rounds (of req/s; of CPU s per GB).
median() { sort -g | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
rps_of() { awk -v s="$1" '$1 == s && $2 == "small" {print $3}' "$RESULTS" | median; }
# Requests per CPU second of the server: on a shared machine the pinned core is not the
# server's alone, and this does not depend on how much of it the server got.
rps_per_cpu_of() { awk -v s="$1" -v d="$DURATION_S" '$1 == s && $2 == "small" && $5 > 0 {printf "%.0f\n", $3 * d / $5}' "$RESULTS" | median; }
cpu_per_gb_of() { awk -v s="$1" '$1 == s && $2 == "big" && $4 > 0 {printf "%.3f\n", $5 / ($4 / 1073741824)}' "$RESULTS" | median; }
gbps_of() { awk -v s="$1" -v d="$DURATION_S" '$1 == s && $2 == "big" {printf "%.2f\n", $4 * 8 / d / 1e9}' "$RESULTS" | median; }
{
    echo "| server | 10 KB req/s (keep-alive, $CONNECTIONS conns) | 10 KB req per CPU s | 100 MB: CPU s per GB | 100 MB: Gbit/s |"
    echo "|---|---|---|---|---|"
    for server in nginx streamfront; do
        echo "| $server | $(rps_of $server) | $(rps_per_cpu_of $server) | $(cpu_per_gb_of $server) | $(gbps_of $server) |"
    done
    echo
    awk 'BEGIN {printf "streamfront / nginx: req/s %.2f, req per CPU s %.2f, CPU per GB %.2f\n", '"$(rps_of streamfront)"' / '"$(rps_of nginx)"', '"$(rps_per_cpu_of streamfront)"' / '"$(rps_per_cpu_of nginx)"', '"$(cpu_per_gb_of streamfront)"' / '"$(cpu_per_gb_of nginx)"'}'
    echo
    echo "Medians of $ROUNDS rounds of ${DURATION_S} s wrk runs ($THREADS threads); servers pinned to CPU $SERVER_CPUS, wrk to CPU $CLIENT_CPUS; $(nproc) CPUs, $(uname -r); nginx $("$NGINX" -v 2>&1 | sed 's/.*\///'), wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}')."
} | tee "$OUT/report.md"
log "raw results in $OUT"
