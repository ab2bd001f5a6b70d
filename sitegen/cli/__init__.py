"""The command line: parse options, call one function in `sitegen.commands`, print the result.

Errors are caught in one place (:class:`.group.SitegenGroup`): every
:class:`~sitegen.errors.SitegenError` becomes one line on stderr and its exit code (1 problems
found, 2 something named cannot be used); anything else is a bug, still one line unless
`SITEGEN_DEBUG=1` asks for the traceback. Imports of the rooms are inside the commands so a
cold `sitegen match` loads only what matching needs.

Rooms: :mod:`.group` (the click group, the error boundary, :func:`main`), :mod:`.options`
(how options are spelt), :mod:`.output` (how results are printed), and the commands by
family: :mod:`.library`, :mod:`.search`, :mod:`.site`, :mod:`.agents`.
"""

from __future__ import annotations

# Importing the command modules registers their commands on the group.
from sitegen.cli import agents, library, search, site  # noqa: F401
from sitegen.cli.group import cli, main

__all__ = ["cli", "main"]
