/* sitegen: list filtering, copy buttons, the install selector, absolute install URLs, the file
   viewer's wrap toggle. No dependencies, no network, no inline handlers (the CSP allows none).
   Library content is untrusted: this script only ever sets textContent, never innerHTML. */
(function () {
  "use strict";

  function parseTags(item) {
    try {
      var tags = JSON.parse(item.getAttribute("data-tags") || "[]");
      return Array.isArray(tags) ? tags.map(String) : [];
    } catch (e) {
      return [];
    }
  }

  function readHash() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ""));
    return { q: params.get("q") || "", tag: params.get("tag") || "", kind: params.get("kind") || "" };
  }

  function writeHash(state) {
    var params = new URLSearchParams();
    if (state.q) params.set("q", state.q);
    if (state.tag) params.set("tag", state.tag);
    if (state.kind) params.set("kind", state.kind);
    var hash = params.toString();
    var url = location.pathname + location.search + (hash ? "#" + hash : "");
    try {
      history.replaceState(null, "", url);
    } catch (e) {
      /* some file:// contexts refuse; the filter still works */
    }
  }

  function setupList(form) {
    var list = document.querySelector("[data-sg-list]");
    var status = document.getElementById("sg-list-status");
    var items = list ? Array.prototype.slice.call(list.querySelectorAll("[data-sg-item]")) : [];
    var rows = items.map(function (item) {
      return {
        el: item,
        type: item.getAttribute("data-type") || "",
        tags: parseTags(item),
        text: (item.textContent || "").toLowerCase(),
      };
    });
    var q = form.querySelector("#sg-filter-q");
    var tag = form.querySelector("#sg-filter-tag");
    var kinds = Array.prototype.slice.call(form.querySelectorAll('input[name="kind"]'));

    function state() {
      var kind = "";
      kinds.forEach(function (radio) {
        if (radio.checked) kind = radio.value;
      });
      return { q: q ? q.value.trim() : "", tag: tag ? tag.value : "", kind: kind };
    }

    function apply() {
      var s = state();
      var words = s.q.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (row) {
        var ok = (!s.kind || row.type === s.kind) && (!s.tag || row.tags.indexOf(s.tag) !== -1);
        for (var i = 0; ok && i < words.length; i++) ok = row.text.indexOf(words[i]) !== -1;
        row.el.hidden = !ok;
        if (ok) shown++;
      });
      if (status) {
        status.textContent = shown === rows.length
          ? rows.length + (rows.length === 1 ? " entry" : " entries")
          : "Showing " + shown + " of " + rows.length + (rows.length === 1 ? " entry" : " entries");
      }
      writeHash(s);
    }

    var initial = readHash();
    if (q) q.value = initial.q;
    if (tag && initial.tag) {
      var known = Array.prototype.some.call(tag.options, function (o) { return o.value === initial.tag; });
      if (known) tag.value = initial.tag;
    }
    kinds.forEach(function (radio) { radio.checked = radio.value === initial.kind; });
    if (kinds.length && !kinds.some(function (r) { return r.checked; })) kinds[0].checked = true;

    form.addEventListener("input", apply);
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
    form.addEventListener("reset", function () { setTimeout(apply, 0); });
    form.hidden = false;
    apply();
  }

  /* ---- copy buttons ---- */

  var COPIED_FOR = 2000; /* ms the button says "Copied" */

  /* The Clipboard API where there is one (secure contexts), else the older execCommand way. */
  function copyText(text) {
    if (navigator.clipboard && navigator.clipboard.writeText && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return legacyCopy(text); });
    }
    return legacyCopy(text);
  }

  function legacyCopy(text) {
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "sg-visually-hidden";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy failed")); }
    });
  }

  /* When nothing can write the clipboard: select the text, so one key press copies it. */
  function selectText(node) {
    try {
      var range = document.createRange();
      range.selectNodeContents(node);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    } catch (e) { /* nothing more to do */ }
  }

  var liveRegion = null;

  function statusFor(button) {
    var scope = button.closest(".sg-install, .sg-file-bar");
    var status = scope ? scope.querySelector(".sg-copy-status") : null;
    if (status) return status;
    if (!liveRegion) {
      liveRegion = document.createElement("p");
      liveRegion.className = "sg-visually-hidden";
      liveRegion.setAttribute("role", "status");
      liveRegion.setAttribute("aria-live", "polite");
      document.body.appendChild(liveRegion);
    }
    return liveRegion;
  }

  /* The text a block holds: its <code> when it has one (line numbers are CSS, not text). */
  function codeOf(target) {
    return target.querySelector("code") || target;
  }

  function wireCopy(button, target) {
    var label = button.textContent;
    var timer = 0;
    button.hidden = false;
    button.addEventListener("click", function () {
      var source = codeOf(target);
      var status = statusFor(button);
      copyText(source.textContent || "").then(
        function () {
          button.textContent = "Copied";
          button.classList.add("sg-copied");
          status.textContent = "Copied to the clipboard.";
        },
        function () {
          selectText(source);
          button.textContent = "Selected";
          status.textContent = "Could not copy: the text is selected, press Ctrl+C (⌘C on a Mac).";
        }
      ).then(function () {
        clearTimeout(timer);
        timer = setTimeout(function () {
          button.textContent = label;
          button.classList.remove("sg-copied");
        }, COPIED_FOR);
      });
    });
  }

  function setupCopy(button) {
    var target = document.getElementById(button.getAttribute("data-sg-copy") || "");
    if (target) wireCopy(button, target);
  }

  /* Code blocks of rendered Markdown (entry bodies, references) get a button of their own;
     blocks of the install box and the file viewer have theirs in the page already. */
  function addCopyButtons() {
    Array.prototype.forEach.call(document.querySelectorAll("main pre"), function (pre) {
      if (pre.closest(".sg-snippet, .sg-code, .sg-codeblock")) return;
      var box = document.createElement("div");
      box.className = "sg-codeblock";
      pre.parentNode.insertBefore(box, pre);
      box.appendChild(pre);
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sg-copy sg-copy-float";
      button.textContent = "Copy";
      button.setAttribute("aria-label", "Copy code");
      box.appendChild(button);
      wireCopy(button, pre);
    });
  }

  /* ---- install: which agent tool, which scope ---- */

  var INSTALL_PREF = "sitegen.install";

  function remembered() {
    try {
      var value = JSON.parse(window.localStorage.getItem(INSTALL_PREF) || "{}");
      return value && typeof value === "object" ? value : {};
    } catch (e) {
      return {};
    }
  }

  function remember(value) {
    try { window.localStorage.setItem(INSTALL_PREF, JSON.stringify(value)); } catch (e) { /* private mode */ }
  }

  function setupInstall(form) {
    var box = form.parentNode;
    var panels = Array.prototype.slice.call(box.querySelectorAll("[data-sg-install-panel]"));

    function chosen(name) {
      var input = form.querySelector('input[name="' + name + '"]:checked');
      return input ? input.value : "";
    }

    function pick(name, value) {
      Array.prototype.forEach.call(form.querySelectorAll('input[name="' + name + '"]'), function (input) {
        if (input.value === value) input.checked = true;
      });
    }

    function show() {
      var agent = chosen("sg-agent");
      var scope = chosen("sg-scope");
      panels.forEach(function (panel) {
        panel.hidden = !(panel.getAttribute("data-agent") === agent && panel.getAttribute("data-scope") === scope);
      });
    }

    var saved = remembered();
    if (typeof saved.agent === "string") pick("sg-agent", saved.agent);
    if (typeof saved.scope === "string") pick("sg-scope", saved.scope);
    form.addEventListener("change", function () {
      show();
      remember({ agent: chosen("sg-agent"), scope: chosen("sg-scope") });
    });
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    form.hidden = false;
    show();
  }

  /* ---- the file viewer: wrap long lines, or scroll them ---- */

  function setupWrap(button) {
    var target = document.getElementById(button.getAttribute("data-sg-wrap") || "");
    if (!target) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var on = button.getAttribute("aria-pressed") !== "true";
      button.setAttribute("aria-pressed", on ? "true" : "false");
      target.classList.toggle("sg-wrapped", on);
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-sg-absolute]"), function (el) {
      try {
        el.textContent = new URL(el.getAttribute("data-sg-absolute") || "", document.baseURI).href;
      } catch (e) { /* keep the relative URL */ }
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-sg-copy]"), setupCopy);
    addCopyButtons();
    Array.prototype.forEach.call(document.querySelectorAll("[data-sg-wrap]"), setupWrap);
    var install = document.querySelector("[data-sg-install]");
    if (install) setupInstall(install);
    var filters = document.querySelector("[data-sg-filters]");
    if (filters) setupList(filters);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
