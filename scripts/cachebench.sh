#!/usr/bin/env bash
# Cache benchmark: time to first frame (TTFF) when streamfront serves from its edge cache (a
# hit: warm memory, or warm disk after a restart), when it has to go to an S3 origin (a miss:
# S3 on loopback, sf-s3-server, with an emulated round trip added per request), and when it
# serves a local directory; plus viewers without rebuffering and server CPU per GB at a
# moderate N, warm S3 cache against local directory.
#
#   bash scripts/cachebench.sh                      # defaults below, ~5 minutes plus the build
#   CB_LATENCIES="0 100" CB_LOAD_N=0 bash scripts/cachebench.sh   # TTFF only, 100 ms round trips
#
# Settings (environment):
#   CB_KEYS          single-viewer samples per case: each plays its own object once  (10)
#   CB_CROWD         viewers arriving together on one cold object ("crowd" rows)     (50)
#   CB_CROWD_RAMP_MS their connects are spread over this many ms                        (0)
#   CB_LATENCIES     ms the S3 server adds to each request, one round of runs each (0 20 50);
#                    the first must be 0 (the baseline the others are compared with)
#   CB_BLOCK_KB      streamfront --cache-block-kb                                    (1024)
#   CB_LOAD_N        viewers for the load runs (warm S3 cache vs local); 0 = skip     (400)
#   CB_LOAD_DURATION_S  seconds each load viewer watches                              (30)
#   CB_LOAD_RAMP_MS  load viewers connect over this many ms                           (5000)
#   CB_MEDIA         directory with bench.mp4 (else LB_MEDIA; else generated: 60 s,
#                    ~1 Mbit/s H.264 + AAC, the same ffmpeg command as loadbench.sh)
#   CB_SERVER_CPUS   cores streamfront is pinned to                                   (0)
#   CB_CLIENT_CPUS   cores sf-loadbench and sf-s3-server are pinned to   (1, or 0 on 1 core)
#   CB_BUDGET_S      stop starting new phases after this long (build excluded)        (420)
#   CB_OUT           directory for logs, raw results, report               (a new temp dir)
#   CARGO_TARGET_DIR where the release binaries are built                 (/tmp/target-cachebench)
#   SF_BIN, LB_BIN, S3_BIN   prebuilt streamfront / sf-loadbench / sf-s3-server
#
# How it measures. Every object the benchmark plays is a hard link of bench.mp4 under its own
# key in bucket `media` (prefix `vod/`), so each key is cold until first played and the
# same bytes are played in every case. "Miss" rows play each of CB_KEYS keys once with one
# viewer on a streamfront started with an empty --data-dir (so open + first block come from
# S3), and one key with CB_CROWD viewers at once. "Hit, memory" plays the same keys again on
# the same server; "hit, disk" after restarting streamfront on the same --data-dir (memory
# empty, blocks and object records on disk, still fresh: no origin request). "Local" serves
# the same directory with --origin DIR (first play of each key, then again). TTFF is
# sf-loadbench's: from the TCP connect to the first video frame with a picture. For the
# single-viewer rows p50/p99 are over the CB_KEYS samples (nearest rank: p99 = the slowest).
# Origin requests come from streamfront's /metrics (streamfront_origin_requests_total,
# kind="head"/"range") around each run; "before first frame" counts the requests for that key
# whose answers could have reached streamfront before the first frame (sf-s3-server's
# --log-requests log: arrival + added latency within TTFF of the first request).
# Round trips on the first-frame path = (TTFF miss at latency L − at latency 0) / L.
# Everything listens on 127.0.0.1 only. The report (markdown) is printed at the end and
# written to $CB_OUT/report.md.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

