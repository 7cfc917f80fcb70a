#!/usr/bin/env bash
# Make Debian's Chromium available for the browser tests (tests/browser/).
# Playwright must never download its own browser (there is no network but the
# package registries), so we use the distribution's /usr/bin/chromium instead.
# When Chromium is missing and we cannot install it, say why. Locally that exits 0 (the
# browser tests then skip, printing the reason); under CI (CI=true, as every CI service
# sets it) it exits 1, so a build cannot go green with every browser scenario skipped.
set -u

CHROMIUM="${NNLAB_CHROMIUM:-/usr/bin/chromium}"

case "${CI:-}" in
    ""|0|false|False|FALSE|no) IN_CI=0 ;;
    *) IN_CI=1 ;;
esac

# Print the reason and the fix; exit 1 under CI, 0 elsewhere.
cannot() {
    for line in "$@"; do echo "ensure-browser: $line"; done
    if [ "$IN_CI" = 1 ]; then
        echo "ensure-browser: CI=${CI} and no Chromium: failing (locally the browser tests would skip)." >&2
        exit 1
    fi
    echo "ensure-browser: the browser tests will skip with this reason."
    exit 0
}

if [ -x "$CHROMIUM" ]; then
    echo "ensure-browser: $CHROMIUM is present ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
    exit 0
fi

if [ "$(id -u)" != "0" ]; then
    cannot "$CHROMIUM is missing and we are not root, so apt-get cannot install it." \
        "fix: run 'sudo apt-get install -y chromium chromium-driver', or set NNLAB_CHROMIUM to a Chromium."
fi

if ! command -v apt-get >/dev/null 2>&1; then
    cannot "$CHROMIUM is missing and this system has no apt-get (not Debian-like)." \
        "fix: install Chromium with your package manager and set NNLAB_CHROMIUM to its path."
fi

echo "ensure-browser: installing Debian chromium and chromium-driver with apt-get ..."
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update -qq; then
    cannot "'apt-get update' failed (no access to the Debian mirror?)." \
        "fix: check the network to the Debian mirror, then run 'make browser' again."
fi
if ! apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-liberation; then
    cannot "'apt-get install chromium chromium-driver' failed." \
        "fix: run 'apt-get install chromium chromium-driver' by hand to see why."
fi

if [ -x "$CHROMIUM" ]; then
    echo "ensure-browser: installed $("$CHROMIUM" --version 2>/dev/null)"
    exit 0
fi
cannot "apt-get finished but $CHROMIUM is still missing." \
    "fix: set NNLAB_CHROMIUM to where the chromium package put its binary."
