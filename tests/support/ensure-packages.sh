#!/usr/bin/env bash
# Installs the Debian packages some tests need, when missing: in CI (CI=true) and whenever this runs as
# root. Elsewhere it only says what is missing, and those tests skip with the reason.
#   postgresql  the throw-away cluster of tests/test_optimize_postgres.py (loopback, unprivileged owner)
#   tmux        the terminal tests/monitor/test_bus.py runs `ferrotrade monitor dashboard` in
set -euo pipefail

postgres_installed() {
    compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || command -v postgres >/dev/null
}

missing=()
postgres_installed || missing+=(postgresql)
command -v tmux >/dev/null || missing+=(tmux)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ] || [ "${CI:-}" = "true" ]; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo="sudo"
    fi
    echo "ensure-packages: installing ${missing[*]} from Debian packages for the tests"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    postgres_installed || { echo "ensure-packages: postgresql installed but no server binary found" >&2; exit 1; }
    command -v tmux >/dev/null || { echo "ensure-packages: tmux installed but not on PATH" >&2; exit 1; }
else
    echo "ensure-packages: missing ${missing[*]} (run as root or with CI=true to install them);" \
        "the tests that need them will skip"
fi
