#!/usr/bin/env python3
"""Validate extracted invoice JSON records (one object or a list).

Usage: python3 validate_invoice.py invoice.json [more.json ...]
Exit code 1 if any record fails a check.
"""
from __future__ import annotations

import json
import re
import sys
from datetime import date
from decimal import Decimal, InvalidOperation

REQUIRED = ["document_type", "supplier", "invoice_number", "issue_date", "currency",
            "line_items", "subtotal", "tax_total", "total"]
TOLERANCE = Decimal("0.01")


def money(value, field: str, problems: list[str]) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        problems.append(f"{field} is not a number: {value!r}")
        return None


def check(rec: dict) -> list[str]:
    problems = [f"missing {f}" for f in REQUIRED if rec.get(f) in (None, "", [])]
    if not (rec.get("supplier") or {}).get("name"):
        problems.append("missing supplier.name")
    if rec.get("currency") and not re.fullmatch(r"[A-Z]{3}", rec["currency"]):
        problems.append(f"currency should be an ISO 4217 code, got {rec['currency']!r}")

    dates = {}
    for field in ("issue_date", "due_date"):
        if rec.get(field):
            try:
                dates[field] = date.fromisoformat(rec[field])
            except ValueError:
                problems.append(f"{field} is not YYYY-MM-DD: {rec[field]!r}")
    if "issue_date" in dates and "due_date" in dates and dates["due_date"] < dates["issue_date"]:
        problems.append("due_date is before issue_date")

    line_sum = Decimal(0)
    for i, item in enumerate(rec.get("line_items") or [], 1):
        total = money(item.get("total"), f"line {i} total", problems)
        qty = money(item.get("quantity"), f"line {i} quantity", problems)
        price = money(item.get("unit_price"), f"line {i} unit_price", problems)
        if total is not None:
            line_sum += total
            if qty is not None and price is not None and abs(qty * price - total) > TOLERANCE:
                problems.append(f"line {i}: {qty} x {price} = {qty * price}, but total is {total}")

    subtotal = money(rec.get("subtotal"), "subtotal", problems)
    tax = money(rec.get("tax_total"), "tax_total", problems)
    total = money(rec.get("total"), "total", problems)
    if subtotal is not None and rec.get("line_items") and abs(line_sum - subtotal) > TOLERANCE:
        problems.append(f"line items sum to {line_sum}, subtotal is {subtotal}")
    if None not in (subtotal, tax, total) and abs(subtotal + tax - total) > TOLERANCE:
        problems.append(f"subtotal {subtotal} + tax {tax} = {subtotal + tax}, total is {total}")
    if rec.get("document_type") == "invoice" and total is not None and total < 0:
        problems.append("negative total on an invoice; is it a credit note?")
    low = [k for k, v in (rec.get("confidence") or {}).items() if v < 0.9]
    if low:
        problems.append(f"low confidence fields need review: {', '.join(sorted(low))}")
    return problems


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    failed = 0
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        for rec in data if isinstance(data, list) else [data]:
            label = f"{path}: {rec.get('invoice_number', '?')}"
            problems = check(rec)
            if problems:
                failed += 1
                print(f"FAIL {label}")
                for p in problems:
                    print(f"     - {p}")
            else:
                print(f"OK   {label} total {rec.get('total')} {rec.get('currency')}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