KEYS=${CB_KEYS:-10}
CROWD=${CB_CROWD:-50}
CROWD_RAMP_MS=${CB_CROWD_RAMP_MS:-0}
LATENCIES=${CB_LATENCIES:-"0 20 50"}
BLOCK_KB=${CB_BLOCK_KB:-1024}
LOAD_N=${CB_LOAD_N:-400}
LOAD_DURATION_S=${CB_LOAD_DURATION_S:-30}
LOAD_RAMP_MS=${CB_LOAD_RAMP_MS:-5000}
SERVER_CPUS=${CB_SERVER_CPUS:-0}
if [ "$(nproc)" -gt 1 ]; then CLIENT_CPUS=${CB_CLIENT_CPUS:-1}; else CLIENT_CPUS=${CB_CLIENT_CPUS:-0}; fi
BUDGET_S=${CB_BUDGET_S:-420}
OUT=${CB_OUT:-$(mktemp -d /tmp/cachebench.XXXXXX)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
TTFF_DURATION_S=1.5   # a TTFF viewer watches this long (the first frame comes within ms)

log() { echo "cachebench: $*" >&2; }
case "$LATENCIES" in 0 | "0 "*) ;; *) log "CB_LATENCIES must start with 0 (the baseline)"; exit 2 ;; esac

for tool in ffmpeg ffprobe curl taskset; do
    command -v "$tool" >/dev/null 2>&1 || { log "needs $tool"; exit 1; }
done

# --- binaries ----------------------------------------------------------------------------
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/tmp/target-cachebench}
if [ -z "${SF_BIN:-}" ] || [ -z "${LB_BIN:-}" ] || [ -z "${S3_BIN:-}" ]; then
    log "building release binaries in $CARGO_TARGET_DIR"
    cargo build --release -p streamfront -p sf-bench -p sf-testkit --bin streamfront \
        --bin sf-loadbench --bin sf-s3-server >&2
fi
SF_BIN=${SF_BIN:-$CARGO_TARGET_DIR/release/streamfront}
LB_BIN=${LB_BIN:-$CARGO_TARGET_DIR/release/sf-loadbench}
S3_BIN=${S3_BIN:-$CARGO_TARGET_DIR/release/sf-s3-server}
START=$SECONDS

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true

# --- media -------------------------------------------------------------------------------
MEDIA_DIR=${CB_MEDIA:-${LB_MEDIA:-}}
if [ -n "$MEDIA_DIR" ]; then
    MEDIA=$(cd "$MEDIA_DIR" && pwd)/bench.mp4
else
    mkdir -p "$OUT/media"
    MEDIA=$OUT/media/bench.mp4
    log "generating 60 s of 1 Mbit/s H.264 + AAC into $MEDIA"
    ffmpeg -hide_banner -loglevel error -y \
        -f lavfi -i "testsrc2=size=854x480:rate=25" -f lavfi -i "sine=frequency=440:sample_rate=44100" -t 60 \
        -c:v libx264 -preset veryfast -pix_fmt yuv420p -b:v 900k -minrate 900k -maxrate 900k -bufsize 900k \
        -x264-params nal-hrd=cbr:force-cfr=1 -g 50 -c:a aac -b:a 96k -movflags +faststart "$MEDIA"
fi
[ -r "$MEDIA" ] || { log "missing $MEDIA"; exit 1; }
MEDIA_BYTES=$(stat -c %s "$MEDIA")
# Where the first video frame ends: the bytes a player needs before it (moov comes first
# in a faststart file), hence the blocks on the first-frame path.
FIRST_FRAME=$(ffprobe -v error -select_streams v:0 -show_entries packet=pos,size -read_intervals "%+#1" \
    -of csv=p=0 "$MEDIA" | head -1)
