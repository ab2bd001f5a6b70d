"""What each command does, apart from parsing and printing (as MkDocs' `commands/`).

`sitegen.cli` turns flags into arguments and results into lines; the functions here open
what a command names (library, index, model, catalog), call the rooms that do the work, and
raise :class:`sitegen.errors.SitegenError` for anything the user has to act on. They print
nothing themselves: progress and problem lines go through callbacks the CLI hands in.
"""
