"""Markdown to safe HTML for untrusted library content (markdown-it-py + Pygments).

- raw HTML in Markdown is never passed through (``html: False``): it shows as text;
- only ``http``, ``https`` and ``mailto`` links, relative links and fragments survive; any other
  scheme (``javascript:``, ``data:``, ``vbscript:``, ``file:``...) leaves the text unlinked;
- relative links are resolved against the library, from the folder of the file they are
  written in (``{baseDir}/`` from the entry's folder), and rewritten to the site's pages:
  the entry's own files, other entries' files, entry folders; links that leave the library
  (or point nowhere) become plain text; external images become links, so a page never
  loads a third-party resource;
- headings get GitHub-style ids (never in the ``sg-`` namespace the theme uses) and are
  demoted one level under the page's own ``<h1>``;
- fenced code is highlighted by Pygments with CSS classes (no inline styles);
- short texts (descriptions) render their inline Markdown only (:class:`InlineText`): code,
  emphasis, strikethrough and http(s) or library links; everything else is text.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from html import escape
from typing import Any, NamedTuple
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.tasklists import tasklists_plugin
from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.lexers.special import TextLexer
from pygments.util import ClassNotFound

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
RESERVED_ID_PREFIX = "sg-"  # ids the theme uses; content ids never start with it
MAX_HIGHLIGHT = 200_000
# Prose formats read fine as plain text; their lexers are the slowest in Pygments.
PLAIN_LEXERS = frozenset(
    {"Text only", "Markdown", "reStructuredText"}
)  # characters; bigger blocks are shown plain (still escaped)
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif"})
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")
_LANG = re.compile(r"^[A-Za-z0-9_+#.-]{1,40}$")
_FORMATTER = HtmlFormatter(nowrap=True)


def link_scheme(url: str) -> str | None:
    """The scheme of a URL as a browser would see it (control characters ignored)."""
    cleaned = _CONTROL.sub("", url)
    match = _SCHEME.match(cleaned)
    return match.group(1).lower() if match else None


def validate_link(url: str) -> bool:
    """markdown-it's link gate: safe schemes and scheme-less (relative) URLs only."""
    scheme = link_scheme(url)
    return scheme is None or scheme in SAFE_SCHEMES


@functools.lru_cache(maxsize=256)
def _lexer_by_name(name: str) -> Lexer | None:
    try:
        return get_lexer_by_name(name.lower())
    except ClassNotFound:
        return None


@functools.lru_cache(maxsize=512)
def _lexer_for(key: str) -> Lexer:
    # A file keeps its own lines: no blank line stripped, no final newline added, so the
    # viewer's line numbers are the file's and its copy button copies the file.
    try:
        return get_lexer_for_filename(key, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return TextLexer(stripnl=False, ensurenl=False)


def _lexer_by_filename(filename: str) -> Lexer:
    """Lexers by suffix (cached: finding a lexer for a file name scans every lexer)."""
    base = posixpath.basename(filename)
    suffix = posixpath.splitext(base)[1].lower()
    return _lexer_for(f"file{suffix}" if suffix else base)


def highlight_code(code: str, lang: str | None) -> str:
    """A highlighted <pre> block; unknown languages and huge blocks are plain but escaped."""
    lang = (lang or "").strip()
    safe_lang = lang if _LANG.match(lang) else ""
    lexer = _lexer_by_name(safe_lang) if safe_lang else None
    if lexer is None or len(code) > MAX_HIGHLIGHT:
        inner = escape(code, quote=False)
    else:
        inner = pygments_highlight(code, lexer, _FORMATTER)
    css_lang = f' class="language-{escape(safe_lang)}"' if safe_lang else ""
    return f'<pre class="highlight"><code{css_lang}>{inner}</code></pre>'


def highlight_file(text: str, filename: str) -> str:
    """A file's text, highlighted by its file name (suffix), for the file viewer."""
    lexer = _lexer_by_filename(filename)
    if len(text) > MAX_HIGHLIGHT or lexer.name in PLAIN_LEXERS:
        inner = escape(text, quote=False)
    else:
        inner = pygments_highlight(text, lexer, _FORMATTER)
    return f'<pre class="highlight"><code>{inner}</code></pre>'


def is_source(filename: str) -> bool:
    """Whether a file is code that Pygments highlights (not prose, not plain text)."""
    return _lexer_by_filename(filename).name not in PLAIN_LEXERS


def plain_text(text: str) -> str:
    """Text shown as it is, escaped, in a block that wraps long lines."""
    return f'<pre class="sg-plain"><code>{escape(text, quote=False)}</code></pre>'


_PRE = re.compile(r"\A(<pre)( class=\"[^\"]*\")?(><code[^>]*>)(.*)(</code></pre>)\Z", re.DOTALL)
_LINE_PARTS = re.compile(r"(<span[^>]*>|</span>|\n)")


def numbered_lines(block: str) -> str:
    """A `<pre><code>` block with each line in a `<span class="sg-line">` of its own, for
    line numbers drawn by CSS (so they are never selected or copied with the code).

    Spans that cross a line end (Pygments never makes them; a safeguard) are closed at the
    end of the line and opened again on the next. Anything else is returned unchanged.
    """
    match = _PRE.match(block)
    if match is None:
        return block
    pre, classes, code, inner, end = match.groups()
    names = (classes or ' class=""')[8:-1].split()
    out = ['<span class="sg-line">']
    open_spans: list[str] = []
    parts = [p for p in _LINE_PARTS.split(inner) if p]
    for index, part in enumerate(parts):
        if part == "\n":
            out.append("</span>" * len(open_spans) + "\n</span>")
            if index + 1 < len(parts):
                out.append('<span class="sg-line">' + "".join(open_spans))
        elif part == "</span>":
            if open_spans:
                open_spans.pop()
            out.append(part)
        else:
            if part.startswith("<span"):
                open_spans.append(part)
            out.append(part)
    if parts and parts[-1] != "\n":
        out.append("</span>" * len(open_spans) + "</span>")
    elif not parts:
        out.append("</span>")
    digits = min(len(str(max(1, "".join(out).count('<span class="sg-line">')))), 6)
    css = " ".join([*names, "sg-numbered", *([f"sg-digits-{digits}"] if digits > 3 else [])])
    return f'{pre} class="{css}"{code}{"".join(out)}{end}'


def pygments_css() -> str:
    """Light and dark token colours, switched by prefers-color-scheme."""
    light = HtmlFormatter(style="default").get_style_defs(".highlight")
    dark = HtmlFormatter(style="github-dark").get_style_defs(".highlight")
    # The theme owns the block background; keep only token colours.
    light = _drop_backgrounds(light)
    dark = _drop_backgrounds(dark)
    indented = "\n".join("  " + line for line in dark.splitlines())
    return f"{light}\n@media (prefers-color-scheme: dark) {{\n{indented}\n}}\n"


def _drop_backgrounds(css: str) -> str:
    lines = []
    for line in css.splitlines():
        if line.startswith(("pre {", "td.linenos", "span.linenos", ".highlight .hll")):
            continue
        if line.startswith(".highlight {"):
            continue
        lines.append(line)
    return "\n".join(lines)


class Heading(NamedTuple):
    level: int  # as written in the Markdown (1-6)
    id: str
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.level, "id": self.id, "text": self.text}


