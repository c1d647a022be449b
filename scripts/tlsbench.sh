#!/usr/bin/env bash
# HTTPS against HTTP: the server CPU it takes to send a GB of a web distribution's 100 MB
# object, over plain HTTP and over HTTPS, from the same streamfront process in the same run.
# The object comes from a custom origin (nginx on loopback) once, then from the memory cache:
# what is measured is the edge serving it. wrk downloads it over and over on keep-alive
# HTTP/1.1 connections, HTTP and HTTPS rounds taking turns; with TB_H2=1, curl also downloads
# it over HTTP/2 (one stream at a time on one connection).
#
#   bash scripts/tlsbench.sh
#   TB_ROUNDS=5 TB_DURATION_S=30 bash scripts/tlsbench.sh
#
# Settings (environment):
#   TB_ROUNDS        HTTP and HTTPS rounds each, alternating           (3)
#   TB_DURATION_S    seconds of one wrk round                          (20)
#   TB_CONNECTIONS   wrk connections (keep-alive)                      (4)
#   TB_SIZE_MB       size of the object                                (100)
#   TB_H2            1: also HTTP/2 rounds with curl                   (0)
#   TB_SERVER_CPUS   cores streamfront is pinned to                    (0)
#   TB_CLIENT_CPUS   cores wrk, curl and the origin are pinned to      (1, or 0 on a 1-core machine)
#   TB_OUT           directory for logs and the report                 (a new temp dir)
#   SF_BIN           a prebuilt streamfront                            (built with cargo --release)
#
# The certificate is RSA 2048, made with openssl; the TLS version and cipher suite that wrk's
# OpenSSL and the server agree on are in the report. Everything listens on 127.0.0.1 only.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

ROUNDS=${TB_ROUNDS:-3}
DURATION_S=${TB_DURATION_S:-20}
CONNECTIONS=${TB_CONNECTIONS:-4}
SIZE_MB=${TB_SIZE_MB:-100}
H2=${TB_H2:-0}
SERVER_CPUS=${TB_SERVER_CPUS:-0}
if [ "$(nproc)" -gt 1 ]; then CLIENT_CPUS=${TB_CLIENT_CPUS:-1}; else CLIENT_CPUS=${TB_CLIENT_CPUS:-0}; fi
OUT=${TB_OUT:-$(mktemp -d /tmp/tlsbench.XXXXXX)}
mkdir -p "$OUT"
chmod 755 "$OUT"

log() { echo "tlsbench: $*" >&2; }
# shellcheck source=lib/bench.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/bench.sh"
# shellcheck source=lib/ports.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/ports.sh"

for tool in wrk nginx curl openssl; do
    command -v "$tool" >/dev/null 2>&1 || { log "needs $tool (apt-get install wrk nginx curl openssl)"; exit 1; }
done
if [ -z "${SF_BIN:-}" ]; then
    log "building streamfront (release)"
    (cd "$ROOT" && cargo build --release --quiet -p streamfront)
    SF_BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/streamfront
fi

# --- the object, the certificate, the origin --------------------------------------------
ORIGIN_DIR=$OUT/origin
mkdir -p "$ORIGIN_DIR"
chmod 755 "$ORIGIN_DIR"
# Random bytes: nothing to compress, and a misplaced block would show as a wrong length only.
head -c "$((SIZE_MB * 1024 * 1024))" /dev/urandom >"$ORIGIN_DIR/big.bin"
chmod 644 "$ORIGIN_DIR/big.bin"
SIZE=$(stat -c %s "$ORIGIN_DIR/big.bin")

make_tls_cert "$OUT/tls"

ORIGIN_PORT=$(free_port)
mkdir -p "$OUT/nginx"
cat >"$OUT/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $OUT/nginx/nginx.pid;
error_log $OUT/nginx/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$ORIGIN_PORT;
        root $ORIGIN_DIR;
    }
}
EOF

ORIGIN_PID=""
SERVER_PID=""
cleanup() {
    for pid in $SERVER_PID $ORIGIN_PID; do kill "$pid" 2>/dev/null || true; done
    for pid in $SERVER_PID $ORIGIN_PID; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
    SERVER_PID=""
    ORIGIN_PID=""
}
trap 'cleanup' EXIT
trap 'cleanup; exit 130' INT TERM

taskset -c "$CLIENT_CPUS" nginx -p "$OUT/nginx" -c "$OUT/nginx/nginx.conf" -e "$OUT/nginx/error.log" &
ORIGIN_PID=$!
wait_port "$ORIGIN_PORT" "$ORIGIN_PID"

