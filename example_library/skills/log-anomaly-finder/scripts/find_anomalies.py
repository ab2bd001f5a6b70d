#!/usr/bin/env python3
"""Find error spikes, new message templates and silent gaps in a log file.

Usage: python3 find_anomalies.py FILE.log [--baseline-minutes 30] [--gap-minutes 5]

Lines must start with an ISO-8601 timestamp (as produced by `kubectl logs --timestamps`,
`journalctl -o short-iso` or most JSON-less app loggers). Lines without a timestamp are
attached to the previous line.
"""
from __future__ import annotations

import argparse
import re
import statistics
from collections import Counter
from datetime import datetime, timedelta

TS = re.compile(r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?)(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
LEVEL = re.compile(r"\b(ERROR|ERR|FATAL|CRITICAL|PANIC|Exception|Traceback)\b")
MASKS = [
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "<UUID>"),
    (re.compile(r"\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b"), "<IP>"),
    (re.compile(r"\b0x[0-9a-f]+\b|\b[0-9a-f]{12,}\b", re.I), "<HEX>"),
    (re.compile(r"\d+(\.\d+)?"), "<NUM>"),
]


def template(message: str) -> str:
    for pattern, token in MASKS:
        message = pattern.sub(token, message)
    return message.strip()[:160]


def main() -> int:
    ap = argparse.ArgumentParser(description="Find anomalies in a log file.")
    ap.add_argument("logfile")
    ap.add_argument("--baseline-minutes", type=int, default=30)
    ap.add_argument("--gap-minutes", type=int, default=5)
    args = ap.parse_args()

    errors_per_min: Counter[datetime] = Counter()
    lines_per_min: Counter[datetime] = Counter()
    first_seen: dict[str, datetime] = {}
    template_counts: Counter[str] = Counter()
    start = None
    with open(args.logfile, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            m = TS.match(line)
            if not m:
                continue
            ts = datetime.fromisoformat(m.group(1).replace(" ", "T")).replace(second=0)
            start = start or ts
            lines_per_min[ts] += 1
            msg = line[m.end():]
            tpl = template(re.sub(r"^[^A-Za-z]*", "", msg))
            template_counts[tpl] += 1
            first_seen.setdefault(tpl, ts)
            if LEVEL.search(msg):
                errors_per_min[ts] += 1

    if start is None:
        print("no timestamped lines found")
        return 2
    end = max(lines_per_min)
    baseline_end = start + timedelta(minutes=args.baseline_minutes)
    minutes = [start + timedelta(minutes=i) for i in range(int((end - start).total_seconds() // 60) + 1)]
    base = [errors_per_min[m] for m in minutes if m < baseline_end] or [0]
    mean, stdev = statistics.mean(base), max(statistics.pstdev(base), 1.0)

    print(f"window {start:%Y-%m-%d %H:%M} to {end:%H:%M}, baseline until {baseline_end:%H:%M}")
    print(f"baseline errors/min: mean {mean:.1f}, stdev {stdev:.1f}\n")
    print("Error spikes (z >= 3):")
    spikes = [(m, errors_per_min[m]) for m in minutes
              if m >= baseline_end and (errors_per_min[m] - mean) / stdev >= 3]
    for m, n in spikes[:20]:
        print(f"  {m:%H:%M}  {n} errors  (z={(n - mean) / stdev:.1f})")
    if not spikes:
        print("  none")

    print("\nNew templates after baseline (top 10 by count):")
    new = [(t, c) for t, c in template_counts.most_common() if first_seen[t] >= baseline_end]
    for tpl, count in new[:10]:
        print(f"  first {first_seen[tpl]:%H:%M}  x{count:<6} {tpl}")
    if not new:
        print("  none")

    print(f"\nSilent gaps of {args.gap_minutes}+ minutes:")
    gaps, run = [], []
    for m in minutes:
        if lines_per_min[m] == 0:
            run.append(m)
        else:
            if len(run) >= args.gap_minutes:
                gaps.append((run[0], run[-1]))
            run = []
    for a, b in gaps:
        print(f"  {a:%H:%M} to {b:%H:%M}")
    if not gaps:
        print("  none")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
