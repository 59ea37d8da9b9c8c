#!/usr/bin/env bash
# Packs the library (libs/token) as it is published and prints the tarball's absolute path on the
# last line. `npm pack` in libs/token runs its prepack, which builds it. CI installs this tarball
# (test/consumers/run-consumers.sh). The repository root is the workspace and refuses `npm pack`.
#   npm run pack:lib                      -> pack/nest-token-manager-<version>.tgz
#   npm run pack:lib -- <destination folder>
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
destination="${1:-$root/pack}"
mkdir -p "$destination"
destination="$(cd "$destination" && pwd)"
name="$(cd "$root/libs/token" && npm pack --silent --pack-destination "$destination" | tail -n 1)"
echo "$destination/$name"
