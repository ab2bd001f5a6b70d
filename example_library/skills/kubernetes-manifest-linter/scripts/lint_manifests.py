#!/usr/bin/env python3
"""Lint Kubernetes manifests for common reliability and security problems.

Usage: python3 lint_manifests.py FILE.yaml [FILE.yaml ...]
Exit code 1 if any ERROR is found, 2 if a file cannot be parsed.
Requires PyYAML. Ignore rules per object with the annotation
`lint.example.com/ignore: "K005,K011"`.
"""
from __future__ import annotations

import sys

import yaml

REMOVED_APIS = {
    ("extensions/v1beta1", "Deployment"): "1.16", ("apps/v1beta1", "Deployment"): "1.16",
    ("apps/v1beta2", "Deployment"): "1.16", ("extensions/v1beta1", "DaemonSet"): "1.16",
    ("extensions/v1beta1", "Ingress"): "1.22", ("networking.k8s.io/v1beta1", "Ingress"): "1.22",
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRole"): "1.22",
    ("rbac.authorization.k8s.io/v1beta1", "RoleBinding"): "1.22",
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"): "1.22",
    ("batch/v1beta1", "CronJob"): "1.25", ("policy/v1beta1", "PodDisruptionBudget"): "1.25",
    ("policy/v1beta1", "PodSecurityPolicy"): "1.25",
    ("autoscaling/v2beta1", "HorizontalPodAutoscaler"): "1.25",
    ("autoscaling/v2beta2", "HorizontalPodAutoscaler"): "1.26",
}
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}


def pod_spec(obj: dict) -> dict | None:
    kind, spec = obj.get("kind"), obj.get("spec") or {}
    if kind == "Pod":
        return spec
    if kind in WORKLOADS:
        return (spec.get("template") or {}).get("spec")
    if kind == "CronJob":
        return (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec")
    return None


def check(obj: dict) -> list[tuple[str, str, str]]:
    out = []
    api, kind = obj.get("apiVersion"), obj.get("kind")
    if (api, kind) in REMOVED_APIS:
        out.append(("ERROR", "K010", f"{api} {kind} was removed in Kubernetes {REMOVED_APIS[(api, kind)]}"))
    spec = pod_spec(obj)
    if spec is None:
        return out
    pod_sc = spec.get("securityContext") or {}
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(flag):
            out.append(("ERROR", "K009", f"pod uses {flag}"))
    long_running = kind not in ("Job", "CronJob")
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        name = c.get("name", "?")
        is_init = c in (spec.get("initContainers") or [])
        image = c.get("image", "")
        tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
        if "@sha256:" not in image and tag in ("", "latest"):
            out.append(("WARN", "K005", f"container {name}: image '{image}' has no pinned tag"))
        res = c.get("resources") or {}
        if not res.get("requests"):
            out.append(("WARN", "K001", f"container {name}: no resource requests"))
        if not (res.get("limits") or {}).get("memory"):
            out.append(("WARN", "K002", f"container {name}: no memory limit"))
        if long_running and not is_init:
            if not c.get("readinessProbe") and kind != "DaemonSet":
                out.append(("WARN", "K003", f"container {name}: no readinessProbe"))
            if not c.get("livenessProbe"):
                out.append(("INFO", "K004", f"container {name}: no livenessProbe"))
        sc = c.get("securityContext") or {}
        if sc.get("privileged"):
            out.append(("ERROR", "K006", f"container {name}: privileged"))
        if not (sc.get("runAsNonRoot") or pod_sc.get("runAsNonRoot")) or sc.get("runAsUser") == 0:
            out.append(("WARN", "K007", f"container {name}: may run as root (set runAsNonRoot: true)"))
        if sc.get("allowPrivilegeEscalation") is not False:
            out.append(("WARN", "K008", f"container {name}: allowPrivilegeEscalation not set to false"))
        if not sc.get("readOnlyRootFilesystem"):
            out.append(("INFO", "K011", f"container {name}: root filesystem is writable"))
    return out


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    counts = {"ERROR": 0, "WARN": 0, "INFO": 0}
    for path in sys.argv[1:]:
        try:
            with open(path, encoding="utf-8") as fh:
                docs = [d for d in yaml.safe_load_all(fh) if isinstance(d, dict)]
        except (OSError, yaml.YAMLError) as exc:
            print(f"{path}: cannot parse: {exc}", file=sys.stderr)
            return 2
        for doc in docs:
            items = doc.get("items", []) if doc.get("kind") == "List" else [doc]
            for obj in items:
                meta = obj.get("metadata") or {}
                ignored = str((meta.get("annotations") or {}).get("lint.example.com/ignore", ""))
                where = f"{path}: {obj.get('kind')}/{meta.get('name', '?')}"
                for level, rule, msg in check(obj):
                    if rule in ignored:
                        continue
                    counts[level] += 1
                    print(f"{level:5} {rule} {where}: {msg}")
    print(f"\n{counts['ERROR']} error(s), {counts['WARN']} warning(s), {counts['INFO']} info")
    return 1 if counts["ERROR"] else 0


if __name__ == "__main__":
    sys.exit(main())
