#!/bin/sh
# Chromium for the browser tests (`npm run test:e2e`), from the Debian/Ubuntu package: the tests
# drive /usr/bin/chromium with playwright-core (never `npx playwright install`). Idempotent:
# does nothing when Chromium is already there. Needs root (or sudo) for apt-get.
set -eu

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
  echo "ci-chromium: $CHROMIUM is already installed ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "ci-chromium: $CHROMIUM is missing and this is not root (no sudo): run 'apt-get install -y chromium' as root" >&2
    exit 1
  fi
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ci-chromium: $CHROMIUM is missing and apt-get is not available: install Chromium with your package manager" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "ci-chromium: $CHROMIUM is missing; updating the package lists…"
$SUDO apt-get update
echo "ci-chromium: installing chromium (no recommended packages)…"
$SUDO apt-get install -y --no-install-recommends chromium

if [ ! -x "$CHROMIUM" ]; then
  echo "ci-chromium: the chromium package is installed but $CHROMIUM is not there" >&2
  exit 1
fi
echo "ci-chromium: done: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
