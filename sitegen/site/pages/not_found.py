"""The 404 page: served for any missing path, at any depth, under any prefix.

With a base URL its links are absolute. Without one the page cannot know where the site is
mounted (`/`, or `/repo/` on a GitHub Pages project site), so a small inline script, allowed
by its hash in the page's CSP, finds the root in the page's own URL: the part before the
first of the site's top folders (`/repo/skills/old-name/` -> `/repo/`), else the deepest
folder. It sets `<base>` before any link is read, then checks its guess by asking for the
stylesheet, and walks up the path when the guess was wrong.
"""

from __future__ import annotations

import base64
import hashlib
import json

from sitegen.site.model import SiteModel
from sitegen.site.outputs import Outputs
from sitegen.site.views import NotFoundView
from sitegen.urls import SiteUrls

_LOCATE = """(function () {
  "use strict";
  var SECTIONS = %(sections)s;
  var PROBE = %(probe)s;
  var dirs = location.pathname.split("/").slice(1, -1);
  var roots = [];
  function add(depth) {
    var root = "/" + dirs.slice(0, depth).join("/") + (depth ? "/" : "");
    if (roots.indexOf(root) < 0) roots.push(root);
  }
  dirs.forEach(function (dir, i) { if (SECTIONS.indexOf(dir) >= 0) add(i); });
  for (var depth = dirs.length; depth >= 0; depth--) add(depth);
  var base = document.createElement("base");
  base.href = roots[0];
  document.head.appendChild(base);
  if (!window.fetch) return;
  function check(i) {
    fetch(roots[i] + PROBE, { method: "HEAD" }).then(function (r) { return r.ok; },
      function () { return false; }).then(function (ok) {
      if (ok && i > 0) {
        base.href = roots[i];
        document.querySelectorAll("link[href]").forEach(function (link) {
          var again = link.cloneNode();
          link.replaceWith(again);
        });
      } else if (!ok && i + 1 < roots.length) {
        check(i + 1);
      }
    });
  }
  check(0);
})();"""


def locate_script(urls: SiteUrls) -> tuple[str, str]:
    """The inline script and its CSP source expression."""
    text = _LOCATE % {
        "sections": json.dumps(list(urls.sections())),
        "probe": json.dumps(urls.asset("sitegen.css")),
    }
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
    return text, f"'sha256-{digest}'"


def plan(model: SiteModel, out: Outputs) -> None:
    u = model.urls
    home_absolute = u.absolute(u.home())
    script, digest = locate_script(u) if home_absolute is None else (None, None)
    view = NotFoundView(
        home=u.home(), home_absolute=home_absolute, locate=script, locate_hash=digest
    )
    out.page("404.html", u.not_found(), (digest,), lambda: view)
