#!/usr/bin/env bash
# What the Teams client tests need (tests/test_manifest.py, test_cards_render.py,
# test_playground.py), installed where this machine allows: Node.js and Debian's chromium
# through apt-get when running as root, then this directory's Node packages with `npm ci`
# from the committed package-lock.json (the npm registry only; no browser download).
# Whatever cannot be installed is reported here; those tests then skip, or fail when CI is set.
set -uo pipefail
cd "$(dirname "$0")"
CHROMIUM="${EDI_CHROMIUM:-/usr/bin/chromium}"
updated=""

can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

apt_install() {
  if [ -z "$updated" ]; then
    apt-get update -qq || return 1
    updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if can_apt; then
    echo "tests/js: installing Node.js and npm (apt-get)"
    apt_install nodejs npm || echo "tests/js: could not install Node.js"
  else
    echo "tests/js: Node.js is missing and this is not root: the Teams client tests will skip"
  fi
fi

if [ ! -x "$CHROMIUM" ]; then
  if can_apt; then
    echo "tests/js: installing chromium (apt-get)"
    apt_install chromium || echo "tests/js: could not install chromium"
  else
    echo "tests/js: $CHROMIUM is missing and this is not root: the browser tests will skip"
  fi
fi

if command -v npm >/dev/null 2>&1; then
  # npm ci writes node_modules/.package-lock.json; reinstall only when the lock file changed.
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "tests/js: npm ci"
    npm ci --no-audit --no-fund --loglevel=error || echo "tests/js: npm ci failed"
  fi
fi
exit 0
