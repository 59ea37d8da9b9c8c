#!/usr/bin/env bash
# Packs the library as users get it (`npm run pack:lib`, whose prepack builds it), checks what the tarball
# holds, then installs it into each consumer app here in a scratch folder and runs it: build (tsc
# with skipLibCheck false, or a syntax check for CommonJS) and start. Each app gets a token from a
# loopback endpoint and sends it through @UseToken + HttpService.
#   bash test/consumers/run-consumers.sh [consumer ...]     (default: every folder with a package.json)
# Consumer dependencies are pinned exactly in their package.json; no lockfile is kept for them
# (npm's cache makes repeated runs fast).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d -t ntm-consumers.XXXXXX)"
trap 'rm -rf "$work"' EXIT

started=$(date +%s)
echo "== packing libs/token with npm run pack:lib (the documented script; prepack builds it)"
tarball="$(cd "$root" && npm run --silent pack:lib -- "$work" | tail -n 1)"
echo "   $(basename "$tarball"): $(du -k "$tarball" | cut -f1) KiB"

echo "== checking the tarball's contents"
listing="$(tar tzf "$tarball")"
for required in package/package.json package/README.md package/LICENSE package/dist/index.js \
  package/dist/index.d.ts package/dist/redis.js package/dist/health/index.js package/dist/metrics/index.js \
  package/dist/testing/index.js package/dist/testing/index.d.ts; do
  grep -qx "$required" <<<"$listing" || { echo "missing from the tarball: $required" >&2; exit 1; }
done
# The testing entry ships (nest-token-manager/testing); the library's own spec helpers never do.
if grep -E '\.map$|\.spec\.|(^|/)[^/]*[^d]\.ts$|/testing-support/' <<<"$listing"; then
  echo "the tarball holds files users must not get (above)" >&2
  exit 1
fi
echo "   $(wc -l <<<"$listing") files: JS, .d.ts, README.md, LICENSE"

consumers=("$@")
if [ ${#consumers[@]} -eq 0 ]; then
  for dir in "$here"/*/; do [ -f "$dir/package.json" ] && consumers+=("$(basename "$dir")"); done
fi

passed=0; failed=0
for name in "${consumers[@]}"; do
  echo "== consumer $name"
  t0=$(date +%s)
  cp -r "$here/$name" "$work/$name"
  # `set -e` does not apply inside a subshell tested with && / ||: every step exits on failure itself.
  (
    cd "$work/$name" || exit 1
    rm -rf node_modules dist
    npm install --no-audit --no-fund --no-package-lock --loglevel=error "$tarball" >install.log 2>&1 ||
      { cat install.log >&2; exit 1; }
    npm run --silent build || exit 1
    # A bounded run: the app exits by itself; a hang is a failure.
    timeout 60 npm run --silent start || exit 1
  ) && { passed=$((passed + 1)); echo "   $name passed in $(($(date +%s) - t0)) s"; } ||
    { failed=$((failed + 1)); echo "   $name FAILED" >&2; }
done

echo "== consumers took $(($(date +%s) - started)) s in all"
echo "== consumers: $passed of ${#consumers[@]} passed"
[ "$failed" -eq 0 ]
