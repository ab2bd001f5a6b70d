"""Markdown pages for untrusted library content: markdown-it-py with raw HTML off, GitHub-style
heading ids outside the theme's ``sg-`` namespace, links rewritten by :mod:`.links`, fences
highlighted by :mod:`.highlight`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.tasklists import tasklists_plugin

from sitegen.markdown.highlight import highlight_code
from sitegen.markdown.inline import InlineText, alt_text, inline_nodes
from sitegen.markdown.links import (
    LinkContext,
    link_scheme,
    resolve,
    target_path,
    validate_link,
)

RESERVED_ID_PREFIX = "sg-"  # ids the theme uses; content ids never start with it


class Heading(NamedTuple):
    level: int  # as written in the Markdown (1-6)
    id: str
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.level, "id": self.id, "text": self.text}


@dataclass(frozen=True)
class Rendered:
    html: str
    headings: tuple[Heading, ...]


class MarkdownRenderer:
    """One configured markdown-it instance; `render` is safe for untrusted text."""

    def __init__(self) -> None:
        md = _markdown_it({"highlight": self._fence})
        md.use(tasklists_plugin)
        md.validateLink = validate_link  # type: ignore[method-assign]
        md.core.ruler.push("sitegen_headings", _headings_rule)
        md.core.ruler.push("sitegen_links", _links_rule)
        self.md = md
        # For `headings`: the block structure alone, then each heading's own inline text.
        self._blocks = _markdown_it({})
        self._blocks.disable(["inline", "text_join"])
        self._inline = _markdown_it({})
        # For `inline`: short texts, inline rules only, the same link gate as pages.
        self._short = _markdown_it({})
        self._short.validateLink = validate_link  # type: ignore[method-assign]

    @staticmethod
    def _fence(code: str, lang: str, attrs: str) -> str:
        return highlight_code(code, lang)

    def headings(self, text: str) -> tuple[Heading, ...]:
        """The headings `render` would find, at about half the cost of a full parse.

        Only the blocks are parsed; the inline text of headings alone is parsed after, with
        the document's link references, so every id is the one the rendered page has.
        """
        env: dict[str, Any] = {}
        tokens = self._blocks.parse(text, env)
        references = env.get("references", {})

        def text_of(inline: Token) -> str:
            parsed = self._inline.parseInline(inline.content, {"references": references})
            return _inline_text(parsed[0]) if parsed else ""

        return tuple(_collect_headings(tokens, text_of))

    def inline(self, text: str, links: LinkContext | None = None) -> InlineText:
        """A short text's inline Markdown (a description), parsed once for every page that
        shows it. Links to the library resolve with `links` (from the entry's definition);
        without it, only http(s) links stay links."""
        tokens = self._short.parseInline(text, {})
        children = tokens[0].children if tokens and tokens[0].children else []
        return InlineText(tuple(inline_nodes(children, links)))

    def render(self, text: str, links: LinkContext | None = None) -> Rendered:
        env: dict[str, Any] = {"sitegen_links": links}
        tokens = self.md.parse(text, env)
        html = self.md.renderer.render(tokens, self.md.options, env)
        return Rendered(html, tuple(env.get("sitegen_headings", ())))


def _markdown_it(options: dict[str, Any]) -> MarkdownIt:
    """CommonMark with tables and strikethrough; raw HTML is text."""
    md = MarkdownIt(
        "commonmark", {"html": False, "linkify": False, "typographer": False, **options}
    )
    md.enable(["table", "strikethrough"])
    return md


# -- core rules ------------------------------------------------------------------------


_SLUG_DROP = re.compile(r"[^\w\- ]")


def slugify(title: str) -> str:
    """GitHub-style heading ids: lowercase, spaces to hyphens, punctuation dropped."""
    return _SLUG_DROP.sub("", title.lower().replace(" ", "-"))


def unique_slug(slug: str, taken: set[str]) -> str:
    candidate, number = slug, 1
    while candidate in taken:
        candidate = f"{slug}-{number}"
        number += 1
    return candidate


def _inline_text(token: Token) -> str:
    return "".join(
        child.content
        for child in token.children or ()
        if child.type in {"text", "code_inline", "softbreak"}
    ).strip()


def _collect_headings(tokens: list[Token], text_of: Callable[[Token], str]) -> list[Heading]:
    """Every heading with a unique GitHub-style id; sets the id on its token."""
    slugs: set[str] = set()
    found: list[Heading] = []
    for index, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        text = text_of(tokens[index + 1])
        base = slugify(text) or "section"
        if base.startswith(RESERVED_ID_PREFIX):
            base = "h-" + base
        slug = unique_slug(base, slugs)
        slugs.add(slug)
        token.attrSet("id", slug)
        found.append(Heading(int(token.tag[1]), slug, text))
    return found


def _headings_rule(state: StateCore) -> None:
    tokens = state.tokens
    found = _collect_headings(tokens, _inline_text)
    for index, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        # Demote one level: the page's own <h1> is the entry name.
        demoted = f"h{min(int(token.tag[1]) + 1, 6)}"
        token.tag = demoted
        if index + 2 < len(tokens) and tokens[index + 2].type == "heading_close":
            tokens[index + 2].tag = demoted
    state.env["sitegen_headings"] = found


def _links_rule(state: StateCore) -> None:
    ctx: LinkContext | None = state.env.get("sitegen_links")
    for token in state.tokens:
        if token.type != "inline" or not token.children:
            continue
        token.children = _rewrite_children(token.children, ctx)


def _rewrite_children(children: list[Token], ctx: LinkContext | None) -> list[Token]:
    out: list[Token] = []
    dropping: list[bool] = []  # a stack: is the current link dropped?
    for child in children:
        if child.type == "link_open":
            href = str(child.attrGet("href") or "")
            target = resolve(href, ctx)
            if target is None:
                dropping.append(True)
                continue
            dropping.append(False)
            child.attrSet("href", target)
            if link_scheme(target) in {"http", "https"}:
                child.attrSet("rel", "nofollow noopener noreferrer")
            out.append(child)
        elif child.type == "link_close":
            if dropping and dropping.pop():
                continue
            out.append(child)
        elif child.type == "image":
            out.extend(_rewrite_image(child, ctx))
        else:
            out.append(child)
    return out


def _rewrite_image(token: Token, ctx: LinkContext | None) -> list[Token]:
    src = str(token.attrGet("src") or "")
    alt = alt_text(token) or src
    scheme = link_scheme(src)
    if scheme is None and ctx is not None:
        path = target_path(src, ctx)
        if path is not None and path in ctx.targets.images:
            token.attrSet("src", ctx.link(ctx.targets.images[path]))
            token.attrSet("loading", "lazy")
            return [token]
    text = Token("text", "", 0, content=alt)
    if scheme in {"http", "https"}:
        # Never load third-party images: link to them instead.
        link_open = Token("link_open", "a", 1, attrs={"href": src})
        link_open.attrSet("rel", "nofollow noopener noreferrer")
        link_open.attrSet("class", "external-image")
        return [
            link_open,
            Token("text", "", 0, content=f"image: {alt}"),
            Token("link_close", "a", -1),
        ]
    target = resolve(src, ctx) if scheme is None else None
    if target is not None:
        return [
            Token("link_open", "a", 1, attrs={"href": target}),
            text,
            Token("link_close", "a", -1),
        ]
    return [text]