BASE_DIR = "{baseDir}"  # a placeholder agents' runtimes resolve to the skill's folder


@dataclass(frozen=True)
class LinkTargets:
    """Where library paths lead on the site, for every entry of a build.

    Keys are library-relative POSIX paths (``skills/a/references/x.md``); values are site
    paths: a file's page (or raw copy), an image's raw copy, a folder's entry page.
    """

    files: Mapping[str, str] = field(default_factory=dict)
    images: Mapping[str, str] = field(default_factory=dict)
    folders: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LinkContext:
    """How the links of one Markdown file resolve: relative to the file's own folder
    (`base`), or to its entry's folder (`root`) after ``{baseDir}/``. Resulting site paths
    are made relative to `page` by `relative`.
    """

    page: str
    base: str = ""
    root: str = ""
    targets: LinkTargets = field(default_factory=LinkTargets)
    relative: Callable[[str, str], str] | None = None

    def link(self, target: str) -> str:
        return self.relative(self.page, target) if self.relative else target


def library_path(href_path: str, base: str, root: str) -> str | None:
    """The library path a relative link names, or None when it leaves the library.

    `href_path` is the link's path, unquoted; `base` the folder of the file it is written
    in; `root` its entry's folder, which ``{baseDir}/`` stands for.
    """
    if href_path.startswith(BASE_DIR):
        joined = posixpath.join(root, href_path[len(BASE_DIR) :].lstrip("/"))
    else:
        joined = posixpath.join(base, href_path)
    normal = posixpath.normpath(joined)
    if normal == "..":
        return None
    if normal.startswith("../"):
        return None
    return "" if normal == "." else normal


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
        return InlineText(tuple(_inline_nodes(children, links)))

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
            target = _resolve(href, ctx)
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
    alt = _alt_text(token) or src
    scheme = link_scheme(src)
    if scheme is None and ctx is not None:
        path = _target_path(src, ctx)
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
    target = _resolve(src, ctx) if scheme is None else None
    if target is not None:
        return [
            Token("link_open", "a", 1, attrs={"href": target}),
            text,
            Token("link_close", "a", -1),
        ]
    return [text]


def _alt_text(token: Token) -> str:
    return "".join(c.content for c in token.children or () if c.type in {"text", "code_inline"})


def _target_path(href: str, ctx: LinkContext) -> str | None:
    """The library path a relative href names, or None (absolute, empty, or outside)."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or href.startswith(("/", "\\")):
        return None  # protocol-relative or root-absolute: breaks under a sub-path
    path = unquote(parts.path)
    if not path:
        return None
    return library_path(path, ctx.base, ctx.root)


def _resolve(href: str, ctx: LinkContext | None) -> str | None:
    """Where a Markdown link should point on the site, or None to drop the link."""
    if not href:
        return None
    scheme = link_scheme(href)
    if scheme is not None:
        return href if scheme in SAFE_SCHEMES else None
    if href.startswith("#"):
        return href
    if ctx is None:
        return None
    path = _target_path(href, ctx)
    if path is None:
        return None
    fragment = urlsplit(href).fragment
    if path in ctx.targets.files:
        target = ctx.targets.files[path]  # a file shown as a section of a page has its own id
        return ctx.link(target) + (f"#{fragment}" if fragment and "#" not in target else "")
    folder = ctx.targets.folders.get(path.rstrip("/"))
    return None if folder is None else ctx.link(folder)


# -- inline Markdown of short texts ------------------------------------------------------

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


def _inline_nodes(children: list[Token], links: LinkContext | None) -> list[InlineNode]:
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
            nodes.append(InlineNode("text", _alt_text(token)))
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
    target = _resolve(href, ctx)
    return None if target is None else (target, True)
