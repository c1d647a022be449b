#!/usr/bin/env bash
# Load benchmark: N concurrent RTMP viewers against streamfront and against nginx with the RTMP
# module (application vod { play DIR; }), on the same files, pinned to the same cores; and
# RTMPE, RTMPS and RTMPT viewers against streamfront (nginx-rtmp has none), to compare the cost
# of each protocol with plain RTMP at the same N in the same run. With rtmps among the
# protocols, the handshakes alone are measured too: connections that close after the TLS and
# RTMP handshakes, TLS against plain, handshakes per second of server CPU.
#
#   bash scripts/loadbench.sh                   # defaults below
#   LB_VIEWERS="50 100 200" LB_DURATION_S=20 bash scripts/loadbench.sh
#   LB_PROTOCOLS=rtmp bash scripts/loadbench.sh # plain RTMP only (streamfront vs nginx-rtmp)
#
# Settings (environment):
#   LB_VIEWERS      viewer counts to try, ascending          (50 100 200 400 800 1600)
#   LB_PROTOCOLS    protocols to try at each N               (rtmp rtmpe rtmpt; also rtmps, rtmpte)
#                   rtmp runs against both servers, the others against streamfront only
#   LB_DURATION_S   seconds each viewer watches                (30)
#   LB_RAMP_MS      connects spread over this many ms          (5000)
#   LB_BUFFER_MS    SetBufferLength sent after play            (3000, as ffmpeg)
#   LB_STARTUP_MS   media the simulated player buffers first   (1000)
#   LB_MEDIA        directory with bench.mp4 and bench.flv     (generated: 60 s, ~1 Mbit/s H.264+AAC)
#   LB_FLV_N        also play bench.flv with this many viewers (100; 0 = skip)
#   LB_HANDSHAKES   with rtmps: connections of the handshake-only runs, over 10 s (2000;
#                   0 = skip); the server's certificate is RSA 2048, made with openssl
#   LB_SERVER_CPUS  cores both servers are pinned to           (0)
#   LB_CLIENT_CPUS  cores the load client is pinned to         (1, or 0 on a 1-core machine)
#   LB_BUDGET_S     stop starting new runs after this long     (300 + 240 per protocol)
#   LB_OUT          directory for logs, raw results, report    (a new temp dir)
#   SF_BIN, LB_BIN  prebuilt streamfront / sf-loadbench        (built with cargo --release)
#   SF_BASELINE_BIN another streamfront binary (e.g. an older commit's release build), run as
#                   server "streamfront-before" beside the others for RTMP, so that a change is
#                   compared with what it replaces in the same run      (none)
#
# A server (per protocol) stops being tried at larger N once fewer than 90% of its viewers
# played without rebuffering. RTMPT viewers poll like FFmpeg (50 ms sleep after an empty
# response) and are spread over local addresses 127.0.0.x, 50 per address, because streamfront
# allows 64 tunnels per client address. Everything listens on 127.0.0.1 only. The report (a markdown table) is printed
# at the end and written to $LB_OUT/report.md.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

VIEWERS=${LB_VIEWERS:-"50 100 200 400 800 1600"}
PROTOCOLS=${LB_PROTOCOLS:-"rtmp rtmpe rtmpt"}
for proto in $PROTOCOLS; do
    case "$proto" in rtmp | rtmpe | rtmps | rtmpt | rtmpte) ;; *) echo "loadbench: unknown protocol $proto" >&2; exit 2 ;; esac
done
DURATION_S=${LB_DURATION_S:-30}
RAMP_MS=${LB_RAMP_MS:-5000}
BUFFER_MS=${LB_BUFFER_MS:-3000}
STARTUP_MS=${LB_STARTUP_MS:-1000}
FLV_N=${LB_FLV_N:-100}
HANDSHAKES=${LB_HANDSHAKES:-2000}
case " $PROTOCOLS " in *" rtmps "*) WITH_RTMPS=1 ;; *) WITH_RTMPS=0; HANDSHAKES=0 ;; esac
SERVER_CPUS=${LB_SERVER_CPUS:-0}
if [ "$(nproc)" -gt 1 ]; then CLIENT_CPUS=${LB_CLIENT_CPUS:-1}; else CLIENT_CPUS=${LB_CLIENT_CPUS:-0}; fi
BUDGET_S=${LB_BUDGET_S:-$((300 + 240 * $(echo $PROTOCOLS | wc -w)))}
OUT=${LB_OUT:-$(mktemp -d /tmp/loadbench.XXXXXX)}
mkdir -p "$OUT"
chmod 755 "$OUT"
START=$SECONDS

