"""Pygments for code: fenced blocks and source files, with CSS classes (no inline styles);
prose formats and very large texts are shown plain (still escaped)."""

from __future__ import annotations

import functools
import posixpath
import re
from html import escape

from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.lexers.special import TextLexer
from pygments.util import ClassNotFound

MAX_HIGHLIGHT = 200_000
# Prose formats read fine as plain text; their lexers are the slowest in Pygments.
PLAIN_LEXERS = frozenset(
    {"Text only", "Markdown", "reStructuredText"}
)  # characters; bigger blocks are shown plain (still escaped)
_LANG = re.compile(r"^[A-Za-z0-9_+#.-]{1,40}$")
_FORMATTER = HtmlFormatter(nowrap=True)


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
