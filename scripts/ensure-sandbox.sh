#!/usr/bin/env bash
# Make bubblewrap (Debian package `bubblewrap`, the sandbox Flatpak uses) available: the
# grader runs every grading kernel inside it (autograder/sandbox.py). Installs it with
# apt-get when root. Without it grading still works, with the plain kernel user only (the
# grader and the integrity report say so); under CI (CI=true) a missing sandbox is an
# error, because the sandbox tests would otherwise not run.
set -u

say() { echo "ensure-sandbox: $*"; }
fail_or_warn() {
    if [ "${CI:-}" = "true" ]; then
        say "$1"; say "CI=true: the sandbox is required here, failing."; exit 1
    fi
    say "$1"; say "grading will fall back to the plain kernel user (flagged in the report)."
    exit 0
}

if command -v bwrap >/dev/null 2>&1; then
    say "bubblewrap is present ($(bwrap --version 2>/dev/null || echo 'version unknown'))"
elif [ "$(id -u)" != "0" ]; then
    fail_or_warn "bubblewrap is missing and we are not root, so apt-get cannot install it; fix: run 'sudo apt-get install -y bubblewrap'."
elif ! command -v apt-get >/dev/null 2>&1; then
    fail_or_warn "bubblewrap is missing and this system has no apt-get; fix: install bubblewrap (>= 0.8) with your package manager."
else
    say "installing Debian bubblewrap with apt-get ..."
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends bubblewrap; }; then
        fail_or_warn "'apt-get install bubblewrap' failed (no access to the Debian mirror?)."
    fi
fi

# bwrap needs user namespaces; the grader needs root to run kernels as their own users.
if [ "$(id -u)" = "0" ] && command -v bwrap >/dev/null 2>&1; then
    roots=()
    for d in bin sbin lib lib32 lib64 libx32; do  # merged /usr: links; otherwise folders
        if [ -L "/$d" ]; then roots+=(--symlink "$(readlink "/$d")" "/$d")
        elif [ -d "/$d" ]; then roots+=(--ro-bind "/$d" "/$d"); fi
    done
    if ! bwrap --unshare-all --die-with-parent --ro-bind /usr /usr "${roots[@]}" \
            --proc /proc --dev /dev /usr/bin/env true 2>/tmp/ensure-sandbox.err; then
        fail_or_warn "bubblewrap cannot create a sandbox here: $(head -c 300 /tmp/ensure-sandbox.err) (are user namespaces disabled? sysctl user.max_user_namespaces)"
    fi
    say "bubblewrap creates sandboxes here: grading kernels will run inside it."
elif [ "$(id -u)" != "0" ]; then
    fail_or_warn "not root: the grader can only sandbox kernels (as their own users) when run as root."
fi
exit 0