FIRST_FRAME_END=$(( ${FIRST_FRAME%%,*} + ${FIRST_FRAME##*,} ))
BLOCK_BYTES=$((BLOCK_KB * 1024))
PATH_BLOCKS=$(( (FIRST_FRAME_END + BLOCK_BYTES - 1) / BLOCK_BYTES ))

# The bucket: root $OUT/s3, bucket media, prefix vod. The local origin is the same directory.
S3_ROOT=$OUT/s3
OBJECTS=$S3_ROOT/media/vod
rm -rf "$S3_ROOT"
mkdir -p "$OBJECTS"
place() { ln "$MEDIA" "$OBJECTS/$1" 2>/dev/null || cp "$MEDIA" "$OBJECTS/$1"; }
for lat in $LATENCIES; do
    for i in $(seq "$KEYS"); do place "miss-$lat-$i.mp4"; done
    place "crowd-$lat.mp4"
done
place load.mp4

# --- processes ---------------------------------------------------------------------------
SF_PID=""
S3_PID=""
stop_pid() {
    local pid=$1
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
stop_sf() { stop_pid "$SF_PID"; SF_PID=""; }
stop_s3() { stop_pid "$S3_PID"; S3_PID=""; }
cleanup() { stop_sf; stop_s3; }
trap 'cleanup' EXIT
trap 'cleanup; exit 130' INT TERM

# shellcheck source=lib/ports.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/ports.sh"

S3_PORT=""
S3_LOG=""
# start_s3 LATENCY_MS: sf-s3-server over $S3_ROOT, logging requests to $S3_LOG.
start_s3() {
    local try
    for try in 1 2 3; do
        S3_PORT=$(free_port)
        S3_LOG=$OUT/s3-$1ms.log
        taskset -c "$CLIENT_CPUS" "$S3_BIN" --root "$S3_ROOT" --listen "127.0.0.1:$S3_PORT" \
            --latency-ms "$1" --log-requests >"$OUT/s3-$1ms.env" 2>"$S3_LOG" &
        S3_PID=$!
        wait_port "$S3_PORT" "$S3_PID" && return 0
        stop_s3
    done
    log "sf-s3-server did not start (see $S3_LOG)"; exit 1
}

RTMP_PORT=""
ADMIN_PORT=""
# start_sf ORIGIN DATA_DIR: streamfront on loopback; S3 credentials for sf-s3-server.
start_sf() {
    local try http
    for try in 1 2 3; do
        RTMP_PORT=$(free_port); http=$(free_port); ADMIN_PORT=$(free_port)
        env AWS_ACCESS_KEY_ID=streamfront-test AWS_SECRET_ACCESS_KEY=streamfront-test-secret-0123456789 \
            AWS_REGION=us-east-1 AWS_ENDPOINT_URL="http://127.0.0.1:${S3_PORT:-9}" \
            taskset -c "$SERVER_CPUS" "$SF_BIN" serve --origin "$1" --data-dir "$2" \
            --rtmp-listen "127.0.0.1:$RTMP_PORT" --http-listen "127.0.0.1:$http" \
            --admin-listen "127.0.0.1:$ADMIN_PORT" --cache-block-kb "$BLOCK_KB" --log warn \
            2>>"$OUT/streamfront.log" &
        SF_PID=$!
        wait_port "$RTMP_PORT" "$SF_PID" && wait_port "$ADMIN_PORT" "$SF_PID" && return 0
        stop_sf
    done
    log "streamfront did not start (see $OUT/streamfront.log)"; exit 1
}

# metric NAME_WITH_LABELS: its value on the running streamfront (0 if absent).
metric() {
    curl -s --max-time 2 "http://127.0.0.1:$ADMIN_PORT/metrics" \
        | awk -v m="$1" '$1 == m {print int($2); f = 1} END {if (!f) print 0}'
}
origin_counts() { echo "$(metric 'streamfront_origin_requests_total{kind="head"}') $(metric 'streamfront_origin_requests_total{kind="range"}')"; }
server_ticks() {
    local rest
    rest=$(sed 's/.*) //' "/proc/$SF_PID/stat")
    set -- $rest
    echo $((${12} + ${13}))
}

field() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k {print $2}'; }

# loadbench STREAM N DURATION_S RAMP_MS [extra args]: prints the RESULT line.
loadbench() {
    local stream=$1 n=$2 dur=$3 ramp=$4 line
    shift 4
    line=$(taskset -c "$CLIENT_CPUS" "$LB_BIN" --addr "127.0.0.1:$RTMP_PORT" --stream "mp4:$stream" \
        -n "$n" --duration-s "$dur" --ramp-ms "$ramp" "$@" 2>>"$OUT/client.log" | grep '^RESULT' || true)
    [ -n "$line" ] || line="RESULT viewers=$n served=0 failed=$n ttff_p50_ms=NA ttff_p99_ms=NA"
    echo "$line"
}

# requests_before KEY TTFF_MS LATENCY_MS: requests for KEY whose answers could have reached
# streamfront before the first frame (arrived at the S3 server, plus the added latency, within
# TTFF of the first request for KEY), as "heads gets".
requests_before() {
    awk -v p="/media/vod/$1" -v t="$2" -v l="$3" '$3 == p {
            if (t0 == "") t0 = $1
            if ($1 - t0 + l <= t) { if ($2 == "HEAD") h++; else if ($2 == "GET") g++ }
        } END {printf "%d %d", h, g}' "$S3_LOG"
}

RESULTS=$OUT/results.txt
: >"$RESULTS"
# record CASE LAT N TTFF_P50 TTFF_P99 HEADS RANGES [BEFORE_HEADS BEFORE_GETS] [extra k=v...]
record() {
    echo "case=$1 latency_ms=$2 n=$3 ttff_p50_ms=$4 ttff_p99_ms=$5 heads=$6 ranges=$7 ${*:8}" >>"$RESULTS"
}

# singles CASE LAT KEYPATTERN: one viewer per key, CB_KEYS keys one after another.
singles() {
    local name=$1 lat=$2 pattern=$3 i key line ttff h g h0 r0 h1 r1 bh=0 bg=0 values=""
    read -r h0 r0 <<<"$(origin_counts)"
    for i in $(seq "$KEYS"); do
        key=${pattern//@/$i}
        line=$(loadbench "$key" 1 "$TTFF_DURATION_S" 0)
        ttff=$(field "$line" ttff_p50_ms)
        values="$values $ttff"
        if [ "$name" = miss ] && [ "$lat" -gt 0 ] && [ "$ttff" != NA ]; then
            read -r h g <<<"$(requests_before "$key" "$ttff" "$lat")"
            bh=$((bh + h)); bg=$((bg + g))
        fi
    done
    read -r h1 r1 <<<"$(origin_counts)"
    local stats
    stats=$(echo "$values" | tr ' ' '\n' | grep -v '^$' | grep -v NA | sort -g | awk '{v[NR] = $1} END {
            if (NR == 0) { print "NA NA"; exit }
            r50 = int((50 * NR + 99) / 100); r99 = int((99 * NR + 99) / 100)
            if (r50 < 1) r50 = 1; if (r99 < 1) r99 = 1
            print v[r50], v[r99] }')
    log "$name L=${lat}ms 1 viewer x $KEYS keys: TTFF$values ms"
    record "$name" "$lat" 1 ${stats% *} ${stats#* } $(( (h1 - h0) )) $(( (r1 - r0) )) \
        "before_heads=$bh before_gets=$bg samples=$KEYS"
}

# crowd CASE LAT KEY: CB_CROWD viewers at once on one key.
crowd() {
    local name=$1 lat=$2 key=$3 line h0 r0 h1 r1
    read -r h0 r0 <<<"$(origin_counts)"
    line=$(loadbench "$key" "$CROWD" "$TTFF_DURATION_S" "$CROWD_RAMP_MS")
    read -r h1 r1 <<<"$(origin_counts)"
    log "$name L=${lat}ms $CROWD viewers: $line"
    record "$name" "$lat" "$CROWD" "$(field "$line" ttff_p50_ms)" "$(field "$line" ttff_p99_ms)" \
        $((h1 - h0)) $((r1 - r0)) "served=$(field "$line" served)"
}

over_budget() { [ $((SECONDS - START + ${1:-0})) -gt "$BUDGET_S" ]; }

# --- miss and hit ------------------------------------------------------------------------
for lat in $LATENCIES; do
    if over_budget 60; then log "time budget reached, skipping latency $lat"; continue; fi
    log "S3 origin, ${lat} ms added per request"
    start_s3 "$lat"
    data=$OUT/sf-s3-$lat
    rm -rf "$data"; mkdir -p "$data"
    start_sf "s3://media/vod" "$data"
    singles miss "$lat" "miss-$lat-@.mp4"
    crowd miss "$lat" "crowd-$lat.mp4"
    singles hit-memory "$lat" "miss-$lat-@.mp4"
    crowd hit-memory "$lat" "crowd-$lat.mp4"
    # Restart on the same data dir: memory is empty, the disk tier holds blocks and records.
    sleep 0.5   # disk writes follow the fill
    stop_sf
    start_sf "s3://media/vod" "$data"
    singles hit-disk "$lat" "miss-$lat-@.mp4"
    crowd hit-disk "$lat" "crowd-$lat.mp4"
    stop_sf
    stop_s3
done

# --- local directory ---------------------------------------------------------------------
FIRST_LAT=${LATENCIES%% *}
if ! over_budget 40; then
    log "local directory origin"
    rm -rf "$OUT/sf-local"; mkdir -p "$OUT/sf-local"
    S3_PORT=""
    start_sf "$OBJECTS" "$OUT/sf-local"
    singles local-first "$FIRST_LAT" "miss-$FIRST_LAT-@.mp4"
    crowd local-first "$FIRST_LAT" "crowd-$FIRST_LAT.mp4"
    singles local-again "$FIRST_LAT" "miss-$FIRST_LAT-@.mp4"
    crowd local-again "$FIRST_LAT" "crowd-$FIRST_LAT.mp4"
    stop_sf
fi

# --- load: warm S3 cache vs local directory ----------------------------------------------
LOADS=$OUT/loads.txt
: >"$LOADS"
TICKS=$(getconf CLK_TCK)
# load_run NAME ORIGIN: warm load.mp4 into the cache (one viewer with a 120 s buffer gets the
# whole file at once), then CB_LOAD_N viewers; server CPU counted over the loaded run only.
load_run() {
    local name=$1 origin=$2 t0 t1 line h0 r0 h1 r1 cached
    rm -rf "$OUT/sf-load-$name"; mkdir -p "$OUT/sf-load-$name"
    start_sf "$origin" "$OUT/sf-load-$name"
    loadbench load.mp4 1 3 0 --buffer-ms 120000 >/dev/null
    cached=$(metric 'streamfront_cache_bytes{tier="memory"}')
    sleep 1
    read -r h0 r0 <<<"$(origin_counts)"
    t0=$(server_ticks)
    log "load $name: $LOAD_N viewers, $LOAD_DURATION_S s (cache holds $cached of $MEDIA_BYTES bytes)"
    line=$(loadbench load.mp4 "$LOAD_N" "$LOAD_DURATION_S" "$LOAD_RAMP_MS")
    t1=$(server_ticks)
    read -r h1 r1 <<<"$(origin_counts)"
    stop_sf
    echo "$line name=$name cpu_ticks=$((t1 - t0)) ticks_per_s=$TICKS heads=$((h1 - h0)) ranges=$((r1 - r0)) cached=$cached" >>"$LOADS"
}
if [ "$LOAD_N" -gt 0 ]; then
    if ! over_budget $((2 * LOAD_DURATION_S + LOAD_RAMP_MS / 1000 + 20)); then
        start_s3 0
        load_run warm-s3 "s3://media/vod"
        stop_s3
        S3_PORT=""
        load_run local "$OBJECTS"
    else
        log "time budget reached, skipping the load runs"
    fi
fi

# --- report ------------------------------------------------------------------------------
{
    echo "TTFF = time from TCP connect to the first video frame. 1-viewer rows: p50/p99 over $KEYS objects played one after another (p99 = slowest);"
    echo "$CROWD-viewer rows: $CROWD viewers on one object within ${CROWD_RAMP_MS} ms. Origin requests: totals over the row's runs (HEAD, ranged GET);"
    echo "last column: per 1-viewer miss, the requests answered before the first frame (S3 request log; shown when latency > 0, where the order is visible)."
    echo
    echo "| case | S3 latency ms | viewers | TTFF p50 ms | TTFF p99 ms | origin HEAD | origin GET | before first frame (per viewer) |"
    echo "|---|---:|---:|---:|---:|---:|---:|---|"
    while read -r line; do
        f() { field "$line" "$1"; }
        c=$(f case); lat=$(f latency_ms); n=$(f n)
        case "$c" in local-*) lat="– (dir)" ;; esac
        before="–"
        if [ "$c" = miss ] && [ "$n" = 1 ] && [ "$lat" -gt 0 ]; then
            before=$(awk -v h="$(f before_heads)" -v g="$(f before_gets)" -v k="$(f samples)" \
                'BEGIN {printf "%.1f HEAD + %.1f GET", h / k, g / k}')
        fi
        echo "| $c | $lat | $n | $(f ttff_p50_ms) | $(f ttff_p99_ms) | $(f heads) | $(f ranges) | $before |"
    done <"$RESULTS"
    echo
    # Round trips on the first-frame path from the latency slope (1-viewer misses, p50).
    awk -v blocks="$PATH_BLOCKS" '{
            delete v
            for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
            if (v["case"] == "miss" && v["n"] == 1) { P[v["latency_ms"]] = v["ttff_p50_ms"]; order[++k] = v["latency_ms"] }
            if (v["case"] == "hit-memory" && v["n"] == 1) H[v["latency_ms"]] = v["ttff_p50_ms"]
        } END {
            for (i = 1; i <= k; i++) {
                l = order[i]; if (l == 0) continue
                rt = (P[l] - P[0]) / l
                printf "- S3 latency %d ms: 1-viewer miss p50 %.1f ms vs %.1f ms at 0 ms: +%.1f ms = %.2f round trips on the first-frame path (blocks on that path: %d); memory hit p50 %.1f ms\n", l, P[l], P[0], P[l] - P[0], rt, blocks, H[l]
            }
        }' "$RESULTS"
    echo "- The first video frame ends at byte $FIRST_FRAME_END of $MEDIA_BYTES (moov first): $PATH_BLOCKS block(s) of $BLOCK_KB KiB on the first-frame path."
    echo
    if [ -s "$LOADS" ]; then
        echo "Load: $LOAD_N viewers, ${LOAD_DURATION_S} s each, connects over ${LOAD_RAMP_MS} ms, after warming the object into the cache."
        echo
        echo "| origin | viewers | without rebuffering | rebuffered | failed | TTFF p50 ms | TTFF p99 ms | server CPU s per GB sent | GB sent | origin HEAD / GET during run |"
        echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
        while read -r line; do
            f() { field "$line" "$1"; }
            awk -v name="$(f name)" -v n="$(f viewers)" -v ok="$(f no_rebuffer)" -v rb="$(f rebuffered)" \
                -v fail="$(f failed)" -v p50="$(f ttff_p50_ms)" -v p99="$(f ttff_p99_ms)" -v bytes="$(f bytes)" \
                -v ticks="$(f cpu_ticks)" -v tps="$(f ticks_per_s)" -v h="$(f heads)" -v r="$(f ranges)" 'BEGIN {
                    gb = bytes / 1e9
                    cpu = (gb > 0) ? sprintf("%.2f", ticks / tps / gb) : "NA"
                    label = (name == "local") ? "local directory" : "S3, warm cache"
                    printf "| %s | %d | %d | %d | %d | %s | %s | %s | %.2f | %d / %d |\n", label, n, ok, rb, fail, p50, p99, cpu, gb, h, r
                }'
        done <"$LOADS"
        echo
    fi
    echo "Settings: block ${BLOCK_KB} KiB; streamfront on CPUs $SERVER_CPUS, sf-loadbench and sf-s3-server on CPUs $CLIENT_CPUS;"
    echo "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; $(uname -r); $((SECONDS - START)) s."
} | tee "$OUT/report.md"
log "raw results and logs in $OUT"
