/* sitegen: list filtering, copy buttons, absolute install URLs. No dependencies, no network.
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

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
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

  function setupCopy(button) {
    var target = document.getElementById(button.getAttribute("data-sg-copy") || "");
    if (!target) return;
    var container = button.closest(".sg-snippet");
    var status = container ? container.querySelector(".sg-copy-status") : null;
    button.addEventListener("click", function () {
      copyText(target.textContent || "").then(
        function () { if (status) status.textContent = "Copied to the clipboard."; },
        function () { if (status) status.textContent = "Could not copy; select the text instead."; }
      );
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-sg-absolute]"), function (el) {
      try {
        el.textContent = new URL(el.getAttribute("data-sg-absolute") || "", document.baseURI).href;
      } catch (e) { /* keep the relative URL */ }
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-sg-copy]"), setupCopy);
    var filters = document.querySelector("[data-sg-filters]");
    if (filters) setupList(filters);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
