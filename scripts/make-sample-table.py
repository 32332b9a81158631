#!/usr/bin/env python3
"""Regenerates examples/sample_table, the small Delta table the quickstart queries.

Data files are written by build/lake (DuckDB's Parquet writer, snappy); the log is written
here by hand so the table carries three versions for time travel:
  (in-commit timestamps on, so TIMESTAMP AS OF works from a fresh checkout)
  v0  CREATE TABLE + WRITE: orders in Berlin and Lisbon
  v1  WRITE (append): more orders in Berlin and new ones in Paris
  v2  DELETE WHERE city = 'Lisbon' (removes the Lisbon file)
Usage: scripts/make-sample-table.py  (after scripts/build.sh lake)
"""
import json, os, shutil, subprocess, sys, uuid

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
lake = os.path.join(root, "build", "lake")
table = os.path.join(root, "examples", "sample_table")
BASE_MS = 1735725600000  # 2025-01-01T10:00:00Z; versions are one day apart

def sql(query):
    out = subprocess.run([lake, "sql", "--format", "jsonl", query], check=True,
                         capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]

def write_file(city, rows, seq):
    rel = f"city={city}/part-{seq:05d}-{uuid.UUID(int=seq * 7919 + len(city))}.c000.snappy.parquet"
    path = os.path.join(table, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    values = ", ".join(f"({i}, {a}, TIMESTAMPTZ '{t}')" for i, a, t in rows)
    sql(f"COPY (SELECT order_id::BIGINT AS order_id, amount::DECIMAL(10,2) AS amount, "
        f"ts AS ordered_at FROM (VALUES {values}) v(order_id, amount, ts)) "
        f"TO '{path}' (FORMAT parquet, COMPRESSION snappy)")
    s = sql(f"SELECT count(*) AS n, min(order_id) AS min_id, max(order_id) AS max_id, "
            f"min(amount)::VARCHAR AS min_a, max(amount)::VARCHAR AS max_a, "
            f"strftime(min(ordered_at) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%g') || 'Z' AS min_t, "
            f"strftime(max(ordered_at) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%g') || 'Z' AS max_t "
            f"FROM read_parquet('{path}')")[0]
    stats = {"numRecords": s["n"],
             "minValues": {"order_id": s["min_id"], "amount": float(s["min_a"]), "ordered_at": s["min_t"]},
             "maxValues": {"order_id": s["max_id"], "amount": float(s["max_a"]), "ordered_at": s["max_t"]},
             "nullCount": {"order_id": 0, "amount": 0, "ordered_at": 0}}
    return {"path": rel.replace("=", "=", 1), "partitionValues": {"city": city},
            "size": os.path.getsize(path), "modificationTime": 0, "dataChange": True,
            "stats": json.dumps(stats, separators=(",", ":"))}

def commit(version, actions, info):
    # In-commit timestamps (writer feature inCommitTimestamp) keep TIMESTAMP AS OF stable in a
    # git checkout, where file modification times are the checkout's.
    ts = BASE_MS + version * 86400000
    info = dict(inCommitTimestamp=ts, timestamp=ts, engineInfo="lake/0.1.0", **info)
    lines = [json.dumps({"commitInfo": info}, separators=(",", ":"))]
    lines += [json.dumps(a, separators=(",", ":")) for a in actions]
    path = os.path.join(table, "_delta_log", f"{version:020d}.json")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    t = (BASE_MS + version * 86400000) / 1000
    os.utime(path, (t, t))

def main():
    if not os.access(lake, os.X_OK):
        sys.exit("build lake first: scripts/build.sh lake")
    shutil.rmtree(table, ignore_errors=True)
    os.makedirs(os.path.join(table, "_delta_log"))
    schema = {"type": "struct", "fields": [
        {"name": "order_id", "type": "long", "nullable": False, "metadata": {}},
        {"name": "city", "type": "string", "nullable": True, "metadata": {}},
        {"name": "amount", "type": "decimal(10,2)", "nullable": True, "metadata": {}},
        {"name": "ordered_at", "type": "timestamp", "nullable": True, "metadata": {}}]}
    berlin = write_file("Berlin", [(1, 12.50, "2025-01-01 09:15:00+00"), (2, 7.25, "2025-01-01 09:40:00+00"),
                                   (3, 30.00, "2025-01-01 11:05:00+00")], 1)
    lisbon = write_file("Lisbon", [(4, 18.90, "2025-01-01 10:00:00+00"), (5, 4.10, "2025-01-01 12:30:00+00")], 2)
    for a in (berlin, lisbon):
        a["modificationTime"] = BASE_MS
    commit(0, [
        {"protocol": {"minReaderVersion": 1, "minWriterVersion": 7,
                      "writerFeatures": ["inCommitTimestamp", "appendOnly", "invariants"]}},
        {"metaData": {"id": "5ab1e7ab-1e00-4c0d-9a1e-000000000001", "name": "orders",
                      "format": {"provider": "parquet", "options": {}},
                      "schemaString": json.dumps(schema, separators=(",", ":")),
                      "partitionColumns": ["city"], "createdTime": BASE_MS,
                      "configuration": {"delta.enableInCommitTimestamps": "true"}}},
        {"add": berlin}, {"add": lisbon}],
        {"operation": "CREATE TABLE AS SELECT", "operationParameters": {"partitionBy": "[\"city\"]"},
         "isBlindAppend": True, "operationMetrics": {"numFiles": "2", "numOutputRows": "5"}})
    berlin2 = write_file("Berlin", [(6, 22.00, "2025-01-02 08:00:00+00"), (7, 9.99, "2025-01-02 13:20:00+00")], 3)
    paris = write_file("Paris", [(8, 45.00, "2025-01-02 10:10:00+00"), (9, 15.50, "2025-01-02 16:45:00+00"),
                                 (10, 3.75, "2025-01-02 18:00:00+00")], 4)
    for a in (berlin2, paris):
        a["modificationTime"] = BASE_MS + 86400000
    commit(1, [{"add": berlin2}, {"add": paris}],
           {"operation": "WRITE", "operationParameters": {"mode": "Append"}, "readVersion": 0,
            "isBlindAppend": True, "operationMetrics": {"numFiles": "2", "numOutputRows": "5"}})
    remove = {"path": lisbon["path"], "deletionTimestamp": BASE_MS + 2 * 86400000, "dataChange": True,
              "extendedFileMetadata": True, "partitionValues": {"city": "Lisbon"}, "size": lisbon["size"]}
    commit(2, [{"remove": remove}],
           {"operation": "DELETE", "operationParameters": {"predicate": "[\"(city = 'Lisbon')\"]"},
            "readVersion": 1, "isBlindAppend": False,
            "operationMetrics": {"numRemovedFiles": "1", "numDeletedRows": "2", "numAddedFiles": "0"}})
    print(f"wrote {table}")

main()
