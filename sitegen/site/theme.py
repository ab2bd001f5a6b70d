"""The theme: Jinja environment, template checks, static assets, the theme's own links.

Library content is untrusted: every template value is escaped (autoescape on for .html and
.xml), and templates must name every variable they use (StrictUndefined). A template that
fails, default or custom, is reported in one line naming the template and line.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import markdown_it
import markupsafe
import pygments

from sitegen import __version__, targets
from sitegen.markdown import InlineText, MarkdownRenderer, numbered_lines
from sitegen.site.fragments import CachedMarkdown, FragmentCache, default_folder
from sitegen.site.inputs import SiteError, SiteOptions
from sitegen.urls import SiteUrls, relative, root_prefix, twin

RENDERER_VERSION = "2"  # bump when the site's output changes for the same input
TEMPLATES = (
    "base.html",
    "macros.html",
    "home.html",
    "list.html",
    "entry.html",
    "file.html",
    "tags.html",
    "maintainers.html",
    "search.html",
    "404.html",
    "sitemap.xml",
    "robots.txt",
)
# The main menu: (key of the theme's links, label).
MENU: tuple[tuple[str, str], ...] = (
    ("skills", "Skills"),
    ("roles", "Roles"),
    ("all", "All"),
    ("tags", "Tags"),
    ("search", "Search"),
)


@dataclass(frozen=True)
class MenuItem:
    label: str
    href: str
    current: str  # the aria-current value: "page", "true" (a section), or "" (not current)


def default_templates_dir() -> Path:
    """The default theme: packaged inside the wheel, or the repository's templates/."""
    package = Path(__file__).resolve().parent.parent
    packaged = package / "templates"
    if packaged.is_dir():
        return packaged
    return package.parent / "templates"


def template_error(exc: BaseException) -> SiteError:
    """One line naming the template (and line) that failed."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        where = exc.filename or exc.name or "template"
        return SiteError(f"{where}:{exc.lineno}: template syntax error: {exc.message}")
    location = ""
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith((".html", ".xml", ".txt")):
            location = f"{filename}:{tb.tb_lineno}: "
        tb = tb.tb_next
    text = str(exc).strip()
    message = text.splitlines()[0] if text else type(exc).__name__
    return SiteError(f"{location}template error: {message}")


@jinja2.pass_context
def _url(context: jinja2.runtime.Context, path: str) -> str:
    """Template global: a URL for a site path, relative to the page being rendered."""
    if context.get("absolute_links") and context.get("base_url"):
        return str(context["base_url"]) + path
    return relative(str(context["page"]), path)


def filesize(value: int) -> str:
    """Template filter: a byte count as people read it (1.2 KB)."""
    if value < 1000:
        return f"{value} bytes"
    size = float(value)
    unit = "KB"
    for unit in ("KB", "MB", "GB"):
        size /= 1000
        if size < 1000 or unit == "GB":
            break
    return f"{size:.1f} {unit}"


def _numbered(block: str) -> markupsafe.Markup:
    """Template filter: a rendered code block with a span per line (CSS numbers them)."""
    return markupsafe.Markup(numbered_lines(str(block)))


def install_targets() -> dict[str, Any]:
    """The entry page's install selector: sitegen.targets, the table `sitegen install` uses.
    Part of the theme's fingerprint, so a change to the table renders every entry page."""
    return {
        "tools": targets.as_json(),
        "default_agent": targets.DEFAULT_AGENT,
        "default_scope": targets.DEFAULT_SCOPE,
        "scopes": list(targets.SCOPES),
    }


# (kind, name) -> the entry's description, parsed; None for an entry not in the build.
Describe = Callable[[str, str], "InlineText | None"]


