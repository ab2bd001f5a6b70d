#!/usr/bin/env python3
"""Lint a PostgreSQL migration file for operations that lock or rewrite tables.

Usage: python3 lint_migration.py FILE.sql [FILE.sql ...]
Exit code 1 if any ERROR-level finding is reported.
"""
from __future__ import annotations

import re
import sys

RULES = [
    ("MIG001", "ERROR", r"\bCREATE\s+(UNIQUE\s+)?INDEX\s+(?!CONCURRENTLY)",
     "CREATE INDEX without CONCURRENTLY blocks writes for the whole build"),
    ("MIG002", "ERROR", r"\bADD\s+COLUMN\b(?:(?!\bDEFAULT\b).)*\bNOT\s+NULL\b(?:(?!\bDEFAULT\b).)*$",
     "ADD COLUMN NOT NULL without DEFAULT fails on a non-empty table"),
    ("MIG003", "ERROR", r"\bADD\s+COLUMN\b.*\bDEFAULT\s+(gen_random_uuid|uuid_generate_v4|random|clock_timestamp)\s*\(",
     "volatile DEFAULT rewrites the whole table; add the column, then backfill"),
    ("MIG004", "WARN", r"\bALTER\s+COLUMN\s+\w+\s+(SET\s+DATA\s+)?TYPE\b",
     "type change usually rewrites the table under ACCESS EXCLUSIVE"),
    ("MIG005", "WARN", r"\bALTER\s+COLUMN\s+\w+\s+SET\s+NOT\s+NULL\b",
     "SET NOT NULL scans the table; add a validated CHECK constraint first"),
    ("MIG006", "WARN", r"\bADD\s+CONSTRAINT\b(?:(?!\bNOT\s+VALID\b).)*\b(FOREIGN\s+KEY|CHECK)\b(?:(?!\bNOT\s+VALID\b).)*$",
     "constraint validated immediately; use NOT VALID, then VALIDATE CONSTRAINT"),
    ("MIG007", "WARN", r"\bDROP\s+(COLUMN|TABLE)\b",
     "drop is irreversible; make sure no deployed code still uses it"),
    ("MIG008", "WARN", r"\bRENAME\s+(COLUMN\s+)?\w+\s+TO\b|\bRENAME\s+TO\b",
     "rename breaks running application versions; use expand and contract"),
]

CONCURRENTLY = re.compile(r"\bCONCURRENTLY\b", re.I)
BEGIN = re.compile(r"^\s*(BEGIN|START\s+TRANSACTION)\b", re.I)
LOCK_TIMEOUT = re.compile(r"\bSET\s+(LOCAL\s+)?lock_timeout\b", re.I)


def statements(sql: str):
    sql = re.sub(r"--[^\n]*", "", sql)
    sql = re.sub(r"/\*.*?\*/", "", sql, flags=re.S)
    for stmt in sql.split(";"):
        stmt = " ".join(stmt.split())
        if stmt:
            yield stmt


def lint(path: str) -> tuple[int, int]:
    with open(path, encoding="utf-8") as fh:
        sql = fh.read()
    errors = warnings = 0
    in_tx = False
    stmts = list(statements(sql))
    for n, stmt in enumerate(stmts, 1):
        if BEGIN.match(stmt):
            in_tx = True
        if re.match(r"^(COMMIT|END|ROLLBACK)\b", stmt, re.I):
            in_tx = False
        hits = [(rid, lvl, msg) for rid, lvl, pat, msg in RULES if re.search(pat, stmt, re.I)]
        if in_tx and CONCURRENTLY.search(stmt):
            hits.append(("MIG009", "ERROR", "CONCURRENTLY cannot run inside a transaction block"))
        for rid, lvl, msg in hits:
            print(f"{path}: statement {n}: {lvl} {rid}: {msg}\n    {stmt[:100]}")
            if lvl == "ERROR":
                errors += 1
            else:
                warnings += 1
    if stmts and not LOCK_TIMEOUT.search(sql):
        print(f"{path}: WARN MIG010: no SET lock_timeout; DDL may queue behind long transactions")
        warnings += 1
    return errors, warnings


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    total_e = total_w = 0
    for path in sys.argv[1:]:
        e, w = lint(path)
        total_e += e
        total_w += w
    print(f"\n{total_e} error(s), {total_w} warning(s)")
    return 1 if total_e else 0


if __name__ == "__main__":
    sys.exit(main())
