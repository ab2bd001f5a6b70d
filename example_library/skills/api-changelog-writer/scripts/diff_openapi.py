#!/usr/bin/env python3
"""Structural diff of two OpenAPI 3 documents (JSON or YAML).

Usage: python3 diff_openapi.py OLD_SPEC NEW_SPEC
Exit code 1 if likely breaking changes were found, 0 otherwise.
"""
from __future__ import annotations

import json
import sys

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def load(path: str) -> dict:
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    if path.endswith((".yaml", ".yml")):
        import yaml  # PyYAML, only needed for YAML specs
        return yaml.safe_load(text)
    return json.loads(text)


def resolve(spec: dict, node):
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            return node
        target = spec
        for part in ref[2:].split("/"):
            target = target.get(part, {})
        node = target
    return node


def operations(spec: dict) -> dict[str, dict]:
    ops = {}
    for path, item in (spec.get("paths") or {}).items():
        shared = item.get("parameters", [])
        for method, op in item.items():
            if method in METHODS:
                ops[f"{method.upper()} {path}"] = {"op": op, "shared": shared}
    return ops


def params(spec: dict, entry: dict) -> dict[str, bool]:
    out = {}
    for p in entry["shared"] + entry["op"].get("parameters", []):
        p = resolve(spec, p)
        out[f"{p.get('in')}:{p.get('name')}"] = bool(p.get("required"))
    return out


def body_schema(spec: dict, op: dict) -> dict:
    content = resolve(spec, op.get("requestBody", {})).get("content", {})
    media = content.get("application/json") or next(iter(content.values()), {})
    return resolve(spec, media.get("schema", {}))


def response_props(spec: dict, op: dict) -> set[str]:
    props: set[str] = set()
    for code, resp in (op.get("responses") or {}).items():
        if str(code).startswith("2"):
            content = resolve(spec, resp).get("content", {})
            for media in content.values():
                props |= set(resolve(spec, media.get("schema", {})).get("properties", {}))
    return props


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    old, new = load(sys.argv[1]), load(sys.argv[2])
    old_ops, new_ops = operations(old), operations(new)
    breaking, other = [], []

    for key in sorted(old_ops.keys() - new_ops.keys()):
        breaking.append(f"removed operation {key}")
    for key in sorted(new_ops.keys() - old_ops.keys()):
        other.append(f"added operation {key}")
    for key in sorted(old_ops.keys() & new_ops.keys()):
        o, n = old_ops[key], new_ops[key]
        op_old, op_new = params(old, o), params(new, n)
        for name in sorted(op_old.keys() - op_new.keys()):
            breaking.append(f"{key}: removed parameter {name}")
        for name, required in sorted(op_new.items()):
            if required and not op_old.get(name, False):
                breaking.append(f"{key}: parameter {name} is now required")
            elif name not in op_old:
                other.append(f"{key}: added optional parameter {name}")
        req_old = set(body_schema(old, o["op"]).get("required", []))
        req_new = set(body_schema(new, n["op"]).get("required", []))
        for field in sorted(req_new - req_old):
            breaking.append(f"{key}: request field '{field}' is now required")
        for field in sorted(response_props(old, o["op"]) - response_props(new, n["op"])):
            breaking.append(f"{key}: response field '{field}' removed")
        if n["op"].get("deprecated") and not o["op"].get("deprecated"):
            other.append(f"{key}: newly deprecated")

    print("Likely breaking:")
    print("\n".join(f"  - {b}" for b in breaking) or "  (none)")
    print("Other changes:")
    print("\n".join(f"  - {c}" for c in other) or "  (none)")
    return 1 if breaking else 0


if __name__ == "__main__":
    sys.exit(main())
