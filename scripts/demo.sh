#!/usr/bin/env bash
# The main job end to end on the embedded default store (SQLite) with a synthetic account.
set -euo pipefail
bin="$1"
out="$2"
mkdir -p "$out"
rm -f "$out/ppcopt.db" "$out/ppcopt.db-wal" "$out/ppcopt.db-shm"
export PPCOPT_DATABASE_URL="${PPCOPT_DATABASE_URL:-sqlite:///$PWD/$out/ppcopt.db}"
ppcopt="$bin/ppcopt"

start=$("$bin/python" -c "import datetime as d; print(d.date.today() - d.timedelta(days=180))")

echo "== 1. simulate a synthetic account (8 campaigns x 12 keywords, 180 days to yesterday)"
"$ppcopt" simulate --campaigns 8 --keywords-per-campaign 12 --days 180 --seed 7 --start "$start" \
    --out "$out/history.csv" --truth "$out/truth.json"

echo "== 2. create the account and ingest its history"
"$ppcopt" accounts create demo-shop --currency EUR --timezone Europe/Berlin
"$ppcopt" ingest "$out/history.csv" --account demo-shop

echo "== 3. re-ingest the same file: nothing changes"
"$ppcopt" ingest "$out/history.csv" --account demo-shop

echo "== 4. fit response curves per campaign and keyword"
"$ppcopt" fit --account demo-shop --out "$out/curves.json"

echo "== done: outputs in $out/"
