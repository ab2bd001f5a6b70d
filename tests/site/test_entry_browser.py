"""The entry page and the file viewer in Chromium: the install selector, copy buttons, line
numbers, and descriptions' inline Markdown; on a desktop and a 390x844 phone, light and dark.
"""

from __future__ import annotations

from typing import Any

import pytest

from sitegen import targets
from tests.site.helpers import BuiltSite, browser, serve, watched

pytestmark = browser

VIEWS = {
    "desktop-light": ({"width": 1280, "height": 900}, "light"),
    "desktop-dark": ({"width": 1280, "height": 900}, "dark"),
    "mobile-light": ({"width": 390, "height": 844}, "light"),
    "mobile-dark": ({"width": 390, "height": 844}, "dark"),
}
CLIPBOARD = ["clipboard-read", "clipboard-write"]
SKILL = "skills/terraform-plan-reviewer/index.html"
AGENT_FILE = "roles/flaky-test-hunter/index.html"  # an agent file (agents/flaky-test-hunter.md)
# A small script is a section of its entry page, shown by the same viewer as a file page.
SCRIPT = "skills/terraform-plan-reviewer/index.html#file-scripts/check_plan.py"
SCRIPT_SECTION = '[id="file-scripts/check_plan.py"]'
SCRIPT_CODE = '[id="sg-code-scripts/check_plan.py"]'
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def context_options(name: str) -> dict[str, Any]:
    viewport, scheme = VIEWS[name]
    return {"viewport": viewport, "color_scheme": scheme, "permissions": CLIPBOARD}


