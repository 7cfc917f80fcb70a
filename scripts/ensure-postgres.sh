#!/usr/bin/env bash
# Make Debian's PostgreSQL server programs (initdb, pg_ctl) available for the shared-
# gradebook tests (tests/test_postgres.py, tests/test_cluster.py), which start their own
# server in a temporary folder, socket only, as the unprivileged `postgres` user.
# Installs the `postgresql` package with apt-get when root. Otherwise it says why; under
# CI=true that is a failure (CI must run those tests), elsewhere the tests skip saying so.
set -u

found() { ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }

fail_or_skip() {
    echo "ensure-postgres: $1"
    if [ "${CI:-}" = "true" ]; then
        echo "ensure-postgres: CI=true: the PostgreSQL tests must run here, so this is an error."
        exit 1
    fi
    echo "ensure-postgres: the PostgreSQL tests will skip with this reason."
    exit 0
}

if found; then
    echo "ensure-postgres: $(ls -d /usr/lib/postgresql/*/bin/initdb | tail -1) is present"
    exit 0
fi
if [ "$(id -u)" != "0" ]; then
    fail_or_skip "PostgreSQL is missing and we are not root; fix: sudo apt-get install -y postgresql"
fi
if ! command -v apt-get >/dev/null 2>&1; then
    fail_or_skip "PostgreSQL is missing and this system has no apt-get; install PostgreSQL 15+ by hand"
fi
echo "ensure-postgres: installing Debian postgresql with apt-get ..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || fail_or_skip "'apt-get update' failed (no access to the Debian mirror?)"
apt-get install -y -qq --no-install-recommends postgresql \
    || fail_or_skip "'apt-get install postgresql' failed"
found || fail_or_skip "postgresql installed but no /usr/lib/postgresql/*/bin/initdb"
echo "ensure-postgres: installed $(ls -d /usr/lib/postgresql/*/bin/initdb | tail -1)"
