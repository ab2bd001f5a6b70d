"""Short texts (descriptions) render their inline Markdown only: code, emphasis,
strikethrough and http(s) or library links; everything else is text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from html import escape

from markdown_it.token import Token

from sitegen.markdown.links import (
    LinkContext,
    link_scheme,
    resolve,
)

INLINE_TAGS = frozenset({"em", "strong", "s"})
TRUNCATE_LEEWAY = 5  # as Jinja's truncate: a text this much over the limit is left whole
ELLIPSIS = "\u2026"
EXTERNAL_REL = "nofollow noopener noreferrer"


@dataclass(frozen=True)
class InlineNode:
    """One piece of an inline text: "text", "code", "open"/"close" (a tag in `value`), or
    "link" (a site path when `site`, else an http(s) URL; closed by a "close" of "a")."""

    kind: str
    value: str = ""
    site: bool = False


@dataclass(frozen=True)
class InlineText:
    """A description's inline Markdown, ready for any page: site links stay site paths until
    `html` makes them relative to the page, and `html` can shorten it without breaking tags."""

    nodes: tuple[InlineNode, ...]

    @property
    def text(self) -> str:
        """What a reader sees, without markup (for meta tags and lengths)."""
        return "".join(n.value for n in self.nodes if n.kind in {"text", "code"})

    def html(self, href: Callable[[str], str] | None = None, limit: int | None = None) -> str:
        """Escaped HTML; `href` turns a site path into a URL for the page; `limit` shortens
        to about that many visible characters at a word boundary, with an ellipsis."""
        budget = limit if limit is not None and len(self.text) > limit + TRUNCATE_LEEWAY else None
        out: list[str] = []
        open_tags: list[str] = []
        used = 0
        for node in self.nodes:
            if node.kind in {"text", "code"}:
                if budget is not None and used + len(node.value) > budget:
                    if node.kind == "text":
                        head = _cut(node.value, budget - used, whole_words=used > 0)
                        out.append(escape(head, quote=False))
                    out.append(ELLIPSIS)
                    break
                used += len(node.value)
                value = escape(node.value, quote=False)
                out.append(f"<code>{value}</code>" if node.kind == "code" else value)
            elif node.kind == "open":
                open_tags.append(node.value)
                out.append(f"<{node.value}>")
            elif node.kind == "close":
                if open_tags:
                    open_tags.pop()
                out.append(f"</{node.value}>")
            elif node.kind == "link":
                open_tags.append("a")
                url = href(node.value) if node.site and href else node.value
                rel = "" if node.site else f' rel="{EXTERNAL_REL}"'
                out.append(f'<a href="{escape(url)}"{rel}>')
        out.extend(f"</{tag}>" for tag in reversed(open_tags))
        return "".join(out)


def _cut(text: str, room: int, *, whole_words: bool) -> str:
    """The start of `text` in at most `room` characters, ending at a word boundary (a word
    cut in two is dropped, unless it is the first and `whole_words` is false)."""
    if room <= 0:
        return ""
    head = text[:room]
    if len(text) > room and not text[room].isspace():
        if " " in head:
            head = head.rsplit(" ", 1)[0]
        elif whole_words:
            head = ""
    return head.rstrip()


def inline_nodes(children: list[Token], links: LinkContext | None) -> list[InlineNode]:
    """Tokens of an inline parse as nodes; any unsafe or unresolvable link becomes its text."""
    ctx = replace(links, relative=None) if links is not None else None
    nodes: list[InlineNode] = []
    dropped: list[bool] = []  # a stack: is the current link dropped?
    for token in children:
        kind = token.type
        if kind == "text":
            nodes.append(InlineNode("text", token.content))
        elif kind == "code_inline":
            nodes.append(InlineNode("code", token.content))
        elif kind in {"softbreak", "hardbreak"}:
            nodes.append(InlineNode("text", " "))
        elif kind.endswith(("_open", "_close")) and token.tag in INLINE_TAGS:
            nodes.append(InlineNode("open" if token.nesting == 1 else "close", token.tag))
        elif kind == "link_open":
            target = _inline_target(str(token.attrGet("href") or ""), ctx)
            dropped.append(target is None)
            if target is not None:
                nodes.append(InlineNode("link", target[0], target[1]))
        elif kind == "link_close":
            if dropped and not dropped.pop():
                nodes.append(InlineNode("close", "a"))
        elif kind == "image":  # never loaded, never a link: its words
            nodes.append(InlineNode("text", alt_text(token)))
        else:  # anything else is shown as written
            nodes.append(InlineNode("text", token.content))
    return [n for n in nodes if n.kind not in {"text", "code"} or n.value]


def _inline_target(href: str, ctx: LinkContext | None) -> tuple[str, bool] | None:
    """(URL or site path, is a site path), or None to show the link's words only."""
    scheme = link_scheme(href)
    if scheme is not None:
        return (href, False) if scheme in {"http", "https"} else None
    if ctx is None or not href:
        return None
    if href.startswith("#"):
        return ctx.page + href, True
    target = resolve(href, ctx)
    return None if target is None else (target, True)


def alt_text(token: Token) -> str:
    return "".join(c.content for c in token.children or () if c.type in {"text", "code_inline"})