@pytest.fixture(params=list(VIEWS))
def view(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Every view: desktop and phone, light and dark."""
    return context_options(request.param)


@pytest.fixture(params=["desktop-light", "mobile-dark"])
def two_views(request: pytest.FixtureRequest) -> dict[str, Any]:
    """A desktop and a phone, for what the colour scheme cannot change."""
    return context_options(request.param)


def visible_command(page: Any) -> str:
    panels = page.locator("[data-sg-install-panel]:visible")
    assert panels.count() == 1, "exactly one install panel shows"
    return str(panels.locator("pre").first.inner_text())


def visible_shell(page: Any) -> str:
    return str(page.locator("[data-sg-install-panel]:visible pre").nth(1).inner_text())


def clipboard(page: Any) -> str:
    return str(page.evaluate("navigator.clipboard.readText()"))


def test_install_selector_switches_agent_and_scope(
    chromium: Any, site: BuiltSite, view: dict[str, Any]
) -> None:
    with serve(site.out) as base, watched(chromium, **view) as w:
        page = w.page
        page.goto(base + SKILL)
        # the default: Claude Code, the user's folder; the catalog URL made absolute
        command = visible_command(page)
        assert command == (
            f"sitegen install terraform-plan-reviewer --from '{base}' --agent claude --scope user"
        )
        assert "-d ~/.claude/skills" in visible_shell(page)
        labels = page.locator(".sg-install-choice fieldset").first.locator("label")
        assert labels.all_inner_texts() == [t.label for t in targets.AGENT_TOOLS.values()]
        # every tool and scope: its folder, from sitegen.targets, in both snippets
        for tool in targets.AGENT_TOOLS.values():
            for scope in targets.SCOPES:
                page.locator(f"label[for=sg-agent-{tool.key}]").click()
                page.locator(f"label[for=sg-scope-{scope}]").click()
                folder = tool.skills.for_scope(scope)
                assert visible_command(page).endswith(f"--agent {tool.key} --scope {scope}")
                assert f"mkdir -p {folder} && unzip -o terraform-plan-reviewer.zip -d {folder}" in (
                    visible_shell(page)
                )
                where = page.locator("[data-sg-install-panel]:visible .sg-install-where")
                assert f"{folder}/terraform-plan-reviewer/" in where.inner_text()
        # the visible panel's copy button copies the visible command
        page.locator("label[for=sg-agent-codex]").click()
        page.locator("label[for=sg-scope-project]").click()
        page.get_by_role("button", name="Copy the sitegen command").click()
        page.get_by_role("button", name="Copy the sitegen command").filter(
            has_text="Copied"
        ).wait_for()
        assert clipboard(page) == visible_command(page)
        assert clipboard(page).endswith("--agent codex --scope project")
        # the choice is remembered from page to page
        page.goto(base + "skills/secret-scanner/index.html")
        assert visible_command(page).endswith("--agent codex --scope project")
        assert page.locator("#sg-agent-codex").is_checked()
        assert page.evaluate(OVERFLOW) <= 0
        assert w.clean(), w.report()


def test_install_selector_by_keyboard(
    chromium: Any, site: BuiltSite, two_views: dict[str, Any]
) -> None:
    with serve(site.out) as base, watched(chromium, **two_views) as w:
        page = w.page
        page.goto(base + SKILL)
        page.get_by_role("link", name="Download terraform-plan-reviewer.zip").focus()
        page.keyboard.press("Tab")  # into the agent group, on its checked radio
        focused = page.evaluate("document.activeElement.id")
        assert focused == "sg-agent-claude"
        ring = page.evaluate(
            "getComputedStyle(document.querySelector('label[for=sg-agent-claude]')).outlineStyle"
        )
        assert ring == "solid", "the focused choice shows a focus ring"
        page.keyboard.press("ArrowRight")
        assert page.evaluate("document.activeElement.id") == "sg-agent-codex"
        assert visible_command(page).endswith("--agent codex --scope user")
        page.keyboard.press("ArrowRight")
        assert visible_command(page).endswith("--agent gemini --scope user")
        page.keyboard.press("Tab")  # to the scope group
        assert page.evaluate("document.activeElement.id") == "sg-scope-user"
        page.keyboard.press("ArrowRight")
        assert visible_command(page).endswith("--agent gemini --scope project")
        assert "-d .gemini/skills" in visible_shell(page)
        page.keyboard.press("Tab")  # on to the visible panel: the tool's docs, its copy button
        assert page.evaluate("document.activeElement.textContent") == "its docs"
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.getAttribute('aria-label')") == (
            "Copy the sitegen command"
        )
        page.keyboard.press("Enter")
        page.get_by_text("Copied to the clipboard.").wait_for()
        assert clipboard(page).endswith("--agent gemini --scope project")
        assert w.clean(), w.report()


def test_agent_files_install_where_tools_read_agents(chromium: Any, site: BuiltSite) -> None:
    with serve(site.out) as base, watched(chromium) as w:
        page = w.page
        page.goto(base + AGENT_FILE)
        labels = page.locator(".sg-install-choice fieldset").first.locator("label")
        able = [t for t in targets.AGENT_TOOLS.values() if t.agents is not None]
        assert labels.all_inner_texts() == [t.label for t in able]  # no Codex, no .agents/
        assert [t.key for t in able] == ["claude", "gemini"]
        assert "-d ~/.claude/agents" in visible_shell(page)
        assert "unzip -o -j flaky-test-hunter.zip" in visible_shell(page)  # the file alone
        page.locator("label[for=sg-agent-gemini]").click()
        page.locator("label[for=sg-scope-project]").click()
        assert visible_command(page).endswith("--agent gemini --scope project")
        assert "-d .gemini/agents" in visible_shell(page)
        where = page.locator("[data-sg-install-panel]:visible .sg-install-where").inner_text()
        assert ".gemini/agents/flaky-test-hunter.md" in where
        assert w.clean(), w.report()


def test_install_box_without_javascript_shows_the_default(chromium: Any, site: BuiltSite) -> None:
    with serve(site.out) as base, watched(chromium, java_script_enabled=False) as w:
        page = w.page
        page.goto(base + SKILL)
        assert page.locator(".sg-install-choice").is_hidden()  # a selector that would not work
        command = visible_command(page)
        assert command.startswith("sitegen install terraform-plan-reviewer --from ")
        assert command.endswith("--agent claude --scope user")
        assert "-d ~/.claude/skills" in visible_shell(page)
        assert page.locator(".sg-install button:visible").count() == 0  # no dead buttons
        # build-time Markdown needs no script either
        assert page.locator(".sg-lead code").inner_text() == "terraform plan"
        assert page.locator("article.sg-prose pre.sg-numbered").count() == 0  # the body's code
        assert page.locator(f"{SCRIPT_CODE} .sg-line").first.is_visible()  # files: numbered
        assert page.locator(f"{SCRIPT_SECTION} button:visible").count() == 0
        assert page.locator(f"{SCRIPT_SECTION} a.sg-file-raw").is_visible()  # no script needed
        assert w.clean(), w.report()


def test_copy_buttons_on_code_blocks(
    chromium: Any, site: BuiltSite, content: BuiltSite, view: dict[str, Any]
) -> None:
    with serve(site.out) as base, watched(chromium, **view) as w:
        page = w.page
        page.goto(base + SKILL)
        blocks = page.locator("article.sg-prose .sg-codeblock")
        assert blocks.count() >= 2
        for index in range(blocks.count()):
            block = blocks.nth(index)
            button = block.get_by_role("button", name="Copy code")
            button.click()
            block.locator("button.sg-copied").wait_for()  # a visible state ...
            assert button.inner_text() == "Copied"
            assert clipboard(page) == block.locator("code").evaluate("c => c.textContent")
            button.filter(has_text="Copy").wait_for()  # ... that goes back
        assert page.evaluate(OVERFLOW) <= 0
        assert w.clean(), w.report()
    with serve(content.out) as base, watched(chromium, **view) as w:
        page = w.page  # a reference page's fenced code
        page.goto(base + "skills/alpha/files/references/guide.md.html")
        page.get_by_role("button", name="Copy code").click()
        assert clipboard(page) == "print('fenced')\n"
        assert page.evaluate(OVERFLOW) <= 0
        assert w.clean(), w.report()


def test_copy_without_the_clipboard_api(chromium: Any, site: BuiltSite) -> None:
    """Old browsers and plain-HTTP pages have no navigator.clipboard: execCommand copies;
    when that fails too, the text is selected for the reader to copy."""
    hide_api = "Object.defineProperty(navigator, 'clipboard', {value: undefined});"
    record = """document.addEventListener('copy', () => {
        const a = document.activeElement;
        window.__copied = a && a.tagName === 'TEXTAREA' ? a.value : String(getSelection());
    });"""
    with serve(site.out) as base, watched(chromium) as w:
        page = w.page
        page.add_init_script(hide_api + record)
        page.goto(base + SKILL)
        assert page.evaluate("navigator.clipboard") is None
        page.get_by_role("button", name="Copy the sitegen command").click()
        page.get_by_text("Copied to the clipboard.").wait_for()
        assert page.evaluate("window.__copied") == visible_command(page)
        page.evaluate("document.execCommand = () => false")  # nothing can copy
        page.get_by_role("button", name="Copy the shell commands").click()
        page.get_by_text("Could not copy: the text is selected").wait_for()
        assert page.evaluate("String(getSelection())") == visible_shell(page)
        assert w.clean(), w.report()


def test_file_viewer(chromium: Any, site: BuiltSite, view: dict[str, Any]) -> None:
    source = site.library / "skills" / "terraform-plan-reviewer" / "scripts" / "check_plan.py"
    text = source.read_text()
    with serve(site.out) as base, watched(chromium, **view) as w:
        page = w.page
        page.goto(base + SCRIPT)
        section = page.locator(SCRIPT_SECTION)
        lines = page.locator(f"{SCRIPT_CODE} .sg-line")
        assert lines.count() == len(text.splitlines())
        number = "e => getComputedStyle(e, '::before').content"
        assert lines.first.evaluate(number) == "counter(sg-line)"
        assert lines.first.evaluate("e => getComputedStyle(e, '::before').userSelect") == "none"
        # the copy button copies the file, without line numbers
        section.get_by_role("button", name="Copy the contents of scripts/check_plan.py").click()
        section.get_by_text("Copied to the clipboard.").wait_for()
        assert clipboard(page) == text
        # so does selecting the code and copying it by hand
        page.evaluate(
            "sel => getSelection().selectAllChildren(document.querySelector(sel + ' code'))",
            SCRIPT_CODE,
        )
        page.keyboard.press("Control+C")
        assert clipboard(page).rstrip("\n") == text.rstrip("\n")
        # no page-wide scrolling: long lines scroll inside the column, or wrap
        assert page.evaluate(OVERFLOW) <= 0
        block = page.locator(f"{SCRIPT_CODE} pre")
        main_right = "document.querySelector('main').getBoundingClientRect().right"
        assert block.evaluate(f"e => e.getBoundingClientRect().right <= {main_right} + 1")
        toggle = section.get_by_role("button", name="Wrap lines")
        assert toggle.get_attribute("aria-pressed") == "false"
        if view["viewport"]["width"] < 500:
            assert block.evaluate("e => e.scrollWidth > e.clientWidth")  # scrolls in its box
        toggle.click()
        assert toggle.get_attribute("aria-pressed") == "true"
        assert block.evaluate("e => e.scrollWidth <= e.clientWidth + 1")  # wrapped
        assert page.evaluate(OVERFLOW) <= 0
        # the raw link serves the file as it is
        raw = section.get_by_role("link", name="Raw", exact=True).get_attribute("href")
        assert raw == "raw/scripts/check_plan.py"
        body = page.evaluate("href => fetch(href).then(r => r.text())", raw)
        assert body == text
        section.get_by_role("link", name="Raw", exact=True).click()
        page.wait_for_url("**/raw/scripts/check_plan.py")
        assert w.clean(), w.report()


def test_plain_text_files_wrap_with_numbers(
    chromium: Any, content: BuiltSite, two_views: dict[str, Any]
) -> None:
    huge_text = (content.library / "skills" / "alpha" / "data" / "huge.md").read_text()
    with serve(content.out) as base, watched(chromium, **two_views) as w:
        page = w.page
        page.goto(base + "skills/alpha/index.html#file-data/notes.txt")  # a section
        section = page.locator('[id="file-data/notes.txt"]')
        assert section.locator('[id="sg-code-data/notes.txt"] .sg-line').count() == 2
        assert section.get_by_role("button", name="Wrap lines").get_attribute("aria-pressed") == (
            "true"
        )
        assert page.evaluate(OVERFLOW) <= 0
        page.goto(base + "skills/alpha/files/data/huge.md.html")  # 8,000 lines, plain: a page
        assert page.locator("#sg-file-code .sg-line").count() == 8002
        last = page.locator("#sg-file-code .sg-line").last
        assert last.evaluate("e => getComputedStyle(e, '::before').content") == "counter(sg-line)"
        assert page.evaluate(OVERFLOW) <= 0
        # a file page has the same tools: copy (without numbers), wrap, raw
        toggle = page.get_by_role("button", name="Wrap lines")
        assert toggle.get_attribute("aria-pressed") == "true"
        page.get_by_role("button", name="Copy the contents of data/huge.md").click()
        page.get_by_text("Copied to the clipboard.").wait_for()
        assert clipboard(page) == huge_text
        raw = page.get_by_role("link", name="Raw", exact=True).get_attribute("href")
        assert raw == "../../raw/data/huge.md"
        assert page.evaluate("href => fetch(href).then(r => r.text())", raw) == huge_text
        assert w.clean(), w.report()


def test_descriptions_show_inline_markdown(
    chromium: Any, site: BuiltSite, view: dict[str, Any]
) -> None:
    with serve(site.out) as base, watched(chromium, **view) as w:
        page = w.page
        for path, where in (
            ("index.html", ".sg-recent li"),
            ("skills/index.html", ".sg-list li"),
        ):
            page.goto(base + path)
            item = page.locator(where).filter(has_text="terraform-plan-reviewer").first
            code = item.locator("p code")
            assert code.inner_text() == "terraform plan", path
            assert code.is_visible()
            assert "`" not in item.locator("p").first.inner_text(), path
            assert page.evaluate(OVERFLOW) <= 0
        # the list filter still matches words inside the rendered Markdown
        page.get_by_label("Filter by name or description").fill("terraform plan output")
        assert page.locator("[data-sg-item]:visible").count() == 1
        assert w.clean(), w.report()
