"""One error base for the whole package, so the CLI maps failures to exit codes in one place.

Every module's user-facing error subclasses :class:`SitegenError`; its message is one line that
names the file, folder or parameter at fault. ``exit_code`` follows the README: 1 when problems
were found (invalid entries, a failed build, quality below a gate), 2 when the library, model
or an option cannot be used at all.
"""

from __future__ import annotations


class SitegenError(Exception):
    """A failure the user can act on; the message is one line."""

    exit_code: int = 1


class UsageError(SitegenError):
    """Something the user named cannot be used (no such library, bad option, unusable model)."""

    exit_code = 2
