#!/usr/bin/env bash
# Regenerate requirements.lock: billingops' runtime dependencies, pinned with the sha256 of
# every file PyPI serves for them (any Linux/macOS/Windows runner, Python 3.11+). The
# action installs exactly these (`uv pip install --require-hashes`).
#
#   scripts/lock.sh           refresh after changing [project.dependencies]; keeps every pin
#                             that still fits (uv prefers the versions already in the file)
#   scripts/lock.sh --check   exit 1 if the committed lock is not what the line above
#                             would write (CI runs this; it needs PyPI)
#   scripts/lock.sh --upgrade move every pin to the newest allowed version
set -euo pipefail
cd "$(dirname "$0")/.."
uv=${UV:-uv}
compile=("$uv" pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes
  --no-header --quiet --custom-compile-command "scripts/lock.sh")
case "${1:-}" in
  --check)
    tmp=$(mktemp)
    trap 'rm -f "$tmp"' EXIT
    cp requirements.lock "$tmp"
    "${compile[@]}" -o "$tmp"
    if ! diff -u requirements.lock "$tmp"; then
      echo "requirements.lock is stale: run scripts/lock.sh and commit it" >&2
      exit 1
    fi
    echo "requirements.lock is fresh"
    ;;
  --upgrade) "${compile[@]}" --upgrade -o requirements.lock ;;
  "") "${compile[@]}" -o requirements.lock ;;
  *) echo "usage: scripts/lock.sh [--check | --upgrade]" >&2; exit 2 ;;
esac
