#!/usr/bin/env bash
# HLS benchmark (issue 14 "Speed"): streamfront packaging MPEG-TS segments on the fly from an
# MP4, against nginx serving the same stream's segments pre-made by `ffmpeg -f hls -c copy` as
# static files; both pinned to the same core, loaded by wrk pinned to another, in one run.
# Then the time to the first segment on a cold cache with an S3 origin (sf-s3-server).
#
#   bash scripts/hlsbench.sh                     # defaults below, ~2 minutes plus the build
#   HB_DURATION_S=30 HB_CONNECTIONS="8 64" bash scripts/hlsbench.sh
#
# Settings (environment):
#   HB_DURATION_S    seconds of each wrk run                                         (20)
#   HB_CONNECTIONS   wrk connection counts, one run per server each                  (16)
#   HB_ROUNDS        runs per server and count, alternating servers (best kept)      (2)
#   HB_SEGMENT_S     segment length for both (--hls-segment-seconds, -hls_time)      (6)
#   HB_COLD_SAMPLES  cold objects fetched for the time to the first segment          (10)
#   HB_MEDIA         directory with bench.mp4 (else generated: 60 s, ~1 Mbit/s H.264 + AAC,
#                    the same ffmpeg command as loadbench.sh)
#   HB_SERVER_CPUS   cores the servers (and sf-s3-server) are pinned to              (0)
#   HB_CLIENT_CPUS   cores wrk and curl are pinned to                    (1, or 0 on 1 core)
#   HB_OUT           directory for logs, raw results, report               (a new temp dir)
#   SF_BIN, S3_BIN   prebuilt streamfront / sf-s3-server       (built with cargo --release)
#
# How it measures. Warm: each server first answers the playlist and every segment once (so
# streamfront has the layout and the blocks in memory, nginx the files in the page cache);
# then wrk asks for the segments round robin over keep-alive connections for HB_DURATION_S.
# Server CPU = user + system ticks of the server's processes (nginx: master and worker) over
# the run, from /proc; bytes = what wrk read (bodies and headers). CPU s per GB = CPU s /
# (bytes / 1e9); requests per second = wrk's completed requests / its run time. Both servers
# are loaded by wrk keeping every connection busy; on a 2-core machine wrk and the kernel's
# loopback work on its core can be the limit before a server's core is, so the report also
# gives requests per second of server CPU (requests / server CPU s): the server's capacity on
# one core, which is what the ratios compare. Cold: each sample is a new key (a hard link of bench.mp4 in the
# bucket) on a streamfront with an empty cache: time to first segment = the playlist GET plus
# the GET of its first segment, one after the other as a player does (curl's time_total).
# Everything listens on 127.0.0.1 only. The report (markdown) is printed at the end and
# written to $HB_OUT/report.md.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

