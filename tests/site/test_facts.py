"""Facts of an entry's files."""

from __future__ import annotations

from sitegen.site import is_text


def test_text_detection() -> None:
    assert is_text(b"hello\n") and is_text("héllo".encode())
    assert not is_text(b"\x00\x01binary") and not is_text("x".encode("utf-16"))
