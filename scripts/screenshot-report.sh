#!/usr/bin/env bash
# Renders a Winnow report.html in headless Chromium (Debian's chromium package) and saves a full-width screenshot.
#   scripts/screenshot-report.sh REPORT.html OUT.png [HEIGHT]     # HEIGHT in pixels, default 4000
set -euo pipefail
page="${1:?usage: scripts/screenshot-report.sh REPORT.html OUT.png [HEIGHT]}"
out="${2:?usage: scripts/screenshot-report.sh REPORT.html OUT.png [HEIGHT]}"
height="${3:-4000}"
[[ -f "$page" ]] || { echo "screenshot-report: $page: no such file" >&2; exit 1; }
browser=$(command -v chromium || command -v chromium-browser || true)
[[ -n "$browser" ]] || { echo "screenshot-report: needs Chromium (apt-get install chromium)" >&2; exit 1; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$profile" \
  --window-size=1280,"$height" --screenshot="$(realpath -m "$out")" "file://$(realpath "$page")" 2>/dev/null
[[ -s "$out" ]] || { echo "screenshot-report: Chromium wrote no screenshot" >&2; exit 1; }
echo "Wrote $out"
