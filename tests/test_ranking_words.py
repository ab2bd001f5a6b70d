"""The word rules under the name bonus (sitegen/search.py): when a query word counts as a word
of an entry's name. Each case sits on a boundary of the rule, so moving a threshold by one
(found by `make mutate`) turns a case red."""

from __future__ import annotations

import pytest

from sitegen.search import QueryError, _same_word, _stem, validate


@pytest.mark.parametrize(
    ("query_word", "name_word", "same"),
    [
        ("plan", "plan", True),
        ("plam", "plan", False),  # under 5 letters: exact only
        ("rules", "rule", True),  # the same stem (a plural), though one edit under 5 letters
        ("rule", "rules", True),
        ("audio", "audit", True),  # 5 letters: one edit allowed
        ("planner", "scanner", False),  # 7 letters: two edits is another word
        ("securely", "security", False),  # 8 letters: still one edit at most
        ("dashbored", "dashboard", True),  # 9 letters and more: two edits
        ("deploys", "deploy", True),
        ("tested", "testing", True),
        ("migrations", "migration", True),
    ],
)
def test_same_word(query_word: str, name_word: str, same: bool) -> None:
    assert _same_word(query_word, name_word) is same
    assert _same_word(name_word, query_word) is same  # the rule is symmetric


@pytest.mark.parametrize(
    ("word", "stem"),
    [
        ("rules", "rule"),  # "es" would leave 3 letters: too short, so "s"
        ("things", "thing"),  # "ings" and "ing" would leave 2 and 3 letters
        ("migrations", "migr"),
        ("reviewers", "review"),
        ("plans", "plan"),
        ("bus", "bus"),  # a stem keeps at least 4 letters
        ("access", "acces"),
    ],
)
def test_stem_keeps_four_letters(word: str, stem: str) -> None:
    assert _stem(word) == stem


@pytest.mark.parametrize(
    ("kind", "limit", "max_distance"),
    [("all", 1, 0.0), ("roles", 100, 2.0), ("skills", 5, 0.8)],
)
def test_validate_accepts_its_boundaries(kind: str, limit: int, max_distance: float) -> None:
    assert validate("  find \t my\nplan  ", kind, limit, max_distance) == "find my plan"


@pytest.mark.parametrize(
    ("query", "kind", "limit", "max_distance", "param"),
    [
        ("", "all", 5, 0.8, "query"),
        (" \n", "all", 5, 0.8, "query"),
        ("x", "agents", 5, 0.8, "type"),
        ("x", "all", 0, 0.8, "limit"),
        ("x", "all", 101, 0.8, "limit"),
        ("x", "all", 5, -0.001, "max_distance"),
        ("x", "all", 5, 2.001, "max_distance"),
        ("x", "all", 5, float("nan"), "max_distance"),
    ],
)
def test_validate_names_the_parameter(
    query: str, kind: str, limit: int, max_distance: float, param: str
) -> None:
    with pytest.raises(QueryError) as info:
        validate(query, kind, limit, max_distance)
    assert info.value.param == param and str(info.value).startswith(f"{param}: ")
