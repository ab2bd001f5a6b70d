"""Test-only model helpers: the fp32 sentence-transformers ground truth (imports torch)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sitegen.entry import DIM
from sitegen.model_weights import resolve_model_dir, weights_file

ROOT = Path(__file__).resolve().parent.parent

DESCRIPTIONS = [
    "Reviews pull requests for correctness, readability and security issues, and leaves "
    "concrete suggestions. Use when a change touches authentication or payment code.",
    "Writes unit and integration tests for Python services using pytest fixtures and "
    "property-based testing. Not for load testing.",
    "Designs PostgreSQL schemas with indexes, constraints and safe online migrations for "
    "tables with hundreds of millions of rows.",
    "Triages incoming bug reports: reproduces them, labels severity, finds duplicates and "
    "assigns an owner.",
    "Drafts release notes from merged pull requests and conventional commit messages, "
    "grouping changes into features, fixes and breaking changes.",
    "Profiles slow HTTP endpoints with flame graphs, query plans and tracing spans, then "
    "proposes the cheapest fix first.",
    "Translates product requirements into user stories with acceptance criteria and "
    "open questions for the product owner.",
    "Audits Terraform modules for drift, overly broad IAM policies and missing tags before "
    "they are applied.",
    "Builds nightly data pipelines that load CSV and Parquet files into the warehouse, "
    "monitors failures and backfills missing partitions.",
    "Writes technical documentation: tutorials, how-to guides and API reference pages that "
    "follow the team's style guide.",
    "Refactors legacy JavaScript into typed TypeScript modules without changing behaviour.",
    "Incident commander: coordinates responders during an outage, keeps a timeline, "
    "communicates status to stakeholders and runs the postmortem.",
    "Prepares customer support replies that are accurate and polite and link the right help "
    "article; escalates refunds above the agent's limit.",
    "Plans sprint backlogs by estimating effort, ordering stories by value and flagging "
    "dependencies between teams.",
    "Designs REST and GraphQL APIs with versioning, pagination and consistent error formats.",
    "Tunes machine learning models with hyperparameter sweeps and compares validation "
    "metrics across runs.",
    "Reviews commercial contracts for liability caps, auto-renewal terms and data "
    "processing obligations. Not legal advice.",
    "Writes marketing copy for landing pages, newsletters and product launch announcements.",
    "Configures CI pipelines that lint, test, build containers and publish artifacts.",
    "Analyses sales data to find trends, churn risks and upsell opportunities by region.",
    "Builds accessible UI components that meet WCAG contrast, focus order and keyboard "
    "navigation requirements.",
    "Summarises research papers into one-page briefs covering methods, results and limitations.",
    "Manages Kubernetes deployments: rollouts, autoscaling, resource requests and limits.",
    "Hardens Linux servers by patching packages, closing unused ports and enforcing SSH key "
    "authentication.",
    "Localises application strings into French, German and Japanese while keeping "
    "placeholders and plural rules intact.",
    "Onboards new engineers with a checklist of accounts, repositories, docs and a first "
    "starter task.",
    "Reconciles monthly invoices against purchase orders and flags mismatched amounts or "
    "missing approvals.",
    "Plans database backups with point-in-time recovery and schedules regular restore drills.",
    "Writes SQL reports that aggregate events by day, cohort and acquisition channel.",
    "Reviews mobile app builds for crashes, battery drain and app store guideline compliance.",
    "Data privacy officer: maps personal data flows, answers GDPR subject access requests "
    "and reviews vendors for compliance.",
    "Scans repositories for leaked secrets such as API keys and private keys, and opens "
    "rotation tickets.",
    "Finds anomalies in application logs: error bursts, new exception types and latency "
    "spikes after a deploy.",
    "UX researcher who plans usability studies, recruits participants, runs interviews and "
    "turns findings into prioritised recommendations.",
    "Lints Kubernetes manifests for missing probes, privileged containers and unpinned image tags.",
    "Summarises meeting notes into decisions, action items with owners, and open questions.",
    "Extracts line items, totals and due dates from PDF invoices into structured JSON.",
    "Optimises slow SQL queries by reading EXPLAIN output, adding indexes and rewriting "
    "correlated subqueries.",
    "Site reliability engineer: defines SLOs, tunes alerts to cut pager noise and automates toil.",
    "Hardens Dockerfiles: pins base images, drops root, removes build tools from the final stage.",
    "Cleans messy CSV exports: fixes encodings, normalises dates and removes duplicate rows.",
    "Triage dependency vulnerability alerts: checks reachability, severity and whether an "
    "upgrade path exists.",
]

_REFERENCE_MODELS: dict[str, Any] = {}


def reference_embed(
    texts: Sequence[str], model_path: str | os.PathLike[str] | None = None
) -> np.ndarray:
    """fp32 sentence-transformers vectors: the ground truth the int8 model is measured against."""
    if isinstance(texts, str):
        raise TypeError("reference_embed() takes a sequence of strings, not a single string")
    items = list(texts)
    if not items:
        return np.zeros((0, DIM), dtype=np.float32)
    model_dir = resolve_model_dir(model_path)
    weights_file(model_dir)
    key = str(model_dir.resolve())
    model = _REFERENCE_MODELS.get(key)
    if model is None:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.disable_progress_bar()
        transformers.logging.set_verbosity_error()
        model = SentenceTransformer(key, device="cpu", local_files_only=True)
        _REFERENCE_MODELS[key] = model
    vectors = model.encode(
        items,
        batch_size=32,
        convert_to_numpy=True,
        normalize_embeddings=True,
        show_progress_bar=False,
    )
    return np.asarray(vectors, dtype=np.float32)


def subprocess_env(cache: Path) -> dict[str, str]:
    """Environment for a child Python that uses `cache` and this checkout's sitegen."""
    env = dict(os.environ)
    env["SITEGEN_CACHE_DIR"] = str(cache)
    env.pop("SITEGEN_MODEL", None)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env
