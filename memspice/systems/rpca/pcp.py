"""Batch reference: principal component pursuit by the inexact augmented Lagrange multiplier method.

Principal component pursuit (Candes, Li, Ma & Wright, "Robust principal
component analysis?", J. ACM 58, 11, 2011, Eq. 1.1):

    minimise ||L||_* + lambda ||S||_1   subject to   L + S = M,

with lambda = 1/sqrt(max(D, F)) (their Theorem 1.1), solved by the inexact
ALM iteration they use in Sec. 5 (Lin, Chen & Ma, arXiv:1009.5055, 2010):

    L = D_{1/mu}(M - S + Y/mu)      (singular-value thresholding)
    S = S_{lambda/mu}(M - L + Y/mu) (soft thresholding)
    Y = Y + mu (M - L - S),  mu = min(rho mu, mu_max)

from mu = 1.25/||M||_2, rho = 1.5, stopping when ||M - L - S||_F <= tol ||M||_F.
The whole clip is one D x F matrix (one column per frame), so this is the
offline upper reference for the online algorithm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class PCPResult:
    """Low-rank ``L`` and sparse ``S`` parts (same shape as the input), iterations, final relative residual."""

    low_rank: np.ndarray
    sparse: np.ndarray
    iterations: int
    residual: float
    rank: int


def principal_component_pursuit(
    M, lam: float | None = None, tol: float = 1e-7, max_iter: int = 500, rho: float = 1.5
) -> PCPResult:
    """Decompose ``M`` (D, F) into low-rank plus sparse parts (see the module docstring).

    Matrices up to 4e6 entries run their SVDs on one BLAS thread (threads
    only contend at these sizes on a busy machine).
    """
    M = np.asarray(M, float)
    if M.size <= 4_000_000:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover
            return _pcp(M, lam, tol, max_iter, rho)
        with threadpool_limits(1):
            return _pcp(M, lam, tol, max_iter, rho)
    return _pcp(M, lam, tol, max_iter, rho)


def _pcp(M, lam, tol, max_iter, rho) -> PCPResult:
    M = np.asarray(M, float)
    if M.ndim != 2 or 0 in M.shape:
        raise ValueError(f"M must be a non-empty 2-D matrix, got shape {M.shape}")
    if not np.all(np.isfinite(M)):
        raise ValueError("M contains NaN or inf")
    if not (tol > 0 and rho > 1 and isinstance(max_iter, int) and max_iter >= 1):
        raise ValueError(f"need tol > 0, rho > 1 and max_iter >= 1, got {tol!r}, {rho!r}, {max_iter!r}")
    lam = 1.0 / np.sqrt(max(M.shape)) if lam is None else float(lam)
    if not lam > 0:
        raise ValueError(f"lam must be > 0, got {lam!r}")
    norm_fro = np.linalg.norm(M)
    if norm_fro == 0:
        return PCPResult(np.zeros_like(M), np.zeros_like(M), 0, 0.0, 0)
    norm_two = np.linalg.norm(M, 2)
    Y = M / max(norm_two, np.max(np.abs(M)) / lam)  # dual initialisation of Lin et al.
    mu, mu_max = 1.25 / norm_two, 1.25 / norm_two * 1e7
    L, S = np.zeros_like(M), np.zeros_like(M)
    rank, residual = 0, 1.0
    it = 0
    while it < max_iter:
        it += 1
        U, sig, Vt = np.linalg.svd(M - S + Y / mu, full_matrices=False)
        keep = sig > 1.0 / mu
        rank = int(keep.sum())
        L = (U[:, keep] * (sig[keep] - 1.0 / mu)) @ Vt[keep]
        T = M - L + Y / mu
        S = np.sign(T) * np.maximum(np.abs(T) - lam / mu, 0.0)
        Z = M - L - S
        Y = Y + mu * Z
        mu = min(mu * rho, mu_max)
        residual = float(np.linalg.norm(Z) / norm_fro)
        if residual <= tol:
            break
    return PCPResult(L, S, it, residual, rank)
