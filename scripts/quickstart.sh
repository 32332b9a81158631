#!/usr/bin/env bash
# The README's first command: installs what is needed, builds lake, and runs its main job on
# the bundled sample Delta table (examples/sample_table): a query, the table's history, and
# time travel to an older version. Then it creates a table of its own in a fresh lake home
# (build/quickstart-home): create, insert, overwrite a partition, upsert with MERGE, query,
# history, restore.
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

# Writing: a managed table in a lake home of its own (recreated on every run).
home="$root/build/quickstart-home"
rm -rf "$home"
export LAKE_HOME="$home"
run sql "CREATE TABLE sales (id BIGINT, city STRING, amount DECIMAL(10,2), day DATE) USING DELTA PARTITIONED BY (day)"
run sql "INSERT INTO sales VALUES (1, 'Paris', 10.50, DATE '2025-01-01'), (2, 'Oslo', 7.25, DATE '2025-01-01')"
run sql "INSERT INTO sales SELECT i, 'Rome', i * 1.5, DATE '2025-01-02' FROM range(3, 10) t(i)"
run sql "SELECT day, count(*) AS orders, sum(amount) AS revenue FROM sales GROUP BY day ORDER BY day"
# Replace one day's rows (a partition overwrite: the other days are untouched).
run sql "INSERT OVERWRITE sales PARTITION (day = '2025-01-02') SELECT 20, 'Rome', 99.00"
run sql "SELECT day, count(*) AS orders, sum(amount) AS revenue FROM sales GROUP BY day ORDER BY day"
# Upsert a batch of changes: order 1 corrected, order 2 cancelled, order 30 new.
run sql "MERGE INTO sales USING (SELECT * FROM (VALUES (1, 'Paris', 12.00, false), (2, 'Oslo', 0.00, true), (30, 'Lima', 5.00, false)) c(id, city, amount, cancelled)) AS c ON sales.id = c.id WHEN MATCHED AND c.cancelled THEN DELETE WHEN MATCHED THEN UPDATE SET amount = c.amount WHEN NOT MATCHED THEN INSERT (id, city, amount, day) VALUES (c.id, c.city, c.amount, DATE '2025-01-03')"
run sql "SELECT id, city, amount, day FROM sales WHERE day <> DATE '2025-01-02' ORDER BY id"
run table history sales
run sql "SELECT count(*) AS orders_at_v1 FROM sales VERSION AS OF 1"
# Undo every change since version 1 in one new commit.
run sql "RESTORE TABLE sales TO VERSION AS OF 1"
run sql "SELECT count(*) AS orders_after_restore FROM sales"
echo
echo "Next: build/lake shell   (interactive SQL; .help for commands)"
