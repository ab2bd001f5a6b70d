"""Neighbours in embedding space: one blocked cosine scan for similar entries and collisions.

Both the entry pages' "similar" lists and the collision report (maintainers page,
``check --collisions``) compare every entry with every other. They share one scan that works
in blocks of rows, so 20,000 entries never build a 20,000 x 20,000 matrix at once.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

BLOCK = 1024


def normalized(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.size == 0:
        return matrix.reshape(len(matrix), -1)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True).astype(np.float32)
    return (matrix / np.where(norms == 0, np.float32(1), norms)).astype(np.float32)


def similarity_blocks(matrix: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """(first row, cosine similarities of a block of rows against every row), block by block.

    ``matrix`` holds unit rows. The diagonal of each block (a row against itself) is set to
    -inf, so no row is ever its own neighbour.
    """
    count = len(matrix)
    for start in range(0, count, BLOCK):
        block = matrix[start : start + BLOCK] @ matrix.T
        rows = np.arange(block.shape[0])
        block[rows, start + rows] = -np.inf
        yield start, block


def nearest(matrix: np.ndarray, limit: int, max_distance: float) -> list[list[tuple[int, float]]]:
    """For every row, up to ``limit`` other rows within ``max_distance`` (cosine distance),
    closest first; ties break by row index, so callers that order rows get stable results."""
    count = len(matrix)
    out: list[list[tuple[int, float]]] = [[] for _ in range(count)]
    if count < 2:
        return out
    k = min(limit, count - 1)
    for start, block in similarity_blocks(matrix):
        picked = np.argpartition(-block, k - 1, axis=1)[:, :k]
        scores = np.take_along_axis(block, picked, axis=1)
        order = np.lexsort((picked, -scores), axis=-1)
        picked = np.take_along_axis(picked, order, axis=1)
        distances = (1.0 - np.take_along_axis(scores, order, axis=1)).tolist()
        for offset, row in enumerate(picked.tolist()):
            out[start + offset] = [
                (j, max(d, 0.0))
                for j, d in zip(row, distances[offset], strict=True)
                if d <= max_distance and j != start + offset
            ]
    return out


def pairs_within(matrix: np.ndarray, max_distance: float) -> list[tuple[int, int, float]]:
    """Every pair of rows (i < j) within ``max_distance`` (cosine distance)."""
    found: list[tuple[int, int, float]] = []
    for start, block in similarity_blocks(matrix):
        rows, cols = np.nonzero(1.0 - block <= max_distance)
        for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
            i = start + row
            if col > i:
                found.append((i, col, max(1.0 - float(block[row, col]), 0.0)))
    return found
