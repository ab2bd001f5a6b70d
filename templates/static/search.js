/* sitegen search page: one ranked list fused from keyword results (Pagefind, in the browser)
   and results by meaning (the search server's API when one is announced, else the site's
   in-browser model when the site was built with --semantic, fetched only when asked for).
   Everything from the library is untrusted: results are built with textContent only. */
(function () {
  "use strict";

  var NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
  var KINDS = { roles: "role", skills: "skill" };
  var PAGE = /^(roles|skills)\/[a-z0-9]+(?:-[a-z0-9]+)*\/index\.html(#[^\s"'<>]*)?$/;
  var MAX_RESULTS = 20;
  var SEMANTIC_POOL = 10; /* results by meaning taken into the fusion */
  var MAX_DISTANCE = 0.8; /* as `sitegen match`: farther is not a match */
  /* Reciprocal rank fusion (Cormack et al. 2009): score = sum of 1 / (K + rank) over the lists
     an entry is in. K = 60 is the published default; it rewards entries both lists agree on. */
  var RRF_K = 60;
  var NAME_BONUS = 1; /* an entry the query names exactly is pinned first (as `sitegen match`) */
  var NEAR_BONUS = 1 / 61; /* a near-exact name (a typo) counts as one more first place */
  var NEAR_WORDS = 4; /* "did you mean" for short queries only: sentences hit names by chance */
  var THIN = 3; /* fewer keyword results than this: ask for meaning-based results too */
  var PREF = "sitegen-semantic";

  var form = document.getElementById("sg-search-form");
  if (!form) return;
  var input = document.getElementById("sg-q");
  var status = document.getElementById("sg-search-status");
  var results = document.getElementById("sg-results");
  var suggestion = document.getElementById("sg-did-you-mean");
  var meaning = document.getElementById("sg-meaning");
  var meaningStatus = document.getElementById("sg-meaning-status");
  var rootMeta = document.querySelector('meta[name="sitegen-root"]');
  var root = rootMeta ? rootMeta.getAttribute("content") || "" : "";
  var bundleUrl = form.getAttribute("data-semantic") ? new URL(form.getAttribute("data-semantic"), document.baseURI).href : null;
  var namesUrl = form.getAttribute("data-names") ? new URL(form.getAttribute("data-names"), document.baseURI).href : null;

  var pagefind = null;
  var pagefindFailed = false;
  var apiPromise = null;
  var apiController = null;
  var timer = null;
  var sequence = 0;
  var engine = null; /* the in-browser model, once loaded */
  var enginePromise = null;
  var engineFailed = null;
  var names = null;
  var namesPromise = null;

  /* ---- small helpers ---- */

  function siteUrl(path) {
    return new URL(root + path, document.baseURI).href;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function currentKind() {
    var checked = form.querySelector('input[name="type"]:checked');
    return checked ? checked.value : "all";
  }

  function words(text) {
    return String(text || "").toLowerCase().match(/[a-z0-9]+/g) || [];
  }

  function storage(value) {
    try {
      if (value === undefined) return window.localStorage.getItem(PREF);
      window.localStorage.setItem(PREF, value);
    } catch (e) { /* private mode, file:// */ }
    return null;
  }

  /* ---- inline Markdown, safely: `code`, **strong**, *em* / _em_, [text](url) ---- */

  var INLINE = /(`[^`\n]+`)|(\*\*[^*\n]+\*\*)|(\*[^*\s][^*\n]*\*)|(\b_[^_\s][^_\n]*_\b)|(\[[^\]\n]+\]\([^)\s]+\))/g;

  function safeHref(url) {
    var value = String(url).trim();
    if (/^(https?:|mailto:)/i.test(value)) return value;
    if (/^[a-z][a-z0-9+.-]*:/i.test(value) || /^\/\//.test(value) || /[\\\u0000-\u001f]/.test(value)) return null;
    return value;
  }

  /* Text with the query's words marked. */
  function appendMarked(parent, text, marks) {
    if (!marks) { parent.appendChild(document.createTextNode(text)); return; }
    String(text).split(marks).forEach(function (part, i) {
      if (part) parent.appendChild(i % 2 ? el("mark", "", part) : document.createTextNode(part));
    });
  }

  function appendInline(parent, text, marks) {
    var source = String(text || "");
    var last = 0;
    source.replace(INLINE, function (all, code, strong, em, under, link, at) {
      appendMarked(parent, source.slice(last, at), marks);
      last = at + all.length;
      if (code) {
        parent.appendChild(el("code", "", code.slice(1, -1)));
      } else if (strong) {
        var s = el("strong");
        appendMarked(s, strong.slice(2, -2), marks);
        parent.appendChild(s);
      } else if (em || under) {
        var e = el("em");
        appendMarked(e, (em || under).slice(1, -1), marks);
        parent.appendChild(e);
      } else {
        var split = link.indexOf("](");
        var label = link.slice(1, split);
        var href = safeHref(link.slice(split + 2, -1));
        if (href) {
          var a = el("a");
          appendMarked(a, label, marks);
          a.href = href;
          a.rel = "nofollow noopener noreferrer";
          parent.appendChild(a);
        } else {
          appendMarked(parent, label, marks);
        }
      }
      return all;
    });
    appendMarked(parent, source.slice(last), marks);
  }

  function markPattern(query) {
    var list = words(query).filter(function (w) { return w.length > 1; });
    return list.length ? new RegExp("(" + list.join("|") + ")", "gi") : null;
  }

  /* ---- edit distance (optimal string alignment), for "did you mean" ---- */

  function osa(a, b, limit) {
    if (Math.abs(a.length - b.length) > limit) return limit + 1;
    var prev2 = null;
    var prev = [];
    for (var j = 0; j <= b.length; j++) prev.push(j);
    for (var i = 1; i <= a.length; i++) {
      var row = [i];
      var best = i;
      for (var k = 1; k <= b.length; k++) {
        var cost = a.charAt(i - 1) === b.charAt(k - 1) ? 0 : 1;
        var v = Math.min(prev[k] + 1, row[k - 1] + 1, prev[k - 1] + cost);
        if (prev2 && i > 1 && k > 1 && a.charAt(i - 1) === b.charAt(k - 2) && a.charAt(i - 2) === b.charAt(k - 1)) {
          v = Math.min(v, prev2[k - 2] + 1);
        }
        row.push(v);
        if (v < best) best = v;
      }
      if (best > limit) return limit + 1;
      prev2 = prev;
      prev = row;
    }
    return prev[b.length];
  }

  function allowedEdits(word) {
    return word.length < 4 ? 0 : word.length < 7 ? 1 : 2;
  }

  /* Entries whose name is within a few edits of the query, or that have a word within a few
     edits of a query word no name uses: [{type, name, edits}], closest first. */
  function nearNames(query, kind) {
    if (!names) return [];
    var list = words(query);
    if (!list.length || list.length > NEAR_WORDS) return [];
    var slug = list.join("-");
    var known = {};
    names.forEach(function (n) { n[1].split("-").forEach(function (w) { known[w] = true; }); });
    var suspects = list.filter(function (w) { return w.length >= 4 && !known[w] && /^[a-z]+$/.test(w); });
    var found = [];
    names.forEach(function (n) {
      if (kind !== "all" && n[0] !== kind) return;
      if (n[1] === slug) return;
      var edits = osa(slug, n[1], allowedEdits(slug));
      if (edits > allowedEdits(slug)) {
        edits = Infinity;
        suspects.forEach(function (w) {
          n[1].split("-").forEach(function (part) {
            var d = osa(w, part, allowedEdits(w));
            if (d <= allowedEdits(w) && d < edits) edits = d;
          });
        });
      }
      if (edits < Infinity && edits > 0) found.push({ type: n[0], name: n[1], edits: edits });
    });
    found.sort(function (a, b) { return a.edits - b.edits || (a.name < b.name ? -1 : 1); });
    var best = found.length ? found[0].edits : 0;
    return found.filter(function (f) { return f.edits === best; }).slice(0, 3);
  }

  function loadNames() {
    if (names || !namesUrl) return Promise.resolve(names);
    if (!namesPromise) {
      namesPromise = fetch(namesUrl).then(function (r) {
        if (!r.ok) throw new Error(String(r.status));
        return r.json();
      }).then(function (list) {
        names = (Array.isArray(list) ? list : []).filter(function (n) {
          return Array.isArray(n) && n[0] in KINDS && NAME.test(String(n[1]));
        });
        return names;
      }).catch(function () { names = []; return names; });
    }
    return namesPromise;
  }

  /* ---- keyword results (Pagefind) ---- */

  function resultPath(url) {
    var path = String(url || "").replace(/^\/+/, "");
    return PAGE.test(path) ? path : null;
  }

  function loadPagefind() {
    if (pagefind || pagefindFailed) return Promise.resolve(pagefind);
    if (location.protocol === "file:") {
      pagefindFailed = true;
      return Promise.resolve(null);
    }
    var source = new URL(form.getAttribute("data-pagefind") || "", document.baseURI).href;
    return import(source).then(function (module) {
      return Promise.resolve(module.options({ baseUrl: "/", excerptLength: 24, noWorker: true }))
        .then(function () { return module.init(); })
        .then(function () { pagefind = module; return module; });
    }).catch(function () {
      pagefindFailed = true;
      return null;
    });
  }

  /* [{type, name, description, subs}] in Pagefind's order. */
  function keywordSearch(query, kind) {
    return loadPagefind().then(function (pf) {
      if (!pf) return null;
      var options = kind === "all" ? {} : { filters: { kind: kind } };
      return pf.search(query, options).then(function (search) {
        var top = search.results.slice(0, MAX_RESULTS);
        return Promise.all(top.map(function (r) { return r.data(); }));
      }).then(function (data) {
        var out = [];
        data.forEach(function (d) {
          var path = resultPath(d.url);
          if (!path) return;
          var meta = d.meta || {};
          var parts = path.split("/");
          var subs = (d.sub_results || []).filter(function (s) {
            return s.url && s.url !== d.url && resultPath(s.url) && words(s.title).join(" ") !== words(parts[1]).join(" ");
          }).slice(0, 3).map(function (s) { return { title: s.title || "section", path: resultPath(s.url) }; });
          out.push({ type: parts[0], name: parts[1], description: meta.description || "", subs: subs });
        });
        return out;
      });
    });
  }

  /* ---- results by meaning: the server's API, or the in-browser model ---- */

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

  /* <meta name="sitegen-api"> (set by --api-url), or the X-Sitegen-Api header that
     `sitegen serve` sends on this page. */
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

  function apiSearch(endpoint, query, kind) {
    if (apiController) apiController.abort();
    apiController = typeof AbortController === "function" ? new AbortController() : null;
    var url = new URL(endpoint);
    url.searchParams.set("q", query);
    url.searchParams.set("limit", String(SEMANTIC_POOL));
    if (kind !== "all") url.searchParams.set("type", kind);
    return fetch(url.href, {
      headers: { Accept: "application/json" },
      signal: apiController ? apiController.signal : undefined,
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    }).then(function (payload) {
      var rows = payload && Array.isArray(payload.results) ? payload.results : [];
      return rows.filter(function (r) {
        return r && r.type in KINDS && NAME.test(String(r.name || "")) && (kind === "all" || r.type === kind);
      }).map(function (r) {
        return {
          type: r.type, name: r.name, description: String(r.description || ""),
          distance: typeof r.distance === "number" ? r.distance : null, exact: r.exact === true,
        };
      });
    });
  }

  function megabytes(n) {
    return (n / 1e6).toFixed(n < 1e7 ? 1 : 0) + " MB";
  }

  function showMeaning(state) {
    if (!meaning) return;
    meaning.hidden = !bundleUrl;
    meaning.setAttribute("aria-pressed", state === "on" ? "true" : "false");
    meaning.disabled = state === "loading" || state === "failed";
  }

  function loadEngine() {
    if (engine) return Promise.resolve(engine);
    if (engineFailed || !bundleUrl) return Promise.resolve(null);
    if (!enginePromise) {
      showMeaning("loading");
      meaningStatus.textContent = "Loading search by meaning…";
      enginePromise = import(siteUrl("static/semantic.js")).then(function (module) {
        return module.load(bundleUrl, function (loaded, total) {
          meaningStatus.textContent = "Loading search by meaning: " + megabytes(loaded) + " of " + megabytes(total) + " (once; kept by your browser)…";
        });
      }).then(function (loaded) {
        engine = loaded;
        storage("on");
        showMeaning("on");
        meaningStatus.textContent = "Search by meaning is on: results also match what you mean, not only your words.";
        return engine;
      }).catch(function (error) {
        engineFailed = error;
        showMeaning("failed");
        meaningStatus.textContent = "Search by meaning is not available here (" + (error && error.message ? error.message : "it could not load") + "); showing keyword results.";
        return null;
      });
    }
    return enginePromise;
  }

  /* Results by meaning for the query, or null when there is no source (or it failed). */
  function meaningSearch(query, kind, wanted) {
    return apiEndpoint().then(function (endpoint) {
      if (endpoint) {
        return apiSearch(endpoint, query, kind).catch(function (error) {
          if (error && error.name === "AbortError") throw error;
          return null;
        });
      }
      if (!bundleUrl || !(wanted || engine)) return null;
      return loadEngine().then(function (loaded) {
        if (!loaded) return null;
        return loaded.search(query, kind, SEMANTIC_POOL);
      });
    });
  }

  /* ---- fusion ---- */

  function key(r) { return r.type + "/" + r.name; }

  var STOP = {};
  ("a an and any are as at be by can do does for from get has have how i in into is it its me my " +
   "need of on or our out so some than that the their them this to up us we what when where " +
   "which who why will with you your").split(" ").forEach(function (w) { STOP[w] = true; });

  function stem(word) {
    var suffixes = ["ations", "ation", "ings", "ing", "ers", "er", "ors", "or", "es", "s", "ed"];
    for (var i = 0; i < suffixes.length; i++) {
      var s = suffixes[i];
      if (word.length - s.length >= 4 && word.slice(-s.length) === s) return word.slice(0, -s.length);
    }
    return word;
  }

  /* How much of the query a keyword hit covers: the share of the query's content words that
     start a word of its name or description. A sentence that shares one incidental word with
     an entry is no keyword match. */
  function coverage(query, r) {
    var asked = words(query).filter(function (w) { return !STOP[w]; });
    if (!asked.length) return 1;
    var text = words(r.name.replace(/-/g, " ") + " " + (r.description || ""));
    var found = asked.filter(function (w) {
      var s = stem(w);
      return text.some(function (t) { return t.indexOf(s) === 0; });
    });
    return found.length / asked.length;
  }

  /* One list: reciprocal rank fusion of the keyword and meaning lists (results by meaning
     farther than MAX_DISTANCE dropped; keyword hits weighted by how much of the query they
     cover), an exactly named entry pinned first, a near-exact name (a typo of it) counted as
     one more first place. Returns [{..., cue}]. Measured on queries.yaml: BENCHMARKS.md. */
  function fuse(query, keyword, semantic, near) {
    var slug = words(query).join("-");
    var merged = {};
    function entry(r) {
      var k = key(r);
      if (!merged[k]) merged[k] = { type: r.type, name: r.name, description: r.description || "", subs: [], score: 0, distance: null, keywordRank: null, exact: false };
      return merged[k];
    }
    (keyword || []).forEach(function (r, rank) {
      var e = entry(r);
      /* With results by meaning, a keyword hit counts as much as it covers the query (and
         hardly at all under half); alone, Pagefind's order stands. */
      var share = semantic ? coverage(query, r) : 1;
      e.score += (share >= 0.5 ? share : share / 10) / (RRF_K + rank + 1);
      e.share = share;
      e.keywordRank = rank;
      e.subs = r.subs || [];
      if (!e.description) e.description = r.description;
    });
    (semantic || []).forEach(function (r, rank) {
      if (r.distance !== null && r.distance > MAX_DISTANCE && r.name !== slug) return;
      var e = entry(r);
      e.score += 1 / (RRF_K + rank + 1);
      e.distance = r.distance;
      if (!e.description) e.description = r.description;
    });
    Object.keys(merged).forEach(function (k) {
      var e = merged[k];
      if (e.name === slug) { e.exact = true; e.score += NAME_BONUS; }
    });
    (near || []).forEach(function (n) {
      var e = merged[key(n)];
      if (!e) {
        e = entry({ type: n.type, name: n.name, description: n.description || "" });
      }
      e.score += NEAR_BONUS;
      e.near = true;
    });
    var list = Object.keys(merged).map(function (k) { return merged[k]; });
    list.sort(function (a, b) {
      return b.score - a.score || (a.distance === null ? 2 : a.distance) - (b.distance === null ? 2 : b.distance) || (key(a) < key(b) ? -1 : 1);
    });
    list.forEach(function (e, i) { e.cue = cue(e, i); });
    return list.slice(0, MAX_RESULTS);
  }

  /* A plain-language relevance cue instead of a distance. */
  function cue(e, rank) {
    if (e.exact) return "exact name";
    if (rank === 0) return "best match";
    if (e.near) return "similar name";
    if (e.distance !== null && (e.distance <= 0.6 || (e.keywordRank !== null && e.distance <= 0.7))) return "strong";
    if (e.distance === null && e.keywordRank !== null && e.share >= 0.5) return "matches your words";
    return "related";
  }

  /* ---- rendering ---- */

  function render(query, list, near) {
    results.textContent = "";
    var marks = markPattern(query);
    list.forEach(function (r) {
      var li = el("li", "sg-result");
      li.setAttribute("data-name", r.name);
      var h = el("h3");
      var link = el("a", "sg-result-link", r.name);
      link.href = siteUrl(r.type + "/" + r.name + "/index.html");
      h.appendChild(el("span", "sg-badge sg-badge-" + r.type, KINDS[r.type]));
      h.appendChild(document.createTextNode(" "));
      h.appendChild(link);
      h.appendChild(document.createTextNode(" "));
      h.appendChild(el("span", "sg-cue sg-cue-" + r.cue.replace(/\s+/g, "-"), r.cue));
      li.appendChild(h);
      if (r.description) {
        var p = el("p", "sg-result-desc");
        appendInline(p, r.description, marks);
        li.appendChild(p);
      }
      if (r.subs && r.subs.length) {
        var ul = el("ul", "sg-sub-results");
        r.subs.forEach(function (s) {
          var item = el("li");
          var a = el("a", "", s.title);
          a.href = siteUrl(s.path);
          item.appendChild(a);
          ul.appendChild(item);
        });
        li.appendChild(ul);
      }
      results.appendChild(li);
    });
    suggestion.textContent = "";
    var offered = (near || []).filter(function (n) { return !list.length || list[0].name !== n.name || list[0].exact; });
    if (near && near.length && (!list.length || !list[0].exact)) offered = near;
    if (offered.length) {
      suggestion.appendChild(document.createTextNode("Did you mean "));
      offered.forEach(function (n, i) {
        if (i) suggestion.appendChild(document.createTextNode(i === offered.length - 1 ? " or " : ", "));
        var a = el("a", "", n.name);
        a.href = siteUrl(n.type + "/" + n.name + "/index.html");
        suggestion.appendChild(a);
      });
      suggestion.appendChild(document.createTextNode("?"));
    }
    suggestion.hidden = !offered.length;
  }

  function say(query, count, pending) {
    if (pending && !count) { status.textContent = "Searching…"; return; }
    status.textContent = count
      ? count + (count === 1 ? " result" : " results") + " for “" + query + "”."
      : "No results for “" + query + "”.";
  }

  /* ---- one search ---- */

  function run(options) {
    var query = input.value.trim();
    var ticket = ++sequence;
    var kind = currentKind();
    remember(query);
    clearTimeout(timer);
    results.setAttribute("data-state", "busy");
    if (!query) {
      results.textContent = "";
      suggestion.textContent = "";
      suggestion.hidden = true;
      status.textContent = "";
      return Promise.resolve();
    }
    if (location.protocol === "file:") {
      status.textContent = "Static search needs the site served over HTTP (for example: python3 -m http.server). The skill and role lists can be filtered offline.";
      return Promise.resolve();
    }
    var delay = options && options.now ? 0 : 80;
    return new Promise(function (resolve) { timer = setTimeout(resolve, delay); }).then(function () {
      if (ticket !== sequence) return null;
      return keywordSearch(query, kind).catch(function () { return null; });
    }).then(function (keyword) {
      if (ticket !== sequence) return;
      if (keyword === null && pagefindFailed) status.textContent = "The keyword index could not be loaded.";
      var count = keyword ? keyword.length : 0;
      /* thin: few hits that cover most of what was asked (a sentence's incidental words
         match many entries, none of them well) */
      var solid = (keyword || []).filter(function (r) { return coverage(query, r) >= 0.5; }).length;
      var thin = solid < THIN;
      var wanted = (options && options.meaning) || storage() === "on" || (thin && (count === 0 || words(query).length >= 2));
      var namesReady = loadNames();
      var near0 = [];
      render(query, fuse(query, keyword, null, near0), near0);
      say(query, count, true);
      return Promise.all([
        meaningSearch(query, kind, wanted).catch(function () { return null; }),
        namesReady,
      ]).then(function (both) {
        if (ticket !== sequence) return;
        var semantic = both[0];
        var near = nearNames(query, kind);
        var list = fuse(query, keyword, semantic, near);
        render(query, list, near);
        say(query, list.length, false);
        results.setAttribute("data-state", "done");
        results.setAttribute("data-sources", "keyword" + (semantic ? "+meaning" : ""));
      });
    });
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

  /* ---- keyboard: "/" focuses the box; arrows move through results; Enter opens ---- */

  function links() {
    return Array.prototype.slice.call(results.querySelectorAll("a.sg-result-link"));
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      input.focus();
      input.select();
      return;
    }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp" && event.key !== "Escape") return;
    var list = links();
    var at = list.indexOf(document.activeElement);
    if (event.key === "Escape" && at >= 0) { event.preventDefault(); input.focus(); return; }
    if (!list.length || (target !== input && at < 0)) return;
    event.preventDefault();
    if (event.key === "ArrowDown") {
      list[Math.min(at + 1, list.length - 1)].focus();
    } else if (at <= 0) {
      input.focus();
    } else {
      list[at - 1].focus();
    }
  });

  form.addEventListener("submit", function (event) { event.preventDefault(); run({ now: true }); });
  input.addEventListener("input", function () { run(); });
  form.addEventListener("change", function (event) {
    if (event.target && event.target.name === "type") run({ now: true });
  });
  if (meaning) {
    meaning.addEventListener("click", function () {
      if (engine) return;
      loadEngine().then(function () { run({ now: true, meaning: true }); });
    });
  }

  showMeaning(storage() === "on" ? "off" : "off");
  var params = new URLSearchParams(location.search);
  var kindParam = params.get("type");
  if (kindParam) {
    var radio = form.querySelector('input[name="type"][value="' + (kindParam in KINDS ? kindParam : "all") + '"]');
    if (radio) radio.checked = true;
  }
  input.value = params.get("q") || "";
  if (input.value.trim()) {
    run({ now: true });
  } else if (location.protocol === "file:") {
    run({ now: true });
    status.textContent = "Static search needs the site served over HTTP (for example: python3 -m http.server). The skill and role lists can be filtered offline.";
  } else {
    loadPagefind();
  }
  input.focus();
})();
