#!/usr/bin/env bash
# Installs the PostgreSQL server that tests/test_optimize_postgres.py starts (a throw-away cluster on
# loopback, owned by an unprivileged user) from Debian packages, when it is missing: in CI (CI=true) and
# whenever this runs as root. Elsewhere it only says what is missing, and that test skips with the reason.
set -euo pipefail

server_installed() {
    compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || command -v postgres >/dev/null
}

if server_installed; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ] || [ "${CI:-}" = "true" ]; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo="sudo"
    fi
    echo "ensure-postgres: installing the postgresql Debian package for the distributed optimization test"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    server_installed || { echo "ensure-postgres: postgresql installed but no server binary found" >&2; exit 1; }
else
    echo "ensure-postgres: no PostgreSQL server installed (run as root or with CI=true to install it);" \
        "the distributed optimization test will skip"
fi
