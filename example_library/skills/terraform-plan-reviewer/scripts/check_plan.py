#!/usr/bin/env python3
"""Flag destructive changes in a Terraform JSON plan.

Usage:
    terraform show -json plan.out > plan.json
    python3 check_plan.py plan.json [--all]

Exit codes: 0 = no destructive change to stateful resources,
            1 = at least one stateful resource is deleted or replaced,
            2 = the plan could not be read.
"""
from __future__ import annotations

import argparse
import json
import sys

# Resource types whose deletion usually means data loss.
STATEFUL_TYPES = {
    "aws_db_instance", "aws_rds_cluster", "aws_rds_cluster_instance",
    "aws_dynamodb_table", "aws_s3_bucket", "aws_ebs_volume", "aws_efs_file_system",
    "aws_elasticache_cluster", "aws_elasticache_replication_group", "aws_kms_key",
    "aws_redshift_cluster", "aws_docdb_cluster", "aws_opensearch_domain",
    "google_sql_database_instance", "google_sql_database", "google_storage_bucket",
    "google_compute_disk", "google_bigquery_dataset", "google_bigquery_table",
    "google_kms_crypto_key", "google_spanner_instance", "google_spanner_database",
    "azurerm_mssql_database", "azurerm_mssql_server", "azurerm_postgresql_flexible_server",
    "azurerm_storage_account", "azurerm_managed_disk", "azurerm_cosmosdb_account",
    "azurerm_key_vault", "kubernetes_persistent_volume_claim",
}


def classify(actions: list[str]) -> str:
    if actions == ["delete"]:
        return "delete"
    if actions == ["delete", "create"]:
        return "replace (destroy first)"
    if actions == ["create", "delete"]:
        return "replace (create first)"
    if actions == ["update"]:
        return "update"
    if actions == ["create"]:
        return "create"
    return "+".join(actions) or "no-op"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plan", help="path to `terraform show -json` output, or - for stdin")
    parser.add_argument("--all", action="store_true", help="also list creates and updates")
    args = parser.parse_args()

    try:
        if args.plan == "-":
            raw = sys.stdin.read()
        else:
            with open(args.plan, encoding="utf-8") as fh:
                raw = fh.read()
        plan = json.loads(raw)
    except (OSError, json.JSONDecodeError) as exc:
        print(f"error: cannot read plan: {exc}", file=sys.stderr)
        return 2

    critical = 0
    counts: dict[str, int] = {}
    for rc in plan.get("resource_changes", []):
        change = rc.get("change", {})
        kind = classify(change.get("actions", []))
        counts[kind] = counts.get(kind, 0) + 1
        destructive = kind == "delete" or kind.startswith("replace")
        if not destructive and not (args.all and kind in ("create", "update")):
            continue
        stateful = rc.get("type") in STATEFUL_TYPES
        level = "CRITICAL" if destructive and stateful else ("WARN" if destructive else "INFO")
        if level == "CRITICAL":
            critical += 1
        line = f"[{level}] {rc.get('address')} ({rc.get('type')}): {kind}"
        paths = change.get("replace_paths")
        if paths:
            forced = ", ".join(".".join(str(p) for p in path) for path in paths)
            line += f"; forced by: {forced}"
        before = change.get("before") or {}
        if destructive and before.get("deletion_protection") is True:
            line += "; deletion_protection is on (apply will fail)"
        print(line)

    summary = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
    print(f"\nsummary: {summary or 'no resource changes'}")
    print("verdict: NO-GO (stateful resources destroyed or replaced)" if critical
          else "verdict: no stateful resource is destroyed")
    return 1 if critical else 0


if __name__ == "__main__":
    sys.exit(main())
