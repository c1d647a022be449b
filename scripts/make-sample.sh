#!/usr/bin/env bash
# Regenerates media/sample.mp4, the clip shipped with the repository: 10 s of ffmpeg's
# testsrc2 pattern (640x360, 25 fps) with a 440 Hz tone that beeps every second, H.264 Main +
# AAC-LC stereo, moov atom in front (+faststart), a key frame every 2 s. All flags are fixed
# and single-threaded so the output depends only on the ffmpeg/x264 build; the committed file is
# the reference, regenerate it only when it has to change.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/media/sample.mp4}"

command -v ffmpeg >/dev/null || { echo "ffmpeg not found: apt-get install -y ffmpeg" >&2; exit 1; }

mkdir -p "$(dirname "$out")"
tmp="$(mktemp "${out}.XXXXXX.mp4")"
trap 'rm -f "$tmp"' EXIT

ffmpeg -nostdin -v error -y \
  -f lavfi -i "testsrc2=size=640x360:rate=25:duration=10" \
  -f lavfi -i "sine=frequency=440:beep_factor=2:sample_rate=44100:duration=10" \
  -c:v libx264 -preset medium -profile:v main -pix_fmt yuv420p -threads 1 \
  -b:v 900k -maxrate 1000k -bufsize 2000k \
  -g 50 -keyint_min 50 -sc_threshold 0 -bf 2 \
  -c:a aac -b:a 96k -ac 2 \
  -fflags +bitexact -flags:a +bitexact -map_metadata -1 \
  -movflags +faststart \
  "$tmp"

chmod 644 "$tmp"
mv "$tmp" "$out"
trap - EXIT
ls -l "$out"
ffprobe -v error -show_entries format=duration,size,bit_rate:stream=codec_name,width,height,sample_rate,channels \
  -of compact=p=0 "$out"