log() { echo "loadbench: $*" >&2; }
# shellcheck source=lib/bench.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/bench.sh"

# --- tools -------------------------------------------------------------------------------
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
need_apt=()
command -v nginx >/dev/null 2>&1 || need_apt+=(nginx)
dpkg -s libnginx-mod-rtmp >/dev/null 2>&1 || need_apt+=(libnginx-mod-rtmp)
if [ -z "${LB_MEDIA:-}" ]; then command -v ffmpeg >/dev/null 2>&1 || need_apt+=(ffmpeg); fi
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
if [ ${#need_apt[@]} -gt 0 ]; then
    log "installing ${need_apt[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
RTMP_SO=$(dpkg -L libnginx-mod-rtmp | grep -m1 '/ngx_rtmp_module\.so$')
NGINX=$(command -v nginx)

release_binaries

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true

# --- media -------------------------------------------------------------------------------
if [ -n "${LB_MEDIA:-}" ]; then
    MEDIA=$(cd "$LB_MEDIA" && pwd)
else
    MEDIA=$OUT/media
    mkdir -p "$MEDIA"
    make_bench_media "$MEDIA"
fi
# nginx workers run as an unprivileged user: they must be able to read the media.
chmod 755 "$MEDIA"
chmod 644 "$MEDIA"/bench.* 2>/dev/null || true
for f in bench.mp4 bench.flv; do
    [ -r "$MEDIA/$f" ] || { log "missing $MEDIA/$f"; exit 1; }
done

# --- certificate (RTMPS) ------------------------------------------------------------------
# For 127.0.0.1: the load client connects to the IP address, without SNI, and checks the
# certificate against it and the CA, as FFmpeg does with -tls_verify 1 -ca_file.
make_tls_cert "$OUT/tls"
TLS_CA=$OUT/tls/ca.pem
TLS_CERT=$OUT/tls/cert.pem
TLS_KEY=$OUT/tls/key.pem

# --- processes ---------------------------------------------------------------------------
SERVER_PID=""
SAMPLER_PID=""
cleanup() {
    [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null || true
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
    SAMPLER_PID=""
}
trap 'cleanup' EXIT
trap 'cleanup; exit 130' INT TERM

# shellcheck source=lib/ports.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/ports.sh"

# The server's processes: the PID and its children (nginx workers).
server_pids() { echo "$SERVER_PID"; pgrep -P "$SERVER_PID" 2>/dev/null || true; }
# utime and stime of all server processes, in clock ticks: "user sys".
server_ticks() {
    local user=0 sys=0 pid rest
    for pid in $(server_pids); do
        rest=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
        set -- $rest
        user=$((user + ${12})); sys=$((sys + ${13}))
    done
    echo "$user $sys"
}
# VmRSS of all server processes, in KiB.
server_rss_kb() {
    local total=0 pid kb
    for pid in $(server_pids); do
        kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || continue
        total=$((total + ${kb:-0}))
    done
    echo "$total"
}
TICKS=$(getconf CLK_TCK)

ADMIN_PORT=""
cache_bytes() {
    if [ -n "$ADMIN_PORT" ]; then
        curl -s --max-time 1 "http://127.0.0.1:$ADMIN_PORT/metrics" \
            | awk '/^streamfront_cache_bytes\{tier="memory"\} / {print int($2); f=1} END {if (!f) print 0}'
    else
        echo 0
    fi
}

# start_streamfront [BINARY]: the binary defaults to $SF_BIN.
start_streamfront() {
    local bin=${1:-$SF_BIN} rtmp http https tls=()
    rtmp=$(free_port); http=$(free_port); https=$(free_port); ADMIN_PORT=$(free_port)
    # An HTTPS listener for RTMPS, not given to a baseline binary that may predate it.
    if [ "$WITH_RTMPS" = 1 ] && [ "$bin" = "$SF_BIN" ]; then
        tls=(--https-listen "127.0.0.1:$https" --tls-cert "localhost=$TLS_CERT:$TLS_KEY")
    fi
    rm -rf "$OUT/sf-data"; mkdir -p "$OUT/sf-data"
    taskset -c "$SERVER_CPUS" "$bin" serve --origin "$MEDIA" --data-dir "$OUT/sf-data" \
        --rtmp-listen "127.0.0.1:$rtmp" --http-listen "127.0.0.1:$http" "${tls[@]}" \
        --admin-listen "127.0.0.1:$ADMIN_PORT" --log warn 2>>"$OUT/streamfront.log" &
    SERVER_PID=$!
    PORT=$rtmp
    HTTP_PORT=$http
    HTTPS_PORT=$https
    wait_port "$rtmp" "$SERVER_PID" && wait_port "$http" "$SERVER_PID" || return 1
    if [ ${#tls[@]} -gt 0 ]; then wait_port "$https" "$SERVER_PID"; fi
}

start_nginx() {
    local rtmp workers
    rtmp=$(free_port); ADMIN_PORT=""
    workers=$(taskset -c "$SERVER_CPUS" nproc)
    mkdir -p "$OUT/nginx"
    cat >"$OUT/nginx/nginx.conf" <<EOF
load_module $RTMP_SO;
worker_processes $workers;
daemon off;
pid $OUT/nginx/nginx.pid;
error_log $OUT/nginx/error.log warn;
worker_rlimit_nofile 65536;
events { worker_connections 16384; }
rtmp {
    server {
        listen 127.0.0.1:$rtmp;
        application vod {
            play $MEDIA;
        }
    }
}
EOF
    taskset -c "$SERVER_CPUS" "$NGINX" -p "$OUT/nginx" -c "$OUT/nginx/nginx.conf" -e "$OUT/nginx/error.log" &
    SERVER_PID=$!
    PORT=$rtmp
    wait_port "$rtmp" "$SERVER_PID"
}

# Samples "rss_kb cache_bytes" every 250 ms into $1 until killed.
sampler() {
    while :; do
        echo "$(server_rss_kb) $(cache_bytes)" >>"$1"
        sleep 0.25
    done
}

RESULTS=$OUT/results.txt
: >"$RESULTS"

# run SERVER FILE N PROTOCOL [MODE]: one benchmark run against a freshly started server;
# MODE connect: the viewers only connect and finish the handshakes (over 10 s).
run() {
    local server=$1 file=$2 n=$3 proto=${4:-rtmp} mode=${5:-play} app stream idle_kb samples t0 t1 line port
    local try extra=()
    for try in 1 2 3; do
        case "$server" in
            streamfront) start_streamfront && break ;;
            streamfront-before) start_streamfront "$SF_BASELINE_BIN" && break ;;
            nginx-rtmp) start_nginx && break ;;
        esac
        cleanup
        [ "$try" = 3 ] && { log "$server did not start"; exit 1; }
    done
    case "$server" in
        streamfront | streamfront-before) app=cfx/st
            if [ "$file" = mp4 ]; then stream=mp4:bench.mp4; else stream=bench; fi ;;
        nginx-rtmp) app=vod; stream=bench.$file ;;
    esac
    sleep 1
    idle_kb=$(server_rss_kb)
    samples=$OUT/samples-$server-$proto-$file-$n-$mode.txt
    : >"$samples"
    taskset -c "$CLIENT_CPUS" bash -c "$(declare -f sampler server_rss_kb server_pids cache_bytes); SERVER_PID=$SERVER_PID ADMIN_PORT=$ADMIN_PORT; sampler '$samples'" &
    SAMPLER_PID=$!
    t0=$(server_ticks)
    case "$proto" in
        rtmpt | rtmpte) port=$HTTP_PORT ;;
        rtmps) port=$HTTPS_PORT; extra+=(--ca-file "$TLS_CA") ;;
        *) port=$PORT ;;
    esac
    local ramp_ms=$RAMP_MS
    if [ "$mode" = connect ]; then extra+=(--connect-only); ramp_ms=10000; fi
    log "$server $proto $file N=$n $mode (port $port)"
    line=$(taskset -c "$CLIENT_CPUS" "$LB_BIN" --addr "127.0.0.1:$port" --protocol "$proto" --app "$app" --stream "$stream" \
        -n "$n" --duration-s "$DURATION_S" --ramp-ms "$ramp_ms" --buffer-ms "$BUFFER_MS" \
        --startup-ms "$STARTUP_MS" "${extra[@]}" 2> >(tee -a "$OUT/client.log" >&2) | grep '^RESULT' || true)
    t1=$(server_ticks)
    kill "$SAMPLER_PID" 2>/dev/null || true
    wait "$SAMPLER_PID" 2>/dev/null || true
    SAMPLER_PID=""
    cleanup
    wait 2>/dev/null || true
    if [ -z "$line" ]; then
        log "no result from sf-loadbench"; line="RESULT viewers=$n served=0 no_rebuffer=0 failed=$n bytes=0 protocol=$proto mode=$mode"
    fi
    # peak of (RSS − cache) and the RSS at that moment.
    local peak
    peak=$(awk '{d = $1 - $2/1024; if (d > m) {m = d; r = $1; c = $2}} END {printf "%d %d %d", m, r, c/1024}' "$samples")
    local user=$(( ${t1% *} - ${t0% *} )) sys=$(( ${t1#* } - ${t0#* } ))
    echo "$line server=$server file=$file idle_rss_kb=$idle_kb peak_net_kb=${peak%% *} peak_rss_kb=$(echo "$peak" | cut -d' ' -f2) cache_kb=${peak##* } cpu_ticks=$((user + sys)) user_ticks=$user sys_ticks=$sys ticks_per_s=$TICKS" >>"$RESULTS"
}

field() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k {print $2}'; }

STEP_S=$((DURATION_S + RAMP_MS / 1000 + 4))
declare -A saturated=()
for n in $VIEWERS; do
    # All protocols at one N back to back, so that their ratios come from the same minutes.
    for proto in $PROTOCOLS; do
        if [ "$proto" = rtmp ]; then servers="streamfront ${SF_BASELINE_BIN:+streamfront-before} nginx-rtmp"; else servers=streamfront; fi
        for server in $servers; do
            [ -n "${saturated[$server/$proto]:-}" ] && continue
            if [ $((SECONDS - START + STEP_S)) -gt "$BUDGET_S" ]; then
                log "time budget reached, skipping $server $proto N=$n"; continue
            fi
            run "$server" mp4 "$n" "$proto"
            last=$(tail -1 "$RESULTS")
            if [ $(( $(field "$last" no_rebuffer) * 10 )) -lt $((n * 9)) ]; then saturated[$server/$proto]=1; fi
        done
    done
done
if [ "$FLV_N" -gt 0 ]; then
    for server in streamfront nginx-rtmp; do
        if [ $((SECONDS - START + STEP_S)) -gt "$((BUDGET_S + 2 * STEP_S))" ]; then continue; fi
        run "$server" flv "$FLV_N" rtmp
    done
fi
if [ "$HANDSHAKES" -gt 0 ]; then
    for proto in rtmp rtmps; do run streamfront mp4 "$HANDSHAKES" "$proto" connect; done
fi

# --- report ------------------------------------------------------------------------------
{
    echo "| server | protocol | file | N | without rebuffering | rebuffered | failed | TTFF p50 ms | TTFF p99 ms | CPU s per GB sent | memory per viewer KiB | peak RSS MiB | GB sent | client CPU % |"
    echo "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    while read -r line; do
        f() { field "$line" "$1"; }
        n=$(f viewers); bytes=$(f bytes); ticks=$(f cpu_ticks); tps=$(f ticks_per_s)
        awk -v s="$(f server)" -v proto="$(f protocol)" -v file="$(f file)" -v n="$n" -v ok="$(f no_rebuffer)" -v rb="$(f rebuffered)" \
            -v fail="$(f failed)" -v p50="$(f ttff_p50_ms)" -v p99="$(f ttff_p99_ms)" -v bytes="$bytes" \
            -v ticks="$ticks" -v tps="$tps" -v idle="$(f idle_rss_kb)" -v net="$(f peak_net_kb)" \
            -v rss="$(f peak_rss_kb)" -v ccpu="$(f client_cpu_s)" -v wall="$(f wall_s)" 'BEGIN {
                gb = bytes / 1e9
                cpu = (gb > 0) ? sprintf("%.1f", ticks / tps / gb) : "NA"
                mem = sprintf("%.1f", (net - idle) / n)
                cc = (wall > 0 && ccpu != "NA" && ccpu != "") ? sprintf("%.0f", 100 * ccpu / wall) : "NA"
                printf "| %s | %s | %s | %d | %d | %d | %d | %s | %s | %s | %s | %.1f | %.2f | %s |\n",
                    s, (proto == "" ? "rtmp" : proto), file, n, ok, rb, fail, p50, p99, cpu, mem, rss / 1024, gb, cc
            }'
    done < <(grep -v ' mode=connect' "$RESULTS")
    echo
    # streamfront, mp4: each protocol against plain RTMP at the same N.
    if [ "$(echo $PROTOCOLS | wc -w)" -gt 1 ]; then
        echo "streamfront, each protocol against plain RTMP at the same N (CPU = server CPU s per GB of RTMP stream delivered):"
        echo
        echo "| N | protocol | CPU s per GB | × RTMP | user / system s per GB | without rebuffering | TTFF p50 ms | HTTP requests per viewer per s | wire bytes / RTMP bytes |"
        echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|"
        awk '{
                delete v
                for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
                if (v["server"] != "streamfront" || v["file"] != "mp4" || v["mode"] == "connect") next
                p = (v["protocol"] == "") ? "rtmp" : v["protocol"]; n = v["viewers"]
                gb = v["bytes"] / 1e9
                cpu = (gb > 0) ? v["cpu_ticks"] / v["ticks_per_s"] / gb : -1
                key = n SUBSEP p
                C[key] = cpu; OK[key] = v["no_rebuffer"]; T[key] = v["ttff_p50_ms"]
                U[key] = (gb > 0 && v["user_ticks"] != "") ? sprintf("%.2f / %.2f", v["user_ticks"] / v["ticks_per_s"] / gb, v["sys_ticks"] / v["ticks_per_s"] / gb) : "NA"
                R[key] = (v["wall_s"] > 0 && n > 0) ? v["http_requests"] / v["wall_s"] / n : 0
                W[key] = (v["bytes"] > 0) ? v["wire_bytes"] / v["bytes"] : 0
                if (!(key in seen)) { seen[key] = 1; order[++k] = key }
            } END {
                for (i = 1; i <= k; i++) {
                    split(order[i], nk, SUBSEP); n = nk[1]; p = nk[2]
                    base = C[n SUBSEP "rtmp"]
                    ratio = (p != "rtmp" && base > 0 && C[order[i]] > 0) ? sprintf("%.2f", C[order[i]] / base) : (p == "rtmp" ? "1" : "NA")
                    cpu = (C[order[i]] >= 0) ? sprintf("%.2f", C[order[i]]) : "NA"
                    req = (R[order[i]] > 0) ? sprintf("%.1f", R[order[i]]) : "–"
                    printf "| %d | %s | %s | %s | %s | %d | %s | %s | %.3f |\n", n, p, cpu, ratio, U[order[i]], OK[order[i]], T[order[i]], req, W[order[i]]
                }
            }' "$RESULTS"
        echo
    fi
    for proto in $PROTOCOLS; do
        if [ "$proto" = rtmp ]; then servers="streamfront ${SF_BASELINE_BIN:+streamfront-before} nginx-rtmp"; else servers=streamfront; fi
        for server in $servers; do
            best=$(awk -v s="$server" -v p="$proto" '{
                    delete v
                    for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
                    if (v["protocol"] == "") v["protocol"] = "rtmp"
                    if (v["server"] == s && v["protocol"] == p && v["file"] == "mp4" && v["mode"] != "connect" && v["no_rebuffer"] * 100 >= v["viewers"] * 99 && v["viewers"] > m) m = v["viewers"]
                } END { print m + 0 }' "$RESULTS")
            echo "- $server $proto: largest N with at least 99% of viewers without rebuffering: $best"
        done
    done
    echo
    if grep -q ' mode=connect' "$RESULTS"; then
        echo "streamfront, handshakes alone (connections closed after the TLS and RTMP handshakes, spread over 10 s; RTMPS: TLS 1.3, RSA 2048 certificate, no resumption):"
        echo
        echo "| protocol | connections | completed | server CPU s | handshakes per server CPU s | CPU ms per handshake | × RTMP | client CPU s |"
        echo "|---|---:|---:|---:|---:|---:|---:|---:|"
        awk '{
                delete v
                for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
                if (v["mode"] != "connect") next
                p = v["protocol"]; cpu = v["cpu_ticks"] / v["ticks_per_s"]
                P[++k] = p; N[k] = v["viewers"]; OK[k] = v["served"]; C[k] = cpu; CC[k] = v["client_cpu_s"]
                MS[k] = (v["served"] > 0) ? 1000 * cpu / v["served"] : -1
                if (p == "rtmp") base = MS[k]
            } END {
                for (i = 1; i <= k; i++) {
                    rate = (C[i] > 0) ? sprintf("%.0f", OK[i] / C[i]) : "NA"
                    ratio = (base > 0 && MS[i] > 0) ? sprintf("%.1f", MS[i] / base) : "NA"
                    printf "| %s | %d | %d | %.2f | %s | %.3f | %s | %s |\n", P[i], N[i], OK[i], C[i], rate, MS[i], ratio, CC[i]
                }
            }' "$RESULTS"
        echo
    fi
    echo "Settings: protocols $PROTOCOLS; ${DURATION_S} s per viewer, connects over ${RAMP_MS} ms, buffer ${BUFFER_MS} ms, player startup ${STARTUP_MS} ms;"
    echo "servers on CPUs $SERVER_CPUS (nginx worker_processes = $(taskset -c "$SERVER_CPUS" nproc)), client on CPUs $CLIENT_CPUS; $(nproc) CPUs, $(uname -r)."
    echo "Memory per viewer = (peak of RSS minus streamfront's cache_memory_bytes during the run − idle RSS) / N."
} | tee "$OUT/report.md"
log "raw results and logs in $OUT"
