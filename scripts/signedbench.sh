#!/usr/bin/env bash
# Connect-and-play rate with signed stream names against unsigned ones (issue 12, item 4): one
# streamfront with two streaming distributions on the same files, `open.bench` (no trusted
# signers) and `signed.bench` (trusted signers `self`, one declared key pair), and sf-loadbench
# --play-rate doing connect → play → first media message → close, N times per name, the two
# names alternating in rounds of one run. The signed name is a canned policy made with openssl
# as the Developer Guide's "Create a signature … using OpenSSL" does, valid for an hour.
#
#   bash scripts/signedbench.sh
#   SB_PLAYS=4000 SB_CONCURRENCY=8 bash scripts/signedbench.sh
#
# Settings (environment):
#   SB_PLAYS        sessions per name                          (2000)
#   SB_CONCURRENCY  sessions in flight at once                 (4)
#   SB_ROUNDS       alternating rounds                         (10)
#   SB_MEDIA        directory with bench.mp4                   (generated: see lib/bench.sh)
#   SB_SERVER_CPUS  cores the server is pinned to              (0)
#   SB_CLIENT_CPUS  cores the client is pinned to              (1, or 0 on a 1-core machine)
#   SB_OUT          directory for the key, config and logs     (a new temp dir)
#   SF_BIN, LB_BIN  prebuilt streamfront / sf-loadbench        (built with cargo --release)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
PLAYS=${SB_PLAYS:-2000}
CONCURRENCY=${SB_CONCURRENCY:-4}
ROUNDS=${SB_ROUNDS:-10}
SERVER_CPUS=${SB_SERVER_CPUS:-0}
if [ "$(nproc)" -gt 1 ]; then CLIENT_CPUS=${SB_CLIENT_CPUS:-1}; else CLIENT_CPUS=${SB_CLIENT_CPUS:-0}; fi
OUT=${SB_OUT:-$(mktemp -d /tmp/signedbench.XXXXXX)}
mkdir -p "$OUT"
KEY_PAIR_ID=APKABENCHSIGNED00001

log() { echo "signedbench: $*" >&2; }

# shellcheck source=lib/bench.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/bench.sh"
# shellcheck source=lib/ports.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/ports.sh"

SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT

MEDIA=${SB_MEDIA:-$OUT/media}
[ -f "$MEDIA/bench.mp4" ] || make_bench_media "$MEDIA"
release_binaries

openssl genrsa -traditional -out "$OUT/private.pem" 2048 2>/dev/null
openssl rsa -in "$OUT/private.pem" -pubout -out "$OUT/public.pem" 2>/dev/null
expires=$(($(date +%s) + 3600))
policy="{\"Statement\":[{\"Resource\":\"bench.mp4\",\"Condition\":{\"DateLessThan\":{\"AWS:EpochTime\":$expires}}}]}"
signature=$(printf '%s' "$policy" | openssl sha1 -sign "$OUT/private.pem" | openssl base64 -A | tr -- '+=/' '-_~')
SIGNED="mp4:bench.mp4?Expires=$expires&Signature=$signature&Key-Pair-Id=$KEY_PAIR_ID"

cat > "$OUT/streamfront.toml" <<TOML
[[key_pairs]]
id = "$KEY_PAIR_ID"
public_key = "$OUT/public.pem"

[[streaming_distributions]]
id = "EBENCHOPEN0001"
domain_name = "open.bench"
origin = "$MEDIA"

[[streaming_distributions]]
id = "EBENCHSIGNED01"
domain_name = "signed.bench"
origin = "$MEDIA"
trusted_signers = ["self"]
TOML

rtmp=$(free_port); http=$(free_port); admin=$(free_port)
mkdir -p "$OUT/sf-data"
taskset -c "$SERVER_CPUS" "$SF_BIN" serve --config "$OUT/streamfront.toml" --origin "$MEDIA" \
    --data-dir "$OUT/sf-data" --rtmp-listen "127.0.0.1:$rtmp" --http-listen "127.0.0.1:$http" \
    --admin-listen "127.0.0.1:$admin" --log warn 2>>"$OUT/streamfront.log" &
SERVER_PID=$!
wait_port "$rtmp" "$SERVER_PID"

log "$PLAYS plays per name, $CONCURRENCY at a time, $ROUNDS rounds; server on CPUs $SERVER_CPUS, client on $CLIENT_CPUS"
taskset -c "$CLIENT_CPUS" "$LB_BIN" --addr "127.0.0.1:$rtmp" --play-rate -n "$PLAYS" \
    --concurrency "$CONCURRENCY" --rounds "$ROUNDS" \
    --stream mp4:bench.mp4 --tc-host open.bench --signed-stream "$SIGNED" --signed-tc-host signed.bench
grep -c "refused" "$OUT/streamfront.log" | sed 's/^/signedbench: refusals logged by the server: /' >&2 || true
