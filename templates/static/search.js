/* sitegen search page: instant static search (Pagefind) plus, when a server offers it,
   semantic matches from GET <api>?q=... . Results are built with textContent only. */
(function () {
  "use strict";

  var NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
  var KINDS = { roles: "role", skills: "skill" };
  var PAGE = /^(roles|skills)\/[a-z0-9]+(?:-[a-z0-9]+)*\/index\.html(#[^\s"'<>]*)?$/;
  var MAX_RESULTS = 20;

  var form = document.getElementById("sg-search-form");
  if (!form) return;
  var input = document.getElementById("sg-q");
  var status = document.getElementById("sg-search-status");
  var results = document.getElementById("sg-results");
  var semantic = document.getElementById("sg-semantic");
  var semanticStatus = document.getElementById("sg-semantic-status");
  var semanticResults = document.getElementById("sg-semantic-results");
  var rootMeta = document.querySelector('meta[name="sitegen-root"]');
  var root = rootMeta ? rootMeta.getAttribute("content") || "" : "";
  var pagefind = null;
  var pagefindFailed = false;
  var apiPromise = null;
  var apiController = null;
  var apiTimer = null;
  var sequence = 0;

  function siteUrl(path) {
    return new URL(root + path, document.baseURI).href;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function badge(kind) {
    return el("span", "sg-badge sg-badge-" + kind, KINDS[kind] || kind);
  }

  function currentKind() {
    var checked = form.querySelector('input[name="type"]:checked');
    return checked ? checked.value : "all";
  }

  /* Pagefind excerpts are escaped HTML with <mark> around hits: keep the marks, as text. */
  var ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };

  function decodeEntities(text) {
    return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, function (all, name) {
      if (name.charAt(0) === "#") {
        var code = name.charAt(1).toLowerCase() === "x" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
        return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : "";
      }
      return Object.prototype.hasOwnProperty.call(ENTITIES, name.toLowerCase()) ? ENTITIES[name.toLowerCase()] : all;
    });
  }

  function appendExcerpt(parent, excerpt) {
    String(excerpt || "").split(/(<mark>|<\/mark>)/).reduce(function (inMark, part) {
      if (part === "<mark>") return true;
      if (part === "</mark>") return false;
      if (!part) return inMark;
      var text = decodeEntities(part);
      parent.appendChild(inMark ? el("mark", "", text) : document.createTextNode(text));
      return inMark;
    }, false);
  }

  function normalize(text) {
    return String(text || "").toLowerCase().replace(/[^a-z0-9]+/g, " ").trim();
  }

  /* The description as text, with the query's words marked (case-insensitive). */
  function appendHighlighted(parent, text, query) {
    var words = query.toLowerCase().split(/\s+/).filter(function (w) { return w.length > 1; })
      .map(function (w) { return w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); });
    if (!words.length) {
      parent.appendChild(document.createTextNode(text));
      return;
    }
    var pattern = new RegExp("(" + words.join("|") + ")", "gi");
    String(text).split(pattern).forEach(function (part, i) {
      if (!part) return;
      parent.appendChild(i % 2 ? el("mark", "", part) : document.createTextNode(part));
    });
  }

  function resultPath(url) {
    var path = String(url || "").replace(/^\/+/, "");
    return PAGE.test(path) ? path : null;
  }

  function loadPagefind() {
    if (pagefind || pagefindFailed) return Promise.resolve(pagefind);
    if (location.protocol === "file:") {
      pagefindFailed = true;
      status.textContent = "Static search needs the site served over HTTP (for example: python3 -m http.server). The skill and role lists can be filtered offline.";
      return Promise.resolve(null);
    }
    var source = new URL(form.getAttribute("data-pagefind") || "", document.baseURI).href;
    return import(source).then(function (module) {
      return Promise.resolve(module.options({ baseUrl: "/", excerptLength: 24, noWorker: true }))
        .then(function () { return module.init(); })
        .then(function () { pagefind = module; return module; });
    }).catch(function () {
      pagefindFailed = true;
      status.textContent = "The search index could not be loaded.";
      return null;
    });
  }

  function renderKeyword(query, total, data) {
    results.textContent = "";
    data.forEach(function (d) {
      var path = resultPath(d.url);
      if (!path) return;
      var meta = d.meta || {};
      var kind = meta.kind in KINDS ? meta.kind : path.split("/")[0];
      var li = el("li", "sg-result");
      var h = el("h3");
      var link = el("a", "", meta.title || path.split("/")[1]);
      link.href = siteUrl(path);
      h.appendChild(badge(kind));
      h.appendChild(document.createTextNode(" "));
      h.appendChild(link);
      li.appendChild(h);
      var text = el("p");
      if (meta.description) {
        appendHighlighted(text, meta.description, query);
      } else {
        appendExcerpt(text, d.excerpt);
      }
      li.appendChild(text);
      var title = normalize(meta.title || "");
      var subs = (d.sub_results || []).filter(function (s) {
        return s.url && s.url !== d.url && resultPath(s.url) && normalize(s.title) !== title;
      }).slice(0, 3);
      if (subs.length) {
        var ul = el("ul", "sg-sub-results");
        subs.forEach(function (s) {
          var item = el("li");
          var a = el("a", "", s.title || "section");
          a.href = siteUrl(resultPath(s.url));
          item.appendChild(a);
          ul.appendChild(item);
        });
        li.appendChild(ul);
      }
      results.appendChild(li);
    });
    var shown = Math.min(total, MAX_RESULTS);
    status.textContent = total === 0
      ? "No results for “" + query + "”."
      : total + (total === 1 ? " result" : " results") + " for “" + query + "”" +
        (total > shown ? " (showing the best " + shown + ")." : ".");
  }

  function keywordSearch(query, ticket) {
    return loadPagefind().then(function (pf) {
      if (!pf || ticket !== sequence) return;
      var kind = currentKind();
      var options = kind === "all" ? {} : { filters: { kind: kind } };
      return pf.debouncedSearch(query, options, 80).then(function (search) {
        if (search === null || ticket !== sequence) return;
        var top = search.results.slice(0, MAX_RESULTS);
        return Promise.all(top.map(function (r) { return r.data(); })).then(function (data) {
          if (ticket === sequence) renderKeyword(query, search.results.length, data);
        });
      });
    }).catch(function () {
      if (ticket === sequence) status.textContent = "Search failed; try again.";
    });
  }

  /* The semantic endpoint: <meta name="sitegen-api"> (set by --api-url at build time), or an
     X-Sitegen-Api header on this page, which `sitegen serve` sends. Relative values are
     resolved against the site root. No endpoint: the section stays hidden, nothing is logged. */
  function resolveApi(value) {
    value = String(value || "").trim();
    if (!value) return null;
    try {
      if (/^https?:\/\//i.test(value)) return new URL(value).href;
      if (/^[a-z][a-z0-9+.-]*:/i.test(value) || value.charAt(0) === "/") return null;
      return siteUrl(value);
    } catch (e) {
      return null;
    }
  }

  function apiEndpoint() {
    if (apiPromise) return apiPromise;
    var meta = document.querySelector('meta[name="sitegen-api"]');
    if (meta && meta.getAttribute("content")) {
      apiPromise = Promise.resolve(resolveApi(meta.getAttribute("content")));
    } else if (/^https?:$/.test(location.protocol)) {
      apiPromise = fetch(location.href.split("#")[0], { method: "HEAD", cache: "no-store" })
        .then(function (response) { return resolveApi(response.headers.get("X-Sitegen-Api")); })
        .catch(function () { return null; });
    } else {
      apiPromise = Promise.resolve(null);
    }
    return apiPromise;
  }

  function renderSemantic(query, payload) {
    semanticResults.textContent = "";
    var rows = payload && Array.isArray(payload.results) ? payload.results : [];
    var kind = currentKind();
    var shown = 0;
    rows.forEach(function (r) {
      if (!r || !(r.type in KINDS) || !NAME.test(String(r.name || ""))) return;
      if (kind !== "all" && r.type !== kind) return;
      var li = el("li", "sg-result sg-result-semantic");
      var h = el("h3");
      var link = el("a", "", r.name);
      link.href = siteUrl(r.type + "/" + r.name + "/index.html");
      h.appendChild(el("span", "sg-badge sg-badge-semantic", "semantic"));
      h.appendChild(document.createTextNode(" "));
      h.appendChild(badge(r.type));
      h.appendChild(document.createTextNode(" "));
      h.appendChild(link);
      li.appendChild(h);
      if (r.description) li.appendChild(el("p", "", r.description));
      if (typeof r.distance === "number") {
        li.appendChild(el("p", "sg-muted", "cosine distance " + r.distance.toFixed(3)));
      }
      semanticResults.appendChild(li);
      shown++;
    });
    semanticStatus.textContent = shown
      ? shown + (shown === 1 ? " semantic match" : " semantic matches") + " for “" + query + "”."
      : "No semantic match for “" + query + "”.";
  }

  function semanticSearch(query, ticket) {
    clearTimeout(apiTimer);
    apiTimer = setTimeout(function () {
      apiEndpoint().then(function (endpoint) {
        if (!endpoint || ticket !== sequence) return;
        if (apiController) apiController.abort();
        apiController = typeof AbortController === "function" ? new AbortController() : null;
        var url = new URL(endpoint);
        url.searchParams.set("q", query);
        var kind = currentKind();
        if (kind !== "all") url.searchParams.set("type", kind);
        return fetch(url.href, {
          headers: { Accept: "application/json" },
          signal: apiController ? apiController.signal : undefined,
        }).then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        }).then(function (payload) {
          if (ticket !== sequence) return;
          semantic.hidden = false;
          renderSemantic(query, payload);
        });
      }).catch(function (error) {
        if (error && error.name === "AbortError") return;
        if (ticket === sequence && !semantic.hidden) {
          semanticStatus.textContent = "Semantic search is unavailable right now.";
          semanticResults.textContent = "";
        }
      });
    }, 250);
  }

  function remember(query) {
    var params = new URLSearchParams(location.search);
    if (query) { params.set("q", query); } else { params.delete("q"); }
    var kind = currentKind();
    if (kind !== "all") { params.set("type", kind); } else { params.delete("type"); }
    var text = params.toString();
    try {
      history.replaceState(null, "", location.pathname + (text ? "?" + text : "") + location.hash);
    } catch (e) { /* file:// */ }
  }

  function run() {
    var query = input.value.trim();
    var ticket = ++sequence;
    remember(query);
    if (!query) {
      results.textContent = "";
      semanticResults.textContent = "";
      semanticStatus.textContent = "";
      status.textContent = "";
      return;
    }
    keywordSearch(query, ticket);
    semanticSearch(query, ticket);
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); run(); });
  input.addEventListener("input", run);
  form.addEventListener("change", function (event) {
    if (event.target && event.target.name === "type") run();
  });

  var params = new URLSearchParams(location.search);
  var kindParam = params.get("type");
  if (kindParam) {
    var radio = form.querySelector('input[name="type"][value="' + (kindParam in KINDS ? kindParam : "all") + '"]');
    if (radio) radio.checked = true;
  }
  input.value = params.get("q") || "";
  if (input.value.trim()) {
    run();
  } else {
    loadPagefind();
  }
  input.focus();
})();
