"""What `make mutate` mutates, and which tests judge each module.

Each target is a module whose behaviour matters most (issue 17), with the tests that exercise
it: only those run for its mutants, so a run fits the machine. Add a module here, not a flag.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    name: str  # what `make mutate MODULES=...` and the score table call it
    files: tuple[str, ...]  # source files mutated, relative to the project root
    tests: tuple[str, ...]  # pytest node ids run against every mutant (fastest killers first)
    timeout: float = 300.0  # seconds per mutant before it counts as killed (a hang)


TARGETS: tuple[Target, ...] = (
    Target(
        "search",
        ("sitegen/search.py",),
        (
            "tests/test_ranking_words.py",
            "tests/test_match.py",
            "tests/test_quality.py",
            "tests/test_cli.py::test_every_option_has_help_and_every_flag_is_in_the_readme",
            "tests/test_cli.py::test_the_readme_usage_shows_the_real_defaults",
        ),
    ),
    Target(
        "library",
        (
            "sitegen/library/store.py",
            "sitegen/library/entries.py",
            "sitegen/library/files.py",
            "sitegen/library/discover.py",
            "sitegen/library/selection.py",
            "sitegen/library/model.py",
        ),
        (
            "tests/test_library.py",
            "tests/test_layouts.py",
            "tests/test_cli_check.py",
            "tests/test_config.py",
            "tests/test_entry.py",
            "tests/test_dates.py",
            "tests/test_spec_oracle.py",
            "tests/test_indexer.py",
        ),
    ),
    Target(
        "indexer",
        ("sitegen/indexer.py",),
        (
            "tests/test_indexer.py",
            "tests/test_dates.py",
            "tests/test_entry.py",
            "tests/test_exit_codes.py",
            "tests/test_corrupt_index.py",
        ),
    ),
    Target(
        "metastore",
        (
            "sitegen/metastore/session.py",
            "sitegen/metastore/duckdb_engine.py",
            "sitegen/metastore/loader.py",
            "sitegen/metastore/validate.py",
            "sitegen/metastore/persist.py",
        ),
        (
            "tests/test_metastore.py",
            "tests/test_vectors.py",
            "tests/test_dates.py",
            "tests/test_corrupt_index.py",
            "tests/test_indexer.py",
        ),
    ),
    Target(
        "cli",
        (
            "sitegen/errors.py",
            "sitegen/cli/group.py",
            "sitegen/cli/options.py",
            "sitegen/cli/output.py",
            "sitegen/cli/library.py",
            "sitegen/cli/search.py",
            "sitegen/cli/site.py",
            "sitegen/cli/agents.py",
            "sitegen/commands/library.py",
            "sitegen/commands/build.py",
            "sitegen/commands/check.py",
        ),
        (
            "tests/test_cli.py",
            "tests/test_cli_outputs.py",
            "tests/test_cli_check.py",
            "tests/test_exit_codes.py",
            "tests/test_cli_build.py",
            "tests/test_install.py",
            "tests/test_quality.py::test_collisions_clean_on_example_and_found_in_a_colliding_library",
            "tests/test_corrupt_index.py::test_corrupt_index_is_reported_and_repaired_by_index"
            "[parquet zero bytes]",
        ),
    ),
    Target(
        "server",
        (
            "sitegen/server/api.py",
            "sitegen/server/live.py",
            "sitegen/server/cache.py",
            "sitegen/server/middleware.py",
        ),
        (
            "tests/test_server.py",
            "tests/test_server_hardening.py",
            "tests/test_server_site.py",
            "tests/test_serve_site_index.py",
            "tests/test_server_openapi.py",
            "tests/test_server_batcher.py",
            "tests/test_server_command.py",
            "tests/test_corrupt_index.py::test_corrupt_index_is_reported_and_repaired_by_index"
            "[pointer zero bytes]",
        ),
    ),
    Target(
        "publish",
        ("sitegen/publish/local.py", "sitegen/publish/common.py", "sitegen/generations.py"),
        (
            "tests/test_generations.py",
            "tests/test_publish.py",
            "tests/test_metastore.py",
            "tests/test_corrupt_index.py",
        ),
    ),
)

# Operators kept: one meaningful change per site, as a person would make it (a boundary moved,
# a condition negated, a constant nudged, a loop skipped, an error left uncaught). Cosmic Ray's
# other operators replace every operator by every other one, which multiplies mutants (and run
# time) without finding different weaknesses.
OPERATORS = (
    r"core/ReplaceComparisonOperator_(Lt_LtE|LtE_Lt|Gt_GtE|GtE_Gt|Eq_NotEq|NotEq_Eq)$",
    r"core/ReplaceComparisonOperator_(Is_IsNot|IsNot_Is|In_NotIn|NotIn_In)$",
    r"core/ReplaceBinaryOperator_(Add_Sub|Sub_Add|Mul_Div|Div_Mul)$",
    r"core/ReplaceUnaryOperator_(USub_UAdd|Delete_Not)$",
    r"core/(AddNot|ReplaceTrueWithFalse|ReplaceFalseWithTrue|ReplaceAndWithOr|ReplaceOrWithAnd)$",
    r"core/(ReplaceBreakWithContinue|ReplaceContinueWithBreak|NumberReplacer)$",
    r"core/(ZeroIterationForLoop|ExceptionReplacer)$",
)
