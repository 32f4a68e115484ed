#!/usr/bin/env bash
# Regenerates tests/data/catalog/, the small real catalog the ferrotrade-catalog tests read, with the
# project's own importer (`ferrotrade data import`, from the repository's .venv):
#   - book, trades and quotes of Binance USD-M BTCUSDT, 2024-08-08 23:54-24:00 (the bundled session;
#     it has no mark prices),
#   - 1h klines of Binance spot BTCUSDT, January and February 2023 (bars).
# Part names hash the inputs' absolute paths and mtimes, so they change between machines; the tests find
# parts by listing folders, never by name.
# Usage: rust/catalog/tests/make_catalog.sh        (from anywhere)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
out="$root/tests/data/catalog"
cd "$root"
# shellcheck disable=SC1091
. .venv/bin/activate
# Build next to the target and swap only on success, so a failed run leaves the old catalog in place.
staging="$out.new"
rm -rf "$staging"
ferrotrade data import --catalog "$staging" tests/data/sessions/binance-usdm/btcusdt_20240808.gz \
    tests/data/binance-vision/BTCUSDT-1h-2023-01.csv tests/data/binance-vision/BTCUSDT-1h-2023-02.csv
rm -rf "$out"
mv "$staging" "$out"
du -sh "$out"