# --- the server and its web distribution -----------------------------------------------
HTTP_PORT=$(free_port)
HTTPS_PORT=$(free_port)
API_PORT=$(free_port)
ADMIN_PORT=$(free_port)
KEY_ID=AKIDTLSBENCH
SECRET=tlsbench-secret
mkdir -p "$OUT/sf-data" "$OUT/empty"
# The memory cache holds the whole object: after the first download no origin is involved.
STREAMFRONT_API_ACCESS_KEY_ID=$KEY_ID STREAMFRONT_API_SECRET_ACCESS_KEY=$SECRET \
    taskset -c "$SERVER_CPUS" "$SF_BIN" serve --origin "$OUT/empty" --data-dir "$OUT/sf-data" \
    --http-listen "127.0.0.1:$HTTP_PORT" --https-listen "127.0.0.1:$HTTPS_PORT" \
    --tls-cert "localhost=$OUT/tls/cert.pem:$OUT/tls/key.pem" --api-listen "127.0.0.1:$API_PORT" \
    --admin-listen "127.0.0.1:$ADMIN_PORT" --distribution-domain cdn.test \
    --cache-memory-mb "$((SIZE_MB * 2 + 64))" --log warn 2>>"$OUT/streamfront.log" &
SERVER_PID=$!
wait_port "$HTTP_PORT" "$SERVER_PID" && wait_port "$HTTPS_PORT" "$SERVER_PID" && wait_port "$API_PORT" "$SERVER_PID"

cat >"$OUT/distribution.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<DistributionConfig xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">
  <CallerReference>tlsbench</CallerReference>
  <Origins><Quantity>1</Quantity><Items><Origin>
    <Id>origin</Id><DomainName>127.0.0.1</DomainName><OriginPath></OriginPath>
    <CustomOriginConfig><HTTPPort>$ORIGIN_PORT</HTTPPort><HTTPSPort>443</HTTPSPort>
      <OriginProtocolPolicy>http-only</OriginProtocolPolicy></CustomOriginConfig>
  </Origin></Items></Origins>
  <DefaultCacheBehavior>
    <TargetOriginId>origin</TargetOriginId>
    <ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy>
    <ForwardedValues><QueryString>false</QueryString><Cookies><Forward>none</Forward></Cookies></ForwardedValues>
    <MinTTL>86400</MinTTL><DefaultTTL>86400</DefaultTTL><MaxTTL>31536000</MaxTTL>
    <Compress>false</Compress>
  </DefaultCacheBehavior>
  <Comment>tlsbench</Comment>
  <Enabled>true</Enabled>
</DistributionConfig>
EOF
# CreateDistribution, signed with SigV4 by curl itself (with a certificate, the API speaks HTTPS).
curl -sS --fail-with-body --aws-sigv4 "aws:amz:us-east-1:cloudfront" --user "$KEY_ID:$SECRET" \
    -H "Content-Type: text/xml" --data-binary "@$OUT/distribution.xml" \
    --cacert "$OUT/tls/ca.pem" "https://127.0.0.1:$API_PORT/2020-05-31/distribution" >"$OUT/created.xml" \
    || { log "CreateDistribution failed: $(cat "$OUT/created.xml")"; exit 1; }
DOMAIN=$(grep -o '<DomainName>[^<]*</DomainName>' "$OUT/created.xml" | head -1 | sed 's/<[^>]*>//g')
log "web distribution $DOMAIN on origin 127.0.0.1:$ORIGIN_PORT"

# Until it is served: the first complete download fills the cache.
for _ in $(seq 100); do
    code=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' -H "Host: $DOMAIN" "http://127.0.0.1:$HTTP_PORT/big.bin" || true)
    [ "$code" = "200 $SIZE" ] && break
    sleep 0.2
done
[ "$code" = "200 $SIZE" ] || { log "the object is not served whole: $code"; exit 1; }
xcache=$(curl -s -D - -o /dev/null -H "Host: $DOMAIN" "http://127.0.0.1:$HTTP_PORT/big.bin" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-cache" {print $2}')
log "second download: X-Cache: $xcache"
SESSION=$(openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername localhost </dev/null 2>/dev/null \
    | awk '/^New,/ {print $2, $NF}' | head -1)

# --- measuring -----------------------------------------------------------------------------
TICKS=$(getconf CLK_TCK)
server_ticks() { sed 's/.*) //' "/proc/$SERVER_PID/stat" | awk '{print $12 + $13}'; }
# wrk's "N requests in Ts, X.YZGB read" in bytes (its units are powers of 1024).
wrk_bytes() {
    awk '/ read$/ {v = $(NF-1); u = v; sub(/[0-9.]+/, "", u); sub(/[A-Z]+$/, "", v)
        m = (u == "KB") ? 1024 : (u == "MB") ? 1048576 : (u == "GB") ? 1073741824 : (u == "TB") ? 1099511627776 : 1
        printf "%.0f", v * m}' "$1"
}

