#!/usr/bin/env bash
# Instructions per delivered byte: the streamfront server under valgrind's callgrind while the
# load client plays N viewers to it. Instruction counts, unlike seconds, do not depend on what
# else the machine is doing, so two binaries measured this way compare fairly on a busy host.
#
#   bash scripts/callgrind.sh                      # the release build of this tree
#   SF_BIN=/path/to/old/streamfront bash scripts/callgrind.sh
#
# Settings (environment):
#   CG_VIEWERS     viewers                                  (20)
#   CG_DURATION_S  seconds each viewer watches              (12)
#   CG_PROTOCOL    rtmp | rtmpe | rtmpt | rtmpte            (rtmp)
#   CG_MEDIA       directory with bench.mp4                 (generated as in loadbench.sh)
#   CG_OUT         directory for the callgrind output       (a new temp dir)
#   SF_BIN, LB_BIN prebuilt streamfront / sf-loadbench      (built with cargo --release)
#
# Prints one line `CALLGRIND instructions=… bytes=… per_byte=…` and the top functions.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
VIEWERS=${CG_VIEWERS:-20}
DURATION_S=${CG_DURATION_S:-12}
PROTOCOL=${CG_PROTOCOL:-rtmp}
OUT=${CG_OUT:-$(mktemp -d /tmp/callgrind.XXXXXX)}
mkdir -p "$OUT"

log() { echo "callgrind: $*" >&2; }
# shellcheck source=lib/ports.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/ports.sh"
# shellcheck source=lib/bench.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/bench.sh"

command -v valgrind >/dev/null || { log "valgrind is missing (apt-get install valgrind)"; exit 1; }
release_binaries

if [ -n "${CG_MEDIA:-}" ]; then
    MEDIA=$(cd "$CG_MEDIA" && pwd)
else
    MEDIA=$OUT/media
    mkdir -p "$MEDIA"
    make_bench_media "$MEDIA"
fi

rtmp=$(free_port)
http=$(free_port)
admin=$(free_port)
rm -rf "$OUT/sf-data"
valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out" \
    "$SF_BIN" serve --origin "$MEDIA" --data-dir "$OUT/sf-data" --cache-disk-mb 0 \
    --rtmp-listen "127.0.0.1:$rtmp" --http-listen "127.0.0.1:$http" --admin-listen "127.0.0.1:$admin" \
    --log warn 2>"$OUT/server.log" &
SERVER_PID=$!
trap 'kill "$SERVER_PID" 2>/dev/null || true' EXIT
# valgrind starts slowly: give the ports up to a minute.
for _ in 1 2 3 4 5 6; do wait_port "$rtmp" "$SERVER_PID" 2>/dev/null && break; done
wait_port "$http" "$SERVER_PID"
case "$PROTOCOL" in rtmpt | rtmpte) port=$http ;; *) port=$rtmp ;; esac
line=$("$LB_BIN" --addr "127.0.0.1:$port" --protocol "$PROTOCOL" --app cfx/st --stream mp4:bench.mp4 \
    -n "$VIEWERS" --duration-s "$DURATION_S" --ramp-ms 1000 2>"$OUT/client.log" | grep '^RESULT' || true)
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
trap - EXIT
[ -n "$line" ] || { log "no result from the load client (see $OUT/client.log)"; exit 1; }
bytes=$(echo "$line" | tr ' ' '\n' | awk -F= '$1 == "bytes" {print $2}')
total=$(awk '$1 == "summary:" || $1 == "totals:" {print $2; exit}' "$OUT/callgrind.out")
echo "CALLGRIND protocol=$PROTOCOL viewers=$VIEWERS instructions=$total bytes=$bytes per_byte=$(awk -v i="$total" -v b="$bytes" 'BEGIN {printf "%.2f", i / b}')"
echo "$line"
callgrind_annotate --inclusive=no "$OUT/callgrind.out" 2>/dev/null | sed -n '/^Ir/,$p' | sed -n '3,22p'
log "output in $OUT"
