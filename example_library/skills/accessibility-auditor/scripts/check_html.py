#!/usr/bin/env python3
"""Static accessibility checks on an HTML file, plus a WCAG contrast calculator.

Usage:
    python3 check_html.py page.html
    python3 check_html.py --contrast "#767676" "#ffffff"

Checks: page language and title, img alt, form control labels, empty links and
buttons, vague link text, heading level skips, positive tabindex, click handlers on
non-interactive elements. Exit code 1 if any issue is found.
"""
from __future__ import annotations

import sys
from html.parser import HTMLParser

VAGUE_LINKS = {"click here", "here", "read more", "more", "link", "learn more"}
NO_LABEL_TYPES = {"hidden", "submit", "button", "reset", "image"}


class Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.issues: list[tuple[int, str, str]] = []
        self.label_for: set[str] = set()
        self.controls: list[tuple[int, dict, bool]] = []
        self.open_named: list[dict] = []  # open a/button elements collecting text
        self.label_depth = 0
        self.last_heading = 0
        self.in_title = False
        self.title = ""
        self.has_html_lang = False

    def add(self, criterion: str, msg: str) -> None:
        self.issues.append((self.getpos()[0], criterion, msg))

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "html" and a.get("lang", "").strip():
            self.has_html_lang = True
        if tag == "title":
            self.in_title = True
        if tag == "img":
            if "alt" not in a and a.get("role") != "presentation":
                self.add("1.1.1", f"img without alt: {a.get('src', '?')}")
            for rec in self.open_named:
                rec["text"] += a.get("alt", "")
        if tag == "label":
            self.label_depth += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        if tag in ("input", "select", "textarea") and a.get("type", "text") not in NO_LABEL_TYPES:
            labelled = bool(self.label_depth or a.get("aria-label") or a.get("aria-labelledby") or a.get("title"))
            self.controls.append((self.getpos()[0], a, labelled))
        if tag in ("a", "button"):
            self.open_named.append({"tag": tag, "attrs": a, "text": "", "line": self.getpos()[0]})
        if len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            level = int(tag[1])
            if self.last_heading and level > self.last_heading + 1:
                self.add("1.3.1", f"heading jumps from h{self.last_heading} to h{level}")
            self.last_heading = level
        tabindex = a.get("tabindex", "").strip()
        if tabindex.lstrip("-").isdigit() and int(tabindex) > 0:
            self.add("2.4.3", f"positive tabindex={tabindex} on {tag}")
        if "onclick" in a and tag in ("div", "span", "li", "td", "img") and not (a.get("role") and "tabindex" in a):
            self.add("2.1.1", f"onclick on {tag} without role and tabindex (not keyboard operable)")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        if tag == "label" and self.label_depth:
            self.label_depth -= 1
        if tag in ("a", "button"):
            for i in range(len(self.open_named) - 1, -1, -1):
                if self.open_named[i]["tag"] == tag:
                    rec = self.open_named.pop(i)
                    self.check_named(rec)
                    break

    def handle_data(self, data):
        if self.in_title:
            self.title += data
        for rec in self.open_named:
            rec["text"] += data

    def check_named(self, rec: dict) -> None:
        a, text = rec["attrs"], " ".join(rec["text"].split())
        name = text or a.get("aria-label", "").strip() or a.get("aria-labelledby", "") or a.get("title", "")
        if not name:
            self.issues.append((rec["line"], "4.1.2", f"{rec['tag']} has no accessible name"))
        elif rec["tag"] == "a" and text.lower() in VAGUE_LINKS and not a.get("aria-label"):
            self.issues.append((rec["line"], "2.4.4", f"vague link text '{text}'"))

    def finish(self) -> None:
        if not self.has_html_lang:
            self.issues.append((1, "3.1.1", "html element has no lang attribute"))
        if not self.title.strip():
            self.issues.append((1, "2.4.2", "page has no title"))
        for line, a, labelled in self.controls:
            if not labelled and a.get("id") not in self.label_for:
                what = a.get("name") or a.get("id") or a.get("type", "text")
                self.issues.append((line, "1.3.1/4.1.2", f"form control '{what}' has no label"))


def luminance(hex_color: str) -> float:
    h = hex_color.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    channels = []
    for i in (0, 2, 4):
        c = int(h[i:i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg: str, bg: str) -> float:
    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--contrast":
        ratio = contrast(sys.argv[2], sys.argv[3])
        verdict = lambda ok: "pass" if ok else "FAIL"  # noqa: E731
        print(f"contrast {ratio:.2f}:1")
        print(f"  normal text (AA 4.5:1): {verdict(ratio >= 4.5)}")
        print(f"  large text and UI components (AA 3:1): {verdict(ratio >= 3.0)}")
        print(f"  normal text (AAA 7:1): {verdict(ratio >= 7.0)}")
        return 0 if ratio >= 4.5 else 1
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    checker = Checker()
    with open(sys.argv[1], encoding="utf-8", errors="replace") as fh:
        checker.feed(fh.read())
    checker.close()
    checker.finish()
    for line, criterion, msg in sorted(checker.issues):
        print(f"line {line:4d}  WCAG {criterion:11} {msg}")
    print(f"\n{len(checker.issues)} issue(s); run the manual keyboard and screen reader checks too")
    return 1 if checker.issues else 0


if __name__ == "__main__":
    sys.exit(main())
