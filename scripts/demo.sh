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

echo "== 5. tomorrow's split of 2,000.00 EUR a day (max change 50%, brand campaigns <= 30%)"
"$ppcopt" optimize --account demo-shop --budget 2000 --max-change 0.5 --group "brand=Brand*:30%" \
    --level campaign --out "$out/plan-campaigns.csv"
"$ppcopt" optimize --account demo-shop --budget 2000 --max-change 0.5 --group "brand=Brand*:30%" \
    --out "$out/plan-keywords.csv"

echo "== 6. the same under a monthly cap of 60,000.00 EUR, paced"
"$ppcopt" optimize --account demo-shop --monthly-cap 60000 --level campaign --out "$out/plan-paced.csv"

echo "== 7. what other budgets would buy, and pictures"
"$ppcopt" frontier --account demo-shop --out "$out/frontier.csv"
"$ppcopt" plot curves --account demo-shop --out "$out/plots" --top 6
"$ppcopt" plot frontier --account demo-shop --out "$out/plots"
"$ppcopt" plot allocation --account demo-shop --budget 2000 --out "$out/plots"

echo "== done: outputs in $out/"
