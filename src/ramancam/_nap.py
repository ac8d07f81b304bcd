"""Nuisance attribute projection for the ``hqi-nap`` novelty score (:mod:`ramancam.novelty`).

Spectra of one substance differ from each other in a few recurring ways (a background that
the baseline step left, a biofilm's bands over a polymer, a crystal's orientation changing
band ratios). A spectrum of an unknown substance that shares such a difference with some
training spectrum correlates with it better than its chemistry deserves. The score therefore
removes, before the comparison, the ``k`` directions along which the training spectra of
one class spread the most (the top eigenvectors of the pooled within-class scatter of the
derivative rows; Solomonoff et al. 2005 did the same for speaker verification).

Leave-one-out scores must refit those directions without the left-out spectrum (or group):
fitted with it, they would remove its own peculiarity and make it look familiar. Removing a
set ``G`` of rows changes the within-class scatter ``S`` by a low-rank term,

    S_{-G} = S - sum_{i in G} w_i w_i^T - sum_c s_c s_c^T / (n_c - g_c),

with ``w_i`` a row's difference from its class mean, ``s_c`` the sum of the removed rows'
``w_i`` of class ``c`` (``n_c`` rows, ``g_c`` removed), so every refit is an eigenproblem of
a diagonal matrix minus a few rank-one terms in the eigenbasis of ``S``: exact, and cheap.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: Directions removed: the best of 0-4 or within 0.004 AUROC of it on six measured sets, and
#: better than a number chosen per set inside training (docs/novelty.md, ``--nap-k``).
NAP_K = 2
#: Eigenvalues below this share of the largest count as zero (rank of the scatter).
_RANK_TOL = 1e-10
#: Largest basis solved densely in a refit; larger ones by ARPACK (``eigsh``).
_DENSE_MAX = 100
#: Rows x training spectra of one batch of refits' dot products (32 MB of float64), see
#: :func:`loo_similarities`.
_BATCH_CELLS = 1 << 22


def _scatter_basis(W: NDArray[np.float64]) -> tuple[NDArray[np.float64],
                                                     NDArray[np.float64],
                                                     NDArray[np.float64]]:
    """``(basis, eigenvalues, coords)`` of the within-class scatter ``W.T @ W``: ``basis``
    (p x r) orthonormal, eigenvalues (r,) descending and positive, and each row's
    coordinates (n x r), ``W = coords @ basis.T``."""
    n, p = W.shape
    gram = n <= p  # through the n x n Gram matrix, else the p x p scatter itself
    lam, vecs = np.linalg.eigh(W @ W.T if gram else W.T @ W)
    keep = lam > _RANK_TOL * max(float(lam.max(initial=0.0)), 1e-300)
    lam, vecs = lam[keep][::-1], vecs[:, keep][:, ::-1]  # descending, rank r
    if gram:
        basis, coords = (W.T @ vecs) / np.sqrt(lam), vecs * np.sqrt(lam)
    else:
        basis, coords = vecs, W @ vecs
    return np.ascontiguousarray(basis), lam, coords


def _within(D: NDArray[np.float64], y: NDArray[np.intp]
            ) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """Each row's difference from its class mean, and the class sizes."""
    classes, inv, counts = np.unique(y, return_inverse=True, return_counts=True)
    sums = np.zeros((classes.size, D.shape[1]))
    np.add.at(sums, inv, D)
    return D - (sums / counts[:, None])[inv], counts[inv]


def nuisance_directions(D: NDArray[np.float64], y: NDArray[Any], k: int = NAP_K
                        ) -> NDArray[np.float64]:
    """The ``k`` directions (rows, orthonormal) of the largest within-class scatter of the
    rows ``D`` with classes ``y``; fewer when the scatter's rank is smaller (none for one
    spectrum per class)."""
    W, _ = _within(np.asarray(D, dtype=np.float64), np.asarray(y))
    basis, _, _ = _scatter_basis(W)
    return np.ascontiguousarray(basis[:, :k].T)


def project(rows: NDArray[np.float64], V: NDArray[np.float64]) -> NDArray[np.float64]:
    """``rows`` with the directions ``V`` (k x p, orthonormal) removed, each scaled to unit
    length again (a row left with nothing stays zero)."""
    R = np.asarray(rows, dtype=np.float64)
    if V.shape[0]:  # einsum, not BLAS: a row's result does not depend on the batch it is in
        R = R - np.einsum("ik,kj->ij", np.einsum("ij,kj->ik", R, V), V)
    norm = np.linalg.norm(R, axis=1, keepdims=True)
    return np.asarray(R / np.where(norm > 1e-12, norm, np.inf))