RESULTS=$OUT/results.txt
: >"$RESULTS"
# round SCHEME N: one measured run; appends "scheme bytes cpu_ticks wall_s".
round() {
    local scheme=$1 n=$2 t0 t1 start bytes url
    case "$scheme" in
        http) url="http://127.0.0.1:$HTTP_PORT/big.bin" ;;
        https | h2) url="https://localhost:$HTTPS_PORT/big.bin" ;;
    esac
    log "$scheme round $n"
    t0=$(server_ticks); start=$(date +%s%N)
    if [ "$scheme" = h2 ]; then
        # One connection, one stream after another: as many downloads as fit in the round.
        local count args=()
        count=$(awk -v d="$DURATION_S" -v s="$SIZE" 'BEGIN {print int(d * 400e6 / s) + 1}')
        for _ in $(seq "$count"); do args+=(-o /dev/null "$url"); done
        timeout "$((DURATION_S + 5))" taskset -c "$CLIENT_CPUS" curl -s --http2 --cacert "$OUT/tls/ca.pem" \
            -H "Host: $DOMAIN" -w '%{size_download} %{http_version}\n' "${args[@]}" >"$OUT/h2-$n.txt" 2>/dev/null || true
        bytes=$(awk '{s += $1} END {printf "%.0f", s}' "$OUT/h2-$n.txt")
    else
        taskset -c "$CLIENT_CPUS" wrk -t 1 -c "$CONNECTIONS" -d "${DURATION_S}s" -H "Host: $DOMAIN" "$url" >"$OUT/wrk-$scheme-$n.txt"
        bytes=$(wrk_bytes "$OUT/wrk-$scheme-$n.txt")
    fi
    t1=$(server_ticks)
    echo "$scheme $bytes $((t1 - t0)) $(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN {printf "%.2f", (b - a) / 1e9}')" >>"$RESULTS"
}

for n in $(seq "$ROUNDS"); do
    round http "$n"
    round https "$n"
    [ "$H2" = 1 ] && round h2 "$n"
done

# --- report ------------------------------------------------------------------------------
{
    echo "streamfront, a ${SIZE_MB} MiB object of a web distribution from the memory cache, server CPU per GB sent (HTTP/1.1 keep-alive by wrk, $CONNECTIONS connections, ${DURATION_S} s rounds; h2: curl, one stream at a time):"
    echo
    echo "| round | scheme | GB sent | Gbit/s | server CPU s | CPU s per GB | × HTTP (same round) |"
    echo "|---:|---|---:|---:|---:|---:|---:|"
    awk -v tps="$TICKS" '{
            r[$1]++; n = r[$1]; gb = $2 / 1e9; cpu = $3 / tps
            per = (gb > 0) ? cpu / gb : 0
            if ($1 == "http") base[n] = per
            ratio = ($1 != "http" && base[n] > 0) ? sprintf("%.2f", per / base[n]) : "1"
            if ($1 != "http") ratios[$1] = ratios[$1] " " ratio
            GB[$1] += gb; CPU[$1] += cpu
            printf "| %d | %s | %.2f | %.2f | %.2f | %.3f | %s |\n", n, $1, gb, gb * 8 / $4, cpu, per, ratio
        } END {
            printf "\n"
            for (s in GB) if (s != "http" && GB["http"] > 0 && GB[s] > 0)
                printf "All rounds: %s %.3f CPU s per GB, http %.3f: %.2f× (per round:%s)\n", s, CPU[s] / GB[s], CPU["http"] / GB["http"], (CPU[s] / GB[s]) / (CPU["http"] / GB["http"]), ratios[s]
        }' "$RESULTS"
    echo
    echo "TLS: ${SESSION:-unknown} (openssl s_client). Server on CPUs $SERVER_CPUS, wrk/curl and the origin on CPUs $CLIENT_CPUS; $(nproc) CPUs, $(uname -r)."
} | tee "$OUT/report.md"
log "raw results and logs in $OUT"
