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

echo "== 1. simulate a synthetic account (8 campaigns x 12 keywords, 180 days to yesterday, conversions still arriving for the last weeks)"
"$ppcopt" simulate --campaigns 8 --keywords-per-campaign 12 --days 180 --seed 7 --start "$start" --lag \
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

echo "== 8. finance: a manager proposes a 30-day cap of 60,000.00 EUR, finance approves it (four eyes)"
first=$("$bin/python" -c "import datetime as d; print(d.date.today())")
last=$("$bin/python" -c "import datetime as d; print(d.date.today() + d.timedelta(days=29))")
"$ppcopt" users add maria.manager --role manager
"$ppcopt" users add ben.finance --role finance
proposed=$("$ppcopt" caps propose demo-shop --start "$first" --end "$last" --amount 60000.00 \
    --currency EUR --as maria.manager --note "December plan")
echo "$proposed"
cap_id=$(echo "$proposed" | sed -E 's/^proposed cap ([0-9]+):.*/\1/')
"$ppcopt" caps approve "$cap_id" --as ben.finance --note "within the quarter's plan"

echo "== 9. the nightly job: ingest the inbox, refit if the data changed, publish tomorrow under the cap"
export PPCOPT_INBOX="$PWD/$out/inbox"
rm -rf "$out/inbox"
mkdir -p "$out/inbox/demo-shop"
"$bin/python" - "$out/history.csv" "$out/inbox/demo-shop/last-week.csv" <<'PY'
import sys

import pandas as pd

history = pd.read_csv(sys.argv[1], keep_default_na=False, dtype=str)
days = sorted(history["date"].unique())[-7:]
history[history["date"].isin(days)].to_csv(sys.argv[2], index=False)
PY
"$ppcopt" jobs run demo-shop
"$ppcopt" jobs list --account demo-shop --limit 3

echo "== done: outputs in $out/"