def _top(lam: NDArray[np.float64], B: NDArray[np.float64], k: int) -> NDArray[np.float64]:
    """Top ``k`` eigenvectors (columns) of ``diag(lam) - B @ B.T``."""
    r = lam.size
    if r <= max(_DENSE_MAX, k + 1):
        vals, vecs = np.linalg.eigh(np.diag(lam) - B @ B.T)
        return np.asarray(vecs[:, np.argsort(vals)[::-1][:k]])
    from scipy.sparse.linalg import LinearOperator, eigsh

    op = LinearOperator((r, r), matvec=lambda x: lam * x.ravel() - B @ (B.T @ x.ravel()),
                        dtype=np.float64)
    v0 = np.ones(r) / np.sqrt(r)  # deterministic start
    vals, vecs = eigsh(op, k=k, which="LA", v0=v0, tol=1e-12)
    return np.asarray(vecs[:, np.argsort(vals)[::-1]])


def loo_similarities(D: NDArray[np.float64], y: NDArray[Any],
                     units: Iterable[NDArray[np.intp]], k: int = NAP_K
                     ) -> Iterator[tuple[NDArray[np.intp], NDArray[np.float64]]]:
    """For each unit (the indices of the rows left out together), the similarity of each of
    its rows to every row, after projecting out the nuisance directions refitted without the
    unit: ``(rows, similarities)`` pairs, similarities of shape (len(rows), n), in the units'
    order (similarities with the unit's own rows included; the caller masks them). A unit
    too large for one batch comes in several pairs of consecutive rows, so that memory
    stays bounded whatever the groups' sizes."""
    D = np.asarray(D, dtype=np.float64)
    y = np.asarray(y)
    n = D.shape[0]
    W, n_c = _within(D, y)
    basis, lam, Z = _scatter_basis(W)
    DB = D @ basis  # every row's coordinates in the scatter's basis
    norm2 = np.einsum("ij,ij->i", D, D)
    k = min(k, lam.size)
    step = max(1, _BATCH_CELLS // max(n, 1))  # rows per pair of a large unit
    for batch in _batches(units, n, k):
        # One matrix product for a batch of units instead of one pass over D and DB per
        # unit (which made the refits memory-bound): their rows' dot products with every
        # row, and every row's coordinates on each unit's refitted directions.
        rows_all = np.concatenate(batch)
        dots_all = D[rows_all] @ D.T if rows_all.size <= step else None
        tops = [_top(lam, _downdate(Z, y, n_c, unit), k) for unit in batch] if k else []
        C_all = DB @ np.hstack(tops) if k else np.zeros((n, 0))
        start = 0
        for j, unit in enumerate(batch):
            C = C_all[:, j * k:(j + 1) * k]
            nr = np.sqrt(np.maximum(norm2 - np.einsum("ij,ij->i", C, C), 0.0))
            nr = np.where(nr > 1e-12, nr, np.inf)
            for a in range(0, unit.size, step):
                rows = unit[a:a + step]
                dots = (dots_all[start + a:start + a + rows.size] if dots_all is not None
                        else D[rows] @ D.T) - C[rows] @ C.T
                yield rows, dots / (nr[rows, None] * nr[None, :])
            start += unit.size


def _batches(units: Iterable[NDArray[np.intp]], n: int, k: int
             ) -> Iterator[list[NDArray[np.intp]]]:
    """The units in consecutive batches whose rows (and ``k`` directions each) times ``n``
    stay within :data:`_BATCH_CELLS`; a larger unit is a batch of its own."""
    batch: list[NDArray[np.intp]] = []
    cells = 0
    for unit in units:
        unit = np.asarray(unit, dtype=np.intp)
        size = (unit.size + k) * n
        if batch and cells + size > _BATCH_CELLS:
            yield batch
            batch, cells = [], 0
        batch.append(unit)
        cells += size
    if batch:
        yield batch


def _downdate(Z: NDArray[np.float64], y: NDArray[Any], n_c: NDArray[np.intp],
              unit: NDArray[np.intp]) -> NDArray[np.float64]:
    """The columns ``B`` of the scatter's low-rank change when ``unit`` is left out, in its
    eigenbasis: ``S_{-unit} = diag(lam) - B @ B.T`` (the module docstring's terms)."""
    cols = [Z[unit]]
    for c in np.unique(y[unit]):
        members = unit[y[unit] == c]
        left = int(n_c[members[0]]) - members.size
        if left > 0:  # the class mean moves: one more rank-one term
            cols.append(Z[members].sum(axis=0, keepdims=True) / np.sqrt(left))
    return np.vstack(cols).T
