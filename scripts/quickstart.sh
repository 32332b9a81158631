#!/usr/bin/env bash
# The README's first command: installs what is needed, builds lake, and runs its main job on
# the bundled sample Delta table (examples/sample_table): a query, the table's history, and
# time travel to an older version.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh
scripts/build.sh lake
table="$root/examples/sample_table"
lake="$root/build/lake"
run() { echo; echo "\$ lake $*"; "$lake" "$@"; }
run table history "$table"
run sql "SELECT city, count(*) AS orders, sum(amount) AS revenue FROM delta.\`$table\` GROUP BY city ORDER BY city"
run sql "SELECT count(*) AS orders_at_v0 FROM delta.\`$table\` VERSION AS OF 0"
run sql "SELECT count(*) AS orders_on_jan_2 FROM delta.\`$table\` TIMESTAMP AS OF '2025-01-02 12:00:00'"
run sql "SELECT count(*) AS orders_now FROM delta.\`$table\`"
run table detail "$table"
echo
echo "Next: build/lake shell   (interactive SQL; .help for commands)"