DURATION_S=${HB_DURATION_S:-20}
CONNECTIONS=${HB_CONNECTIONS:-16}
ROUNDS=${HB_ROUNDS:-2}
SEGMENT_S=${HB_SEGMENT_S:-6}
COLD_SAMPLES=${HB_COLD_SAMPLES:-10}
SERVER_CPUS=${HB_SERVER_CPUS:-0}
if [ "$(nproc)" -gt 1 ]; then CLIENT_CPUS=${HB_CLIENT_CPUS:-1}; else CLIENT_CPUS=${HB_CLIENT_CPUS:-0}; fi
OUT=${HB_OUT:-$(mktemp -d /tmp/hlsbench.XXXXXX)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
chmod 755 "$OUT"

log() { echo "hlsbench: $*" >&2; }
# shellcheck source=lib/bench.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/bench.sh"
# shellcheck source=lib/ports.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/ports.sh"

# --- tools -------------------------------------------------------------------------------
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
need_apt=()
command -v nginx >/dev/null 2>&1 || need_apt+=(nginx)
command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v ffmpeg >/dev/null 2>&1 || need_apt+=(ffmpeg)
if [ ${#need_apt[@]} -gt 0 ]; then
    log "installing ${need_apt[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
NGINX=$(command -v nginx)

release_server_binaries
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true

# --- media -------------------------------------------------------------------------------
if [ -n "${HB_MEDIA:-}" ]; then
    MEDIA=$(cd "$HB_MEDIA" && pwd)
else
    MEDIA=$OUT/media
    make_bench_media "$MEDIA"
fi
[ -r "$MEDIA/bench.mp4" ] || { log "missing $MEDIA/bench.mp4"; exit 1; }
# The same stream segmented ahead of time, as a static HLS site for nginx (workers run as an
# unprivileged user: everything readable).
STATIC=$OUT/static
mkdir -p "$STATIC"
log "segmenting bench.mp4 with ffmpeg -f hls -c copy into $STATIC"
ffmpeg -hide_banner -loglevel error -y -i "$MEDIA/bench.mp4" -c copy -f hls -hls_time "$SEGMENT_S" \
    -hls_playlist_type vod -hls_segment_filename "$STATIC/seg-%d.ts" "$STATIC/index.m3u8"
chmod -R a+rX "$STATIC"
ORIGIN=$OUT/origin
mkdir -p "$ORIGIN"
ln -f "$MEDIA/bench.mp4" "$ORIGIN/bench.mp4" 2>/dev/null || cp "$MEDIA/bench.mp4" "$ORIGIN/bench.mp4"

# --- processes ---------------------------------------------------------------------------
SERVER_PID=""
S3_PID=""
stop_pid() {
    local pid=$1
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() { stop_pid "$SERVER_PID"; SERVER_PID=""; stop_pid "$S3_PID"; S3_PID=""; }
trap 'cleanup' EXIT
trap 'cleanup; exit 130' INT TERM

# User + system ticks of the server's processes (the PID and its children: nginx's worker).
server_ticks() {
    local total=0 pid rest
    for pid in $SERVER_PID $(pgrep -P "$SERVER_PID" 2>/dev/null || true); do
        rest=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
        set -- $rest
        total=$((total + ${12} + ${13}))
    done
    echo "$total"
}
TICKS=$(getconf CLK_TCK)

PORT=""
BASE=""   # the path of the playlist's directory on the running server
# start_streamfront ORIGIN [ENV...]: streamfront on loopback over ORIGIN, with an empty data dir.
start_streamfront() {
    local origin=$1 try rtmp admin
    shift
    for try in 1 2 3; do
        PORT=$(free_port); rtmp=$(free_port); admin=$(free_port)
        rm -rf "$OUT/sf-data"; mkdir -p "$OUT/sf-data"
        env "$@" taskset -c "$SERVER_CPUS" "$SF_BIN" serve --origin "$origin" --data-dir "$OUT/sf-data" \
            --rtmp-listen "127.0.0.1:$rtmp" --http-listen "127.0.0.1:$PORT" --admin-listen "127.0.0.1:$admin" \
            --hls-segment-seconds "$SEGMENT_S" --log warn 2>>"$OUT/streamfront.log" &
        SERVER_PID=$!
        wait_port "$PORT" "$SERVER_PID" && return 0
        stop_pid "$SERVER_PID"; SERVER_PID=""
    done
    log "streamfront did not start (see $OUT/streamfront.log)"; exit 1
}

start_nginx() {
    local try
    mkdir -p "$OUT/nginx"
    for try in 1 2 3; do
        PORT=$(free_port)
        cat >"$OUT/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $OUT/nginx/nginx.pid;
error_log $OUT/nginx/error.log warn;
worker_rlimit_nofile 65536;
events { worker_connections 4096; }
http {
    types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$PORT;
        root $STATIC;
    }
}
EOF
        taskset -c "$SERVER_CPUS" "$NGINX" -p "$OUT/nginx" -c "$OUT/nginx/nginx.conf" -e "$OUT/nginx/error.log" &
        SERVER_PID=$!
        wait_port "$PORT" "$SERVER_PID" && return 0
        stop_pid "$SERVER_PID"; SERVER_PID=""
    done
    log "nginx did not start (see $OUT/nginx/error.log)"; exit 1
}

# The playlist's segment paths on the running server, one a line, into FILE; every one fetched
# once (warming the server), checking each answers 200.
warm_paths() {
    local file=$1 uri
    : >"$file"
    for uri in $(curl -sf "http://127.0.0.1:$PORT$BASE/index.m3u8" | grep -v '^#'); do
        echo "$BASE/$uri" >>"$file"
        curl -sf -o /dev/null "http://127.0.0.1:$PORT$BASE/$uri" || { log "GET $BASE/$uri failed"; exit 1; }
    done
    [ -s "$file" ] || { log "no segments in $BASE/index.m3u8"; exit 1; }
}

# wrk asks for the paths of $PATHS_FILE round robin and prints one WRK line.
cat >"$OUT/rotate.lua" <<'EOF'
local paths = {}
for line in io.lines(os.getenv("HB_PATHS")) do paths[#paths + 1] = line end
local i = 0
request = function()
    i = i % #paths + 1
    return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("WRK requests=%d bytes=%d duration_us=%d errors=%d p50_us=%d p99_us=%d\n",
        summary.requests, summary.bytes, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
        latency:percentile(50), latency:percentile(99)))
end
EOF

RESULTS=$OUT/results.txt
: >"$RESULTS"

# load SERVER CONNECTIONS: one warm run against a freshly started server.
load() {
    local server=$1 c=$2 t0 t1 line
    case "$server" in
        streamfront) start_streamfront "$ORIGIN"; BASE=/hls/bench.mp4 ;;
        nginx) start_nginx; BASE="" ;;
    esac
    warm_paths "$OUT/paths-$server.txt"
    log "$server: wrk, $c connections, ${DURATION_S} s over $(wc -l <"$OUT/paths-$server.txt") segments"
    t0=$(server_ticks)
    line=$(HB_PATHS="$OUT/paths-$server.txt" taskset -c "$CLIENT_CPUS" wrk -t1 -c"$c" -d"${DURATION_S}s" \
        -s "$OUT/rotate.lua" "http://127.0.0.1:$PORT/" | tee -a "$OUT/wrk.log" | grep '^WRK' || true)
    t1=$(server_ticks)
    stop_pid "$SERVER_PID"; SERVER_PID=""
    [ -n "$line" ] || { log "no result from wrk (see $OUT/wrk.log)"; exit 1; }
    echo "$line server=$server connections=$c cpu_ticks=$((t1 - t0)) ticks_per_s=$TICKS" >>"$RESULTS"
}

for c in $CONNECTIONS; do
    for round in $(seq "$ROUNDS"); do
        load streamfront "$c"
        load nginx "$c"
    done
done

# --- cold: time to the first segment from S3 ---------------------------------------------
S3_ROOT=$OUT/s3
rm -rf "$S3_ROOT"
mkdir -p "$S3_ROOT/media/vod"
for i in $(seq "$COLD_SAMPLES"); do
    ln "$MEDIA/bench.mp4" "$S3_ROOT/media/vod/cold-$i.mp4" 2>/dev/null || cp "$MEDIA/bench.mp4" "$S3_ROOT/media/vod/cold-$i.mp4"
done
S3_PORT=""
for try in 1 2 3; do
    S3_PORT=$(free_port)
    taskset -c "$CLIENT_CPUS" "$S3_BIN" --root "$S3_ROOT" --listen "127.0.0.1:$S3_PORT" >"$OUT/s3.env" 2>"$OUT/s3.log" &
    S3_PID=$!
    wait_port "$S3_PORT" "$S3_PID" && break
    stop_pid "$S3_PID"; S3_PID=""
    [ "$try" = 3 ] && { log "sf-s3-server did not start (see $OUT/s3.log)"; exit 1; }
done
start_streamfront "s3://media/vod" AWS_ACCESS_KEY_ID=streamfront-test \
    AWS_SECRET_ACCESS_KEY=streamfront-test-secret-0123456789 AWS_REGION=us-east-1 \
    AWS_ENDPOINT_URL="http://127.0.0.1:$S3_PORT"
COLD=$OUT/cold.txt
: >"$COLD"
for i in $(seq "$COLD_SAMPLES"); do
    base="http://127.0.0.1:$PORT/hls/cold-$i.mp4"
    playlist=$(taskset -c "$CLIENT_CPUS" curl -sf -o "$OUT/cold-$i.m3u8" -w '%{time_total}' "$base/index.m3u8")
    first=$(grep -m1 -v '^#' "$OUT/cold-$i.m3u8")
    segment=$(taskset -c "$CLIENT_CPUS" curl -sf -o /dev/null -w '%{time_total} %{size_download}' "$base/$first")
    echo "$playlist $segment" >>"$COLD"
done
cleanup

# --- report ------------------------------------------------------------------------------
field() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k {print $2}'; }
{
    echo "Warm, one core each (servers on CPUs $SERVER_CPUS, wrk on CPUs $CLIENT_CPUS), ${DURATION_S} s per run,"
    echo "segments of ${SEGMENT_S} s requested round robin; per server and connection count, the run with the most requests per server CPU s of $ROUNDS:"
    echo
    echo "| server | connections | requests/s | server CPU % | requests per server CPU s | MB/s | CPU s per GB | p50 ms | p99 ms | errors |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    awk '{
            delete v
            for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
            key = v["server"] SUBSEP v["connections"]
            secs = v["duration_us"] / 1e6
            cpu_s = v["cpu_ticks"] / v["ticks_per_s"]
            per_cpu = (cpu_s > 0) ? v["requests"] / cpu_s : 0
            if (key in best && best[key] >= per_cpu) next
            if (!(key in best)) order[++k] = key
            best[key] = per_cpu
            gb = v["bytes"] / 1e9
            row[key] = sprintf("| %s | %d | %.0f | %.0f | %.0f | %.1f | %.2f | %.1f | %.1f | %d |", v["server"], v["connections"],
                v["requests"] / secs, 100 * cpu_s / secs, per_cpu, v["bytes"] / 1e6 / secs, cpu_s / gb,
                v["p50_us"] / 1e3, v["p99_us"] / 1e3, v["errors"])
            cpu[key] = cpu_s / gb
        } END {
            for (i = 1; i <= k; i++) print row[order[i]]
            print ""
            for (i = 1; i <= k; i++) {
                split(order[i], sc, SUBSEP)
                if (sc[1] != "streamfront") continue
                n = "nginx" SUBSEP sc[2]
                if (!(n in best)) continue
                printf "streamfront / nginx at %d connections: CPU per GB × %.2f (target ≤ 1.5), requests per server CPU s × %.2f (target ≥ 0.5)\n",
                    sc[2], cpu[order[i]] / cpu[n], best[order[i]] / best[n]
            }
        }' "$RESULTS"
    echo
    echo "Cold cache, S3 origin (sf-s3-server on loopback), $COLD_SAMPLES new objects: time to first segment"
    echo "= playlist GET, then its first segment's GET:"
    echo
    echo "| | p50 ms | max ms |"
    echo "|---|---:|---:|"
    for col in 1 2 total; do
        case $col in 1) name="playlist (open, index, layout)" ;; 2) name="first segment" ;; *) name="playlist + first segment" ;; esac
        awk -v col="$col" '{ print (col == "total") ? $1 + $2 : $col }' "$COLD" | sort -g \
            | awk -v name="$name" '{ v[NR] = $1 } END { printf "| %s | %.1f | %.1f |\n", name, 1000 * v[int((NR + 1) / 2)], 1000 * v[NR] }'
    done
    echo
    echo "First segment: $(awk '{print $3}' "$COLD" | head -1) bytes. Raw results: $RESULTS, $COLD."
} | tee "$OUT/report.md"
