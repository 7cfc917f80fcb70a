#!/usr/bin/env bash
# Everything a course hub needs, installed where every user can run it:
#  1. configurable-http-proxy (npm 5.3.0) into .hub/node_modules of this checkout, no global install;
#  2. a Python environment built from Debian's /usr/bin/python3 (a venv made from a Python
#     under the mode-700 /root cannot be run by students), with jupyterhub, nbgrader and
#     this project installed as a copy, at $NNLAB_HUB_ENV (default /var/lib/nnlab/hub-env).
# The environment is rebuilt only when pyproject.toml or the hub's requirements change, and
# the project copy is refreshed when its sources change, so a second run takes a second.
# Prints `ensure-hub: ...` lines; exits non-zero with the reason when something is missing.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ENV_DIR="${NNLAB_HUB_ENV:-/var/lib/nnlab/hub-env}"
PROXY_DIR="$ROOT/.hub"
CHP_VERSION="5.3.0"
BASE_PYTHON="${NNLAB_HUB_PYTHON:-/usr/bin/python3}"

say() { echo "ensure-hub: $*"; }
die() { echo "ensure-hub: $*" >&2; exit 1; }

command -v node >/dev/null || die "node is missing; fix: apt-get install -y nodejs npm"
command -v npm >/dev/null || die "npm is missing; fix: apt-get install -y npm"
[ -x "$BASE_PYTHON" ] || die "$BASE_PYTHON is missing; fix: apt-get install -y python3 python3-venv (or set NNLAB_HUB_PYTHON)"
"$BASE_PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
    || die "$BASE_PYTHON is older than 3.11; nnlab needs 3.11"
"$BASE_PYTHON" -c 'import ensurepip, venv' 2>/dev/null \
    || die "$BASE_PYTHON cannot make venvs; fix: apt-get install -y python3-venv"

# 1. the proxy
CHP="$PROXY_DIR/node_modules/.bin/configurable-http-proxy"
if [ ! -x "$CHP" ] || ! "$CHP" --version 2>/dev/null | grep -qx "$CHP_VERSION"; then
    say "installing configurable-http-proxy@$CHP_VERSION into $PROXY_DIR"
    mkdir -p "$PROXY_DIR"
    npm install --silent --no-audit --no-fund --prefix "$PROXY_DIR" "configurable-http-proxy@$CHP_VERSION" \
        || die "npm could not install configurable-http-proxy@$CHP_VERSION"
fi
say "proxy $CHP $("$CHP" --version)"

# 2. the shared Python environment
want="$(cat "$ROOT/pyproject.toml" "$ROOT/autograder/hub/requirements.txt" "$0" | sha256sum | cut -c1-16)"
if [ "$(cat "$ENV_DIR/.deps-stamp" 2>/dev/null)" != "$want" ]; then
    say "building $ENV_DIR from $BASE_PYTHON (a few minutes the first time)"
    rm -rf "$ENV_DIR"
    mkdir -p "$(dirname "$ENV_DIR")"
    "$BASE_PYTHON" -m venv "$ENV_DIR"
    "$ENV_DIR/bin/python" -m pip install --quiet --upgrade pip >"$ENV_DIR.pip.log" 2>&1 \
        || die "pip could not upgrade itself; see $ENV_DIR.pip.log"
    "$ENV_DIR/bin/python" -m pip install --quiet -r "$ROOT/autograder/hub/requirements.txt" "$ROOT" \
        >>"$ENV_DIR.pip.log" 2>&1 || die "pip install failed; see $ENV_DIR.pip.log"
    # JupyterLab's news and update pop-ups stay off for every user of the hub.
    mkdir -p "$ENV_DIR/share/jupyter/lab/settings"
    cat > "$ENV_DIR/share/jupyter/lab/settings/overrides.json" <<'JSON'
{"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}}
JSON
    echo "$want" > "$ENV_DIR/.deps-stamp"
    rm -f "$ENV_DIR/.src-stamp"
fi
src="$(cd "$ROOT" && find nnlab autograder -name '*.py' -o -name '*.json' | sort | xargs cat | sha256sum | cut -c1-16)"
if [ "$(cat "$ENV_DIR/.src-stamp" 2>/dev/null)" != "$src" ]; then
    say "refreshing the nnlab copy in $ENV_DIR"
    "$ENV_DIR/bin/python" -m pip install --quiet --no-deps --force-reinstall "$ROOT" \
        >"$ENV_DIR.pip.log" 2>&1 || die "pip could not install $ROOT; see $ENV_DIR.pip.log"
    echo "$src" > "$ENV_DIR/.src-stamp"
fi
chmod -R a+rX "$ENV_DIR"
say "environment $ENV_DIR ($("$ENV_DIR/bin/jupyterhub" --version), $("$ENV_DIR/bin/python" --version))"
