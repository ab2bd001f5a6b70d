#!/usr/bin/env python3
"""Clean a CSV file and write a JSON report of every change.

Usage:
    python3 clean_csv.py INPUT.csv OUTPUT.csv [--date-columns a,b] [--number-columns c]
                         [--day-first] [--report report.json]
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
from datetime import datetime

DATE_FORMATS_MONTH_FIRST = ["%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%d %b %Y", "%d %B %Y",
                            "%b %d, %Y", "%Y/%m/%d", "%Y%m%d", "%d.%m.%Y"]
DATE_FORMATS_DAY_FIRST = ["%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d %b %Y", "%d %B %Y",
                          "%b %d, %Y", "%Y/%m/%d", "%Y%m%d", "%d.%m.%Y"]


def decode(raw: bytes) -> tuple[str, str]:
    for enc in ("utf-8-sig", "utf-8", "cp1252"):
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1"), "latin-1"


def snake(name: str) -> str:
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name.strip())
    name = re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower()
    return name or "column"


def parse_date(value: str, formats: list[str]) -> str | None:
    for fmt in formats:
        try:
            return datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def parse_number(value: str) -> str | None:
    v = value.replace(" ", "").replace("\u00a0", "")
    v = re.sub(r"^[$€£]|[$€£]$", "", v)
    if re.fullmatch(r"-?\d{1,3}(\.\d{3})+(,\d+)?", v) or re.fullmatch(r"-?\d+,\d+", v):
        v = v.replace(".", "").replace(",", ".")  # European style
    else:
        v = v.replace(",", "")
    return v if re.fullmatch(r"-?\d+(\.\d+)?", v) else None


def main() -> int:
    ap = argparse.ArgumentParser(description="Clean a CSV file.")
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--date-columns", default="")
    ap.add_argument("--number-columns", default="")
    ap.add_argument("--day-first", action="store_true")
    ap.add_argument("--report", default="")
    args = ap.parse_args()

    with open(args.input, "rb") as fh:
        text, encoding = decode(fh.read())
    try:
        dialect = csv.Sniffer().sniff(text[:20000], delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not rows:
        print("error: empty file", file=sys.stderr)
        return 2

    header, body = rows[0], rows[1:]
    new_header, renames, seen = [], {}, {}
    for col in header:
        name = snake(col)
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name}_{seen[name]}"
        if name != col:
            renames[col] = name
        new_header.append(name)

    date_cols = {snake(c) for c in args.date_columns.split(",") if c}
    num_cols = {snake(c) for c in args.number_columns.split(",") if c}
    formats = DATE_FORMATS_DAY_FIRST if args.day_first else DATE_FORMATS_MONTH_FIRST
    report: dict = {"encoding": encoding, "delimiter": delimiter, "rows_in": len(body),
                    "header_renames": renames, "cells_trimmed": 0, "dates_normalized": 0,
                    "numbers_normalized": 0, "unparsed_dates": [], "unparsed_numbers": [],
                    "ragged_rows": [], "duplicates_removed": 0}

    out_rows, seen_rows = [], set()
    for n, row in enumerate(body, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(new_header):
            report["ragged_rows"].append(n)
        cleaned = []
        for col, cell in zip(new_header, row, strict=False):
            value = cell.strip()
            if value != cell:
                report["cells_trimmed"] += 1
            if value and col in date_cols:
                parsed = parse_date(value, formats)
                if parsed is None:
                    report["unparsed_dates"].append({"row": n, "column": col, "value": value})
                elif parsed != value:
                    value, report["dates_normalized"] = parsed, report["dates_normalized"] + 1
            if value and col in num_cols:
                parsed = parse_number(value)
                if parsed is None:
                    report["unparsed_numbers"].append({"row": n, "column": col, "value": value})
                elif parsed != value:
                    value, report["numbers_normalized"] = parsed, report["numbers_normalized"] + 1
            cleaned.append(value)
        cleaned.extend(row[len(new_header):])
        key = tuple(cleaned)
        if key in seen_rows:
            report["duplicates_removed"] += 1
            continue
        seen_rows.add(key)
        out_rows.append(cleaned)

    with open(args.output, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(new_header)
        writer.writerows(out_rows)
    report["rows_out"] = len(out_rows)

    summary = json.dumps(report, indent=2, ensure_ascii=False)
    if args.report:
        with open(args.report, "w", encoding="utf-8") as fh:
            fh.write(summary + "\n")
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
