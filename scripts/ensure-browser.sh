#!/usr/bin/env bash
# Make Debian's Chromium available for the browser tests (tests/browser/).
# Playwright must never download its own browser (there is no network but the
# package registries), so we use the distribution's /usr/bin/chromium instead.
# When Chromium is missing and we cannot install it, say why and exit 0: the
# browser tests then skip with a printed reason instead of failing the build.
set -u

CHROMIUM="${NNLAB_CHROMIUM:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
    echo "ensure-browser: $CHROMIUM is present ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
    exit 0
fi

if [ "$(id -u)" != "0" ]; then
    echo "ensure-browser: $CHROMIUM is missing and we are not root, so apt-get cannot install it."
    echo "ensure-browser: fix: run 'sudo apt-get install -y chromium chromium-driver' (browser tests will skip)."
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-browser: $CHROMIUM is missing and this system has no apt-get (not Debian-like)."
    echo "ensure-browser: fix: install Chromium with your package manager and set NNLAB_CHROMIUM to its path."
    exit 0
fi

echo "ensure-browser: installing Debian chromium and chromium-driver with apt-get ..."
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update -qq; then
    echo "ensure-browser: 'apt-get update' failed (no access to the Debian mirror?); browser tests will skip."
    exit 0
fi
if ! apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-liberation; then
    echo "ensure-browser: 'apt-get install chromium chromium-driver' failed; browser tests will skip."
    exit 0
fi

if [ -x "$CHROMIUM" ]; then
    echo "ensure-browser: installed $("$CHROMIUM" --version 2>/dev/null)"
else
    echo "ensure-browser: apt-get finished but $CHROMIUM is still missing; browser tests will skip."
fi
exit 0
