#!/usr/bin/env bash
# Installs (once) what the browser tests drive: playwright-core and hls.js, at exactly the
# versions below, into target/browser-deps (its own node_modules; it never downloads a browser), and
# checks that Debian's chromium is installed (.ci/run installs it). Prints the directory on its
# last line. Fails loudly when something is missing or npm cannot be reached.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
version="1.65.2"
hls_version="1.7.4"
dir="$PWD/target/browser-deps"
if ! [ -x /usr/bin/chromium ]; then
  echo "browser-deps: /usr/bin/chromium is missing (apt-get install chromium)" >&2
  exit 1
fi
command -v npm >/dev/null || { echo "browser-deps: npm is missing (apt-get install npm)" >&2; exit 1; }
# Test processes may run this at the same time: one installs, the others wait and reuse it.
mkdir -p "$PWD/target"
exec 9>"$PWD/target/browser-deps.lock"
flock 9
stamp="$dir/.version"
if [ -f "$dir/node_modules/playwright-core/package.json" ] && [ -f "$dir/node_modules/hls.js/package.json" ] \
  && [ "$(cat "$stamp" 2>/dev/null)" = "$version $hls_version" ]; then
  echo "$dir"
  exit 0
fi
echo "browser-deps: installing playwright-core@$version and hls.js@$hls_version into $dir" >&2
rm -rf "$dir"
mkdir -p "$dir"
# No browser download: the test uses /usr/bin/chromium.
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$dir" --no-audit --no-fund --silent \
  "playwright-core@$version" "hls.js@$hls_version" >&2
echo "$version $hls_version" > "$stamp"
echo "$dir"
