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

Modules: :mod:`.render` (pages and headings), :mod:`.links` (the link gate and where links
lead), :mod:`.inline` (descriptions), :mod:`.highlight` (Pygments). Imports flow
highlight, links -> inline -> render; this module re-exports what the rest of sitegen uses.
"""

from __future__ import annotations

from sitegen.markdown.highlight import (
    MAX_HIGHLIGHT,
    PLAIN_LEXERS,
    highlight_code,
    highlight_file,
    is_source,
    numbered_lines,
    plain_text,
    pygments_css,
)
from sitegen.markdown.inline import InlineText
from sitegen.markdown.links import (
    BASE_DIR,
    IMAGE_SUFFIXES,
    SAFE_SCHEMES,
    LinkContext,
    LinkTargets,
    library_path,
    link_scheme,
    validate_link,
)
from sitegen.markdown.render import (
    RESERVED_ID_PREFIX,
    Heading,
    MarkdownRenderer,
    Rendered,
    slugify,
    unique_slug,
)

__all__ = [
    "BASE_DIR",
    "IMAGE_SUFFIXES",
    "MAX_HIGHLIGHT",
    "PLAIN_LEXERS",
    "RESERVED_ID_PREFIX",
    "SAFE_SCHEMES",
    "Heading",
    "InlineText",
    "LinkContext",
    "LinkTargets",
    "MarkdownRenderer",
    "Rendered",
    "highlight_code",
    "highlight_file",
    "is_source",
    "library_path",
    "link_scheme",
    "numbered_lines",
    "plain_text",
    "pygments_css",
    "slugify",
    "unique_slug",
    "validate_link",
]
