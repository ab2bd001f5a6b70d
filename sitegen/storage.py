"""Facts about an fsspec filesystem that several rooms ask: the protocols it answers to and
whether it is this machine's disk. Kept in one place so they are answered one way."""

from __future__ import annotations

import fsspec


def protocols(fs: fsspec.AbstractFileSystem) -> tuple[str, ...]:
    """fsspec gives a protocol as one string or as a tuple of aliases; here always a tuple."""
    protocol = fs.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)


def is_local(fs: fsspec.AbstractFileSystem) -> bool:
    return "file" in protocols(fs)