class Theme:
    """Templates, assets and links, configured once per build. Template errors raise SiteError.

    `describe` is how templates find an entry's description with its links resolved in the
    library; the site model sets it (until then, descriptions are parsed without links).
    """

    def __init__(self, options: SiteOptions) -> None:
        self.options = options
        self.describe: Describe = lambda kind, name: None
        self.urls = SiteUrls(options.base_url)
        self.default_dir = default_templates_dir()
        if not (self.default_dir / "base.html").is_file():
            raise SiteError(f"{self.default_dir}: the default templates are missing")
        self.search_dirs = [self.default_dir]
        if options.templates is not None:
            custom = Path(options.templates)
            if not custom.is_dir():
                raise SiteError(f"{custom}: templates folder not found")
            self.search_dirs.insert(0, custom)
        self.env = self._environment()
        # Rendered Markdown and highlighted code come from the fragment cache when they can.
        self.fragments = FragmentCache(default_folder())
        self.markdown: MarkdownRenderer = CachedMarkdown(self.fragments)
        self.assets = self._find_assets()
        self.fingerprint = self._fingerprint()
        self.nav = self._nav()

    def _environment(self) -> jinja2.Environment:
        env = jinja2.Environment(
            loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(d)) for d in self.search_dirs]),
            autoescape=jinja2.select_autoescape(
                enabled_extensions=("html", "xml"), default_for_string=True, default=False
            ),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,
        )
        env.globals["url"] = _url
        env.globals["install_targets"] = install_targets()
        env.filters["filesize"] = filesize
        env.filters["description"] = self._description
        env.filters["description_text"] = self._description_text
        env.filters["numbered"] = _numbered
        try:
            for name in TEMPLATES:
                env.get_template(name)
        except jinja2.TemplateNotFound as exc:
            raise SiteError(f"template {exc.name} not found in {self.default_dir}") from exc
        except jinja2.TemplateError as exc:
            raise template_error(exc) from exc
        return env

    def _inline(self, item: Any) -> InlineText:
        found = self.describe(str(item.type), str(item.name))
        if found is not None:
            return found
        return self.markdown.inline(str(getattr(item, "description", "") or ""))

    @jinja2.pass_context
    def _description(
        self, context: jinja2.runtime.Context, item: Any, limit: int | None = None
    ) -> markupsafe.Markup:
        """Template filter: an entry's description (anything with type and name), its inline
        Markdown rendered and escaped, links relative to the page; `limit` shortens it."""
        text = self._inline(item)
        return markupsafe.Markup(text.html(lambda path: _url(context, path), limit))

    def _description_text(self, item: Any) -> str:
        """Template filter: the description as plain text (meta tags)."""
        return self._inline(item).text

    def _find_assets(self) -> dict[str, Path]:
        """static/* of the theme, custom files overriding default ones by name."""
        assets: dict[str, Path] = {}
        for folder in reversed(self.search_dirs):
            static = folder / "static"
            if not static.is_dir():
                continue
            for path in sorted(static.rglob("*")):
                if path.is_file() and not path.name.startswith("."):
                    assets[path.relative_to(static).as_posix()] = path
        return assets

    def _fingerprint(self) -> str:
        """Changes whenever any template, asset, option or renderer version changes."""
        digest = hashlib.sha256()
        for part in (
            __version__,
            RENDERER_VERSION,
            markdown_it.__version__,
            pygments.__version__,
            jinja2.__version__,
            json.dumps(self.options.__dict__, default=str, sort_keys=True),
            # the install selector's table: every entry page shows it
            json.dumps(install_targets(), sort_keys=True),
        ):
            digest.update(str(part).encode())
            digest.update(b"\0")
        for folder in self.search_dirs:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    digest.update(path.relative_to(folder).as_posix().encode())
                    digest.update(b"\0")
                    digest.update(path.read_bytes())
        return digest.hexdigest()[:32]

    def _nav(self) -> dict[str, str]:
        u = self.urls
        return {
            "home": u.home(),
            "skills": u.kind_index("skills"),
            "roles": u.kind_index("roles"),
            "all": u.all_entries(),
            "tags": u.tags_index(),
            "maintainers": u.maintainers(),
            "search": u.search(),
            "catalog": u.catalog(),
            "agent_skills": u.agent_skills_index(),
            "css": u.asset("sitegen.css"),
            "favicon": u.asset("favicon.svg"),
            "highlight_css": u.asset("highlight.css"),
            "js": u.asset("sitegen.js"),
            "search_js": u.asset("search.js"),
            "index_pointer": u.index_file("current.json"),
        }

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one Theme per build; few folders
    def _links(self, folder: str, absolute: bool) -> dict[str, str]:
        """The theme's own links (nav, assets) from pages in `folder`, computed once."""
        if absolute and self.urls.base_url:
            return {k: self.urls.base_url + v for k, v in self.nav.items()}
        return {k: relative(folder + "/x" if folder else "x", v) for k, v in self.nav.items()}

    def _menu(self, page: str, links: Mapping[str, str]) -> list[MenuItem]:
        section = page.split("/", 1)[0] if "/" in page else ""
        menu = []
        for key, label in MENU:
            current = "page" if page == self.nav[key] else ""
            if not current and key in {"skills", "roles", "tags"} and section == key:
                current = "true"
            menu.append(MenuItem(label, links[key], current))
        return menu

    def render(self, template: str, page: str, context: Mapping[str, Any]) -> bytes:
        """Render a theme template for the page at site path `page`."""
        absolute = bool(context.get("absolute_links"))
        links = dict(self._links(page.rsplit("/", 1)[0] if "/" in page else "", absolute))
        page_twin = twin(page) if page.endswith(".html") else None
        if page_twin:
            links["twin"] = (
                self.urls.base_url + page_twin
                if absolute and self.urls.base_url
                else relative(page, page_twin)
            )
        values: dict[str, Any] = {
            "page": page,
            "root": root_prefix(page),
            "site_title": self.options.title,
            "base_url": self.urls.base_url,
            "absolute_links": False,
            "twin": page_twin,
            "nav": self.nav,
            "href": links,
            "menu": self._menu(page, links),
            "generator": f"sitegen {__version__}",
            "api_url": self.options.api_url,
            "inline_script_hash": None,  # a page with an inline script allows it by its hash
        }
        values.update(context)
        try:
            text = self.env.get_template(template).render(values)
        except Exception as exc:  # a custom template may raise anything: report it in one line
            raise template_error(exc) from exc
        return text.encode("utf-8")
