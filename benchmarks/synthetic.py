"""A deterministic generator of realistic synthetic libraries, for benchmarks and scale tests."""

from __future__ import annotations

import random
from pathlib import Path

DOMAINS = {
    "infrastructure": ["terraform", "kubernetes", "helm", "ansible", "load balancers", "dns"],
    "data": ["sql", "spark", "dbt", "airflow", "parquet", "data quality"],
    "security": ["secrets", "iam policies", "cve triage", "threat models", "tls", "sast"],
    "writing": ["release notes", "changelogs", "postmortems", "api docs", "tutorials", "rfcs"],
    "frontend": ["react", "accessibility", "css", "bundle size", "design tokens", "forms"],
    "backend": ["rest apis", "grpc", "caching", "queues", "rate limits", "migrations"],
    "business": ["pricing", "roadmaps", "okrs", "market research", "sales calls", "invoices"],
    "support": ["tickets", "macros", "escalations", "knowledge base", "csat", "refunds"],
    "ml": ["feature stores", "model evaluation", "embeddings", "fine-tuning", "drift", "labels"],
    "legal": ["contracts", "licenses", "gdpr", "dpa reviews", "policies", "audits"],
}
VERBS = ["reviews", "audits", "drafts", "optimizes", "triages", "summarizes", "migrates",
         "validates", "plans", "monitors", "refactors", "documents", "benchmarks", "designs"]
ROLE_NOUNS = ["engineer", "analyst", "lead", "reviewer", "architect", "writer", "specialist",
              "manager", "auditor", "consultant"]
QUALIFIERS = ["senior", "staff", "principal", "junior", "platform", "embedded", "on-call",
              "regional", "product", "growth"]
WHEN = ["before a release", "during an incident", "when onboarding a new service",
        "after a failed deploy", "when costs spike", "before an audit", "in code review",
        "when a customer escalates", "at quarter planning", "when data looks wrong"]


def _entry_text(rng: random.Random, kind: str, index: int) -> tuple[str, str, list[str], str]:
    domain = rng.choice(sorted(DOMAINS))
    topics = rng.sample(DOMAINS[domain], 3)
    verb = rng.choice(VERBS)
    if kind == "roles":
        noun = rng.choice(ROLE_NOUNS)
        name = f"{rng.choice(QUALIFIERS)}-{domain}-{noun}-{index}"
        description = (
            f"A {noun} who {verb} {topics[0]} and {topics[1]} work for the {domain} team, "
            f"with deep experience in {topics[2]}. Use when you need a {noun} "
            f"{rng.choice(WHEN)}."
        )
    else:
        name = f"{topics[0].replace(' ', '-')}-{verb}-{index}"
        description = (
            f"{verb.capitalize()} {topics[0]} for {domain} projects, checking {topics[1]} and "
            f"{topics[2]} against the team's conventions. Use when {rng.choice(WHEN)}."
        )
    tags = [domain, *(t.replace(" ", "-") for t in topics[:2])]
    steps = "\n".join(
        f"{i}. {rng.choice(VERBS).capitalize()} the {rng.choice(DOMAINS[domain])} "
        f"and note anything {rng.choice(['risky', 'slow', 'unclear', 'missing', 'stale'])}."
        for i in range(1, rng.randint(5, 9))
    )
    table = "\n".join(
        f"| {t} | {rng.choice(['high', 'medium', 'low'])} | {rng.choice(VERBS)} |"
        for t in DOMAINS[domain]
    )
    body = (
        f"# {name.replace('-', ' ').title()}\n\n{description}\n\n## Workflow\n\n{steps}\n\n"
        f"## Checks\n\n| area | risk | action |\n| --- | --- | --- |\n{table}\n\n"
        f"## Example\n\n```bash\nrun-check --domain {domain} --strict\n```\n"
    )
    return name, description, tags, body


def generate_library(root: Path, count: int, *, seed: int = 7, skill_share: float = 0.6) -> Path:
    """Write `count` entries (roles and skills) under `root`; same seed, same bytes."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        kind = "skills" if rng.random() < skill_share else "roles"
        name, description, tags, body = _entry_text(rng, kind, index)
        folder = root / kind / name
        folder.mkdir(parents=True, exist_ok=True)
        definition = "SKILL.md" if kind == "skills" else "ROLE.md"
        # Skills keep tags where the Agent Skills spec allows them (metadata.tags, a comma
        # string); roles use Persona's top-level list.
        tag_line = f"tags: [{', '.join(tags)}]\n" if kind == "roles" else ""
        skill_tags = f"  tags: {', '.join(tags)}\n" if kind == "skills" else ""
        frontmatter = (
            f"---\nname: {name}\ndescription: {description}\n{tag_line}"
            f"license: Apache-2.0\nmetadata:\n  version: \"1.{index % 10}.0\"\n"
            f"  author: team-{index % 17}\n{skill_tags}---\n"
        )
        (folder / definition).write_text(frontmatter + body)
        if kind == "skills" and rng.random() < 0.5:
            (folder / "scripts").mkdir(exist_ok=True)
            (folder / "scripts" / "run.py").write_text(
                f'"""Helper for {name}."""\n\nimport sys\n\n\ndef main() -> int:\n'
                f'    print("checking", sys.argv[1:])\n    return 0\n\n\n'
                f'if __name__ == "__main__":\n    raise SystemExit(main())\n'
            )
            (folder / "references").mkdir(exist_ok=True)
            (folder / "references" / "guide.md").write_text(f"# Guide\n\n{body}\n")
    return root
