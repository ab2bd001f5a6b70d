"""A real-collection-like library: few skills, many large Markdown references, some scripts.

Shaped after the public collections the team reads (~130 skills, ~1,250 files, ~20-30 MB,
mostly Markdown references of 20-200 KB with headings, lists, tables, fenced code and links
between references), deterministic (seed 11), so the site benchmark can time what a
synthetic catalog of one-page entries never exercises: rendering megabytes of Markdown.
"""

from __future__ import annotations

import random
from pathlib import Path

SKILLS = 130
_VOCABULARY = (
    "the a of to and in is for on with as by be at this that from or an are it which when "
    "check run output file input result each use must should never always report error "
    "value table list item case test data user change review note schema query index cache "
    "build deploy service request response token model field record batch stream retry "
    "timeout"
)
WORDS = _VOCABULARY.split()
LANGS = ("python", "bash", "json", "yaml", "sql", "typescript")
CODE = {
    "python": "def handle(event: dict) -> dict:\n    items = [x for x in event['items'] if x]\n"
    "    return {'count': len(items), 'ok': True}\n",
    "bash": 'set -euo pipefail\nfor f in "$@"; do\n  wc -l "$f"\ndone\n',
    "json": '{\n  "name": "example",\n  "retries": 3,\n  "tags": ["a", "b"]\n}\n',
    "yaml": "name: example\nsteps:\n  - run: make test\n  - run: make build\n",
    "sql": "SELECT name, count(*) AS n\nFROM events\nWHERE day >= current_date - 7\n"
    "GROUP BY name ORDER BY n DESC;\n",
    "typescript": "export function total(xs: number[]): number {\n  return xs.reduce((a, b) => "
    "a + b, 0);\n}\n",
}


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    if rng.random() < 0.3:
        words[rng.randrange(n)] = f"`{rng.choice(WORDS)}_{rng.choice(WORDS)}`"
    if rng.random() < 0.2:
        words[rng.randrange(n)] = f"**{rng.choice(WORDS)}**"
    return " ".join(words).capitalize() + "."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng, rng.randint(8, 22)) for _ in range(rng.randint(2, 6)))


def _section(rng: random.Random, level: int, siblings: list[str]) -> str:
    title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 5))).title()
    parts = [f"{'#' * level} {title}", _paragraph(rng)]
    shape = rng.random()
    if shape < 0.3:
        parts.append("\n".join(f"- {_sentence(rng, rng.randint(5, 12))}" for _ in range(5)))
    elif shape < 0.5:
        lang = rng.choice(LANGS)
        parts.append(f"```{lang}\n{CODE[lang]}```")
    elif shape < 0.65:
        rows = [f"| {rng.choice(WORDS)} | {_sentence(rng, 6)} |" for _ in range(6)]
        parts.append("| field | meaning |\n| --- | --- |\n" + "\n".join(rows))
    if siblings and rng.random() < 0.25:
        other = rng.choice(siblings)
        parts.append(f"See [{other}]({other}) for the details.")
    parts.append(_paragraph(rng))
    return "\n\n".join(parts)


def _reference(rng: random.Random, size: int, siblings: list[str]) -> str:
    parts = [f"# {' '.join(rng.choice(WORDS) for _ in range(4)).title()}", _paragraph(rng)]
    length = sum(len(p) for p in parts)
    while length < size:
        section = _section(rng, rng.choice((2, 2, 3)), siblings)
        parts.append(section)
        length += len(section) + 2
    return "\n\n".join(parts) + "\n"


def generate_realistic(root: Path, skills: int = SKILLS, seed: int = 11) -> dict[str, int]:
    """Write the library under `root`; returns its counts (skills, files, bytes)."""
    rng = random.Random(seed)
    files = total = 0
    for i in range(skills):
        name = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-skill-{i}"
        folder = root / "skills" / name
        (folder / "references").mkdir(parents=True, exist_ok=True)
        refs = [f"{rng.choice(WORDS)}-{j}.md" for j in range(rng.randint(4, 9))]
        description = (
            f"Helps with {rng.choice(WORDS)} {rng.choice(WORDS)} work; use when asked to "
            f"{rng.choice(WORDS)} a {rng.choice(WORDS)}."
        )
        links = "\n".join(f"- [{r}](references/{r})" for r in refs)
        body = (
            f"---\nname: {name}\ndescription: {description}\n---\n\n# {name}\n\n"
            f"{_paragraph(rng)}\n\n## References\n\n{links}\n\n{_section(rng, 2, [])}\n"
        )
        written = {"SKILL.md": body}
        for ref in refs:
            # Mostly near 20 KB, a few up to 200 KB (log-skewed), like real references.
            size = int(20_000 * 10 ** (rng.random() ** 6))
            written[f"references/{ref}"] = _reference(rng, size, [r for r in refs if r != ref])
        for j in range(rng.randint(0, 3)):
            lang = rng.choice(("python", "bash"))
            ext = "py" if lang == "python" else "sh"
            written[f"scripts/tool_{j}.{ext}"] = CODE[lang] * rng.randint(20, 120)
        for rel, text in written.items():
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            files += 1
            total += len(text.encode("utf-8"))
    return {"skills": skills, "files": files, "bytes": total}


if __name__ == "__main__":
    import sys

    print(generate_realistic(Path(sys.argv[1])))
