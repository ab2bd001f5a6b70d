"""`sitegen install`, `installed` and `update`: put a catalog's entries where agents read them.

An install fetches the entry's zip from the catalog, checks its sha256 against the digest the
catalog vouches for, checks every member (no path that escapes the target, no symlink or
special file, no duplicate, a bounded size), and only then writes: into a temporary folder
beside the target, swapped in with a rename. Any refusal writes nothing.

What was installed (from which catalog, at which digest, each file's sha256) is recorded in a
small JSON registry, so `installed` can tell an unmodified copy from one with local edits and
from one the catalog has since replaced, and `update` replaces only unmodified copies.

One module per job: :mod:`.archive` (digest and member checks), :mod:`.folders` (where an
entry lands, its state on disk, the atomic write), :mod:`.registry` (installs.json),
:mod:`.installer` (`install`), :mod:`.installed` (`installed`, `update`).
"""

from sitegen.install.archive import InstallRefused
from sitegen.install.installed import Status, UpdateOutcome, statuses, update
from sitegen.install.installer import InstallResult, install
from sitegen.install.registry import Record, Registry

__all__ = [
    "InstallRefused",
    "InstallResult",
    "Record",
    "Registry",
    "Status",
    "UpdateOutcome",
    "install",
    "statuses",
    "update",
]
