"""The search page in Chromium: one fused list, typo tolerance, keyboard, and semantic search
on a static host (the site served by plain http.server, no `sitegen serve`).

The site is built once with `--semantic browser` (the catalog's own model in onnxruntime-web).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from sitegen.library import Library
from tests.conftest import EXAMPLE_LIBRARY
from tests.site.helpers import BuiltSite, browser, build, serve, watched

pytestmark = browser

# Typo'd names and words (the queries issue 15 adds to queries.yaml), so the comparison below
# holds whether or not that file has them yet.
TYPOS = [
    {"query": "secret-scaner", "expect": "secret-scanner"},
    {"query": "terafrom-plan-reviewer", "expect": "terraform-plan-reviewer"},
    {"query": "dockerfile-hardner", "expect": "dockerfile-hardener"},
    {"query": "incident comander", "expect": "incident-commander"},
    {"query": "relase notes genrator", "expect": "release-notes-generator"},
    {"query": "data privacy oficer", "expect": "data-privacy-officer"},
]
PARAPHRASE = "blind visitors struggle with our checkout"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "mobile": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def semantic_site(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> BuiltSite:
    root = tmp_path_factory.mktemp("semantic-site")
    library = root / "library"
    shutil.copytree(EXAMPLE_LIBRARY, library, ignore=shutil.ignore_patterns("index"))
    out = root / "site"
    return BuiltSite(library, out, build(library, out, embedder, semantic="browser"))


def settle(page: Any) -> None:
    """Wait until the page has finished the search it started (keyword and meaning)."""
    page.locator('#sg-results[data-state="done"]').wait_for(state="attached", timeout=120_000)


def ask(page: Any, query: str) -> list[str]:
    page.locator("#sg-q").fill(query)
    settle(page)
    return page.locator("#sg-results > li").evaluate_all("els => els.map(e => e.dataset.name)")


def expected(item: dict[str, Any]) -> set[str]:
    value = item["expect"]
    return set(value) if isinstance(value, list) else {value}


def test_paraphrase_finds_its_target_first_on_a_static_host(
    chromium: Any, semantic_site: BuiltSite
) -> None:
    target = next(
        e
        for e in Library(semantic_site.library).read().entries
        if e.name == "accessibility-auditor"
    )
    entry_words = set(
        re.findall(
            r"[a-z0-9]+",
            " ".join([target.name.replace("-", " "), target.description, *target.tags]).lower(),
        )
    )
    assert set(PARAPHRASE.split()) & entry_words <= {"with", "our"}  # no content word shared
    with serve(semantic_site.out) as base, watched(chromium) as w:
        page = w.page
        page.goto(base + "search/index.html")
        page.locator("#sg-q").press_sequentially(PARAPHRASE, delay=10)
        settle(page)
        names = page.locator("#sg-results > li").evaluate_all("els => els.map(e => e.dataset.name)")
        assert names[0] == "accessibility-auditor", names
        assert page.locator("#sg-results li").first.locator(".sg-cue").inner_text() == "best match"
        assert "cosine" not in page.locator("#sg-results").inner_text()
        assert page.locator(".sg-badge-semantic").count() == 0
        assert len(names) == len(set(names))  # one list, no entry twice
        assert "No results" not in page.locator("#sg-search-status").inner_text()
        assert "Search by meaning is on" in page.locator("#sg-meaning-status").inner_text()
        fetched = [u for u in w.requests if "/semantic/" in u]
        assert any(u.endswith(".onnx") for u in fetched) and any(".wasm" in u for u in fetched)
        assert not [u for u in w.requests if not u.startswith(base)]
        assert w.clean(), w.report()


def test_nothing_semantic_is_fetched_until_asked(chromium: Any, semantic_site: BuiltSite) -> None:
    with serve(semantic_site.out) as base, watched(chromium) as w:
        page = w.page
        page.goto(base + "search/index.html")
        page.wait_for_load_state("networkidle")
        page.goto(base + "search/index.html?q=review")  # plenty of keyword results
        settle(page)
        page.wait_for_load_state("networkidle")
        assert page.locator("#sg-results li").count() >= 3
        assert [u for u in w.requests if "/semantic/" in u or "semantic.js" in u] == []
        button = page.get_by_role("button", name="Search by meaning")
        assert button.is_visible() and button.get_attribute("aria-pressed") == "false"
        button.click()
        page.locator("#sg-meaning[aria-pressed='true']").wait_for(timeout=120_000)
        assert any(u.endswith(".onnx") for u in w.requests)
        assert w.clean(), w.report()


def test_fused_list_beats_either_list_alone(chromium: Any, semantic_site: BuiltSite) -> None:
    """recall@1 over queries.yaml and typo'd names: fused >= keyword and >= meaning alone, and
    strictly better than both on the typos (where near-exact names add what neither has)."""
    queries = yaml.safe_load((EXAMPLE_LIBRARY / "queries.yaml").read_text())
    known = {q["query"] for q in queries}
    queries += [t for t in TYPOS if t["query"] not in known]
    typos = {t["query"] for t in TYPOS}
    with serve(semantic_site.out) as base, watched(chromium, bypass_csp=True) as w:
        page = w.page
        page.goto(base + "search/index.html")
        # Each list alone, from the same Pagefind index and the same in-browser model.
        alone = page.evaluate(
            """async (queries) => {
              const pf = await import('../pagefind/pagefind.js');
              await pf.options({baseUrl: '/', noWorker: true}); await pf.init();
              const sem = await import('../static/semantic.js');
              const manifest = new URL('../semantic/manifest.json', location.href).href;
              const engine = await sem.load(manifest);
              const out = [];
              for (const q of queries) {
                const kind = q.type || 'all';
                const s = await pf.search(q.query, kind === 'all' ? {} : {filters: {kind}});
                const first = s.results.length ? (await s.results[0].data()).url : '';
                const m = await engine.search(q.query, kind, 1);
                out.push([first.split('/').filter(Boolean)[1] || '', m.length ? m[0].name : '']);
              }
              return out;
            }""",
            queries,
        )
        fused = []
        for q in queries:
            page.get_by_label(
                {"roles": "Roles", "skills": "Skills"}.get(q.get("type", ""), "All"), exact=True
            ).check()
            names = ask(page, q["query"])
            fused.append(names[0] if names else "")
    scores: dict[str, dict[str, int]] = {"all": {}, "typos": {}}
    for q, (keyword, meaning), fused_first in zip(queries, alone, fused, strict=True):
        for part in ("all", "typos") if q["query"] in typos else ("all",):
            firsts = (("keyword", keyword), ("meaning", meaning), ("fused", fused_first))
            for source, name in firsts:
                scores[part][source] = scores[part].get(source, 0) + (name in expected(q))
    overall, typo = scores["all"], scores["typos"]
    assert overall["fused"] >= max(overall["keyword"], overall["meaning"]), scores
    assert typo["fused"] > max(typo["keyword"], typo["meaning"]), scores
    assert typo["fused"] == len(TYPOS), scores


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", ["desktop", "mobile"])
def test_merged_list_and_keyboard(
    chromium: Any, semantic_site: BuiltSite, viewport: str, scheme: str, tmp_path: Path
) -> None:
    with (
        serve(semantic_site.out) as base,
        watched(chromium, viewport=VIEWPORTS[viewport], color_scheme=scheme) as w,
    ):
        page = w.page
        page.goto(base + "skills/index.html")
        page.goto(base + "search/index.html")
        page.locator("body").click(position={"x": 5, "y": 5})
        page.keyboard.press("/")  # "/" focuses the search box
        assert page.evaluate("document.activeElement.id") == "sg-q"
        # a keyword query: the named entry first, marked as the best match
        names = ask(page, "terraform plan")
        assert names[0] == "terraform-plan-reviewer" and len(names) == len(set(names))
        # a typo: "did you mean" names the entry, which comes first
        names = ask(page, "terafrom")
        assert names[0] == "terraform-plan-reviewer", names
        offered = page.locator("#sg-did-you-mean").inner_text()
        assert "Did you mean terraform-plan-reviewer?" in offered
        # a paraphrase
        names = ask(page, "can people who rely on a screen reader get through our checkout")
        assert names[0] == "accessibility-auditor", names
        assert page.locator("#sg-results .sg-cue").first.inner_text() == "best match"
        # Markdown in descriptions renders inline (code), as text, never as markup
        ask(page, "terraform plan")
        code = page.locator("#sg-results li").first.locator(".sg-result-desc code")
        assert code.count() >= 1 and "`" not in page.locator("#sg-results li").first.inner_text()
        # arrows move through results, Escape returns, Enter opens
        page.locator("#sg-q").focus()
        page.keyboard.press("ArrowDown")
        focused = "document.activeElement.textContent"
        assert page.evaluate(focused) == "terraform-plan-reviewer"
        page.keyboard.press("ArrowDown")
        second = page.evaluate("document.activeElement.textContent")
        assert second != "terraform-plan-reviewer"
        page.keyboard.press("ArrowUp")
        page.keyboard.press("ArrowUp")
        assert page.evaluate("document.activeElement.id") == "sg-q"
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        page.wait_for_url("**/skills/terraform-plan-reviewer/index.html")
        page.go_back()
        settle(page)
        # "No results" only when there are none
        names = ask(page, "zzqxv")
        assert names == [] and "No results" in page.locator("#sg-search-status").inner_text()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= VIEWPORTS[viewport]["width"], width
        page.screenshot(path=str(tmp_path / f"search-{viewport}-{scheme}.png"), full_page=True)
        assert w.clean(), w.report()


def test_semantic_search_degrades_to_keywords_on_a_small_device(
    chromium: Any, semantic_site: BuiltSite
) -> None:
    with serve(semantic_site.out) as base, watched(chromium) as w:
        page = w.page
        # Pagefind itself needs WebAssembly; a device that reports too little memory (or an
        # engine without WebAssembly) keeps keyword results and says why there is no more.
        page.add_init_script(
            "Object.defineProperty(Navigator.prototype, 'deviceMemory', {get: () => 0.25})"
        )
        page.goto(base + "search/index.html")
        names = ask(page, "terraform plan")
        assert names[0] == "terraform-plan-reviewer"
        assert "not available here" in page.locator("#sg-meaning-status").inner_text()
        assert not [u for u in w.requests if u.endswith((".onnx", ".wasm"))]
        assert w.clean(), w.report()
