"""Derived tags with the real prepared model and the shipped Persona taxonomy."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from sitegen.embedder import DIM, Embedder, EmbedderError
from sitegen.indexer import embedding_text
from sitegen.library import Library
from sitegen.taxonomy import RULES, Taxonomy, load_taxonomy, read_keywords, tag_of
from tests.conftest import EXAMPLE_LIBRARY


@pytest.fixture(scope="module")
def taxonomy(embedder: Embedder) -> Taxonomy:
    return load_taxonomy(embedder.model_dir)


def _row(taxonomy: Taxonomy, name: str) -> int:
    return taxonomy.tags.index(tag_of(name))


def test_every_keyword_is_embedded_with_the_prepared_model(
    embedder: Embedder, taxonomy: Taxonomy
) -> None:
    keywords = read_keywords()
    assert len(keywords) == len(taxonomy.tags) == 2241
    assert taxonomy.vectors.shape == (2241, DIM)
    assert set(taxonomy.facets) == set(RULES)
    np.testing.assert_allclose(np.linalg.norm(taxonomy.vectors, axis=1), 1.0, atol=1e-5)
    sample = keywords[::97]
    fresh = embedder.embed([k.context for k in sample])
    stored = taxonomy.vectors[::97]
    # The same model now and at preparation (batches differ, so int8 rounding may too).
    assert float(np.sum(fresh * stored, axis=1).min()) > 0.99


def test_example_entries_get_the_tags_a_person_would_pick(
    embedder: Embedder, taxonomy: Taxonomy
) -> None:
    entries = {e.name: e for e in Library(EXAMPLE_LIBRARY).read().entries}
    names = ["data-privacy-officer", "dockerfile-hardener", "support-ticket-triager"]
    vectors = embedder.embed([embedding_text(entries[n]) for n in names])
    privacy, docker, support = taxonomy.derive_tags(vectors)
    assert "gdpr" in privacy
    assert "hadolint" in docker
    assert "customer-support" in support
    for tags in (privacy, docker, support):
        assert len(tags) == len(set(tags)) <= sum(rule.top for rule in RULES.values())
        assert set(tags) <= set(taxonomy.tags)


def test_a_keywords_own_vector_puts_it_first(taxonomy: Taxonomy) -> None:
    row = _row(taxonomy, "Terraform")
    assert taxonomy.facets[row] == "Technology"
    (tags,) = taxonomy.derive_tags(taxonomy.vectors[row])
    assert tags[0] == "terraform"


def test_two_technologies_in_one_vector_are_both_kept_best_first(taxonomy: Taxonomy) -> None:
    a, b = _row(taxonomy, "Terraform"), _row(taxonomy, "Kubernetes")
    mixed = 0.6 * taxonomy.vectors[a] + 0.4 * taxonomy.vectors[b]
    (tags,) = taxonomy.derive_tags(mixed / np.linalg.norm(mixed))
    assert tags.index("terraform") < tags.index("kubernetes")


def test_nothing_clears_the_floors_of_an_empty_vector(taxonomy: Taxonomy) -> None:
    assert taxonomy.derive_tags(np.zeros((2, DIM), dtype=np.float32)) == [(), ()]


def test_tags_follow_the_library_convention() -> None:
    assert tag_of("Site Reliability Engineering") == "site-reliability-engineering"
    assert tag_of("Rapid Application  Developer") == "rapid-application-developer"
    assert tag_of("CI/CD") == "ci/cd"


def test_a_folder_without_taxonomy_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EmbedderError, match="sitegen prepare") as info:
        load_taxonomy(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_a_keyword_of_an_unknown_facet_names_its_line() -> None:
    rows = [
        {"name": "Go", "facet": "Technology", "context": "a language"},
        {"name": "X", "facet": "Vibes", "context": "?"},
    ]
    data = gzip.compress("\n".join(json.dumps(r) for r in rows).encode())
    with pytest.raises(ValueError, match="kw_all.jsonl.gz:2"):
        read_keywords(data)
