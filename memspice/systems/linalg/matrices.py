"""Test matrices for the analog linear-algebra systems, and a user's matrix from a file.

Generators (every one seeded where random, all returning float64 scipy CSR or dense arrays):

* :func:`poisson_1d`, :func:`poisson_2d`: finite-difference Laplacians with Dirichlet boundaries
  (integer stencils);
* :func:`diffusion_2d`: variable-coefficient diffusion -div(k grad u) with a lognormal random
  coefficient field (non-integer entries, SPD);
* :func:`random_spd`: dense SPD with a prescribed 2-norm condition number;
* :func:`sample_covariance`: sample covariance of factor-model data (the dense covariance matrices of
  Le Gallo et al., "Mixed-precision in-memory computing", Nat. Electron. 1, 246, 2018; their data are
  not reproduced here, the generator is an assumption);
* :func:`kms_covariance`: the exponentially decaying model covariance a_ij = rho^|i-j|
  (Kac-Murdock-Szego);
* :func:`graph_laplacian`: a random geometric graph's weighted Laplacian plus a diagonal shift.

:func:`load_matrix` reads ``.npz`` (scipy sparse, or one dense array), ``.npy`` (dense) and
MatrixMarket ``.mtx`` and checks it (square, finite, and SPD when asked), naming the problem.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import scipy.io
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg as spla

#: matrix file suffixes :func:`load_matrix` reads
MATRIX_SUFFIXES = (".npz", ".npy", ".mtx")
#: relative asymmetry max|A - A^T| / max|A| above which a matrix counts as non-symmetric
SYMMETRY_TOL = 1e-12
#: largest order whose SPD check and condition number use dense LAPACK (above: sparse eigensolvers)
DENSE_LIMIT = 4000


def _order(n, name="n", lo=2) -> int:
    if not (isinstance(n, (int, np.integer)) and n >= lo):
        raise ValueError(f"{name} must be an integer >= {lo}, got {n!r}")
    return int(n)


def poisson_1d(n: int) -> sp.csr_matrix:
    """Second-difference matrix tridiag(-1, 2, -1) of order ``n`` (h^2-scaled 1-D Laplacian, Dirichlet)."""
    n = _order(n)
    return sp.diags([-np.ones(n - 1), 2 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1], format="csr")


def poisson_2d(n: int) -> sp.csr_matrix:
    """5-point finite-difference Laplacian on an n x n interior grid with Dirichlet boundaries
    (h^2-scaled: 4 on the diagonal, -1 to each neighbour), n^2 unknowns in natural ordering."""
    n = _order(n)
    tri = sp.diags([-np.ones(n - 1), 4 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1])
    off = sp.diags([-np.ones(n - 1), -np.ones(n - 1)], [-1, 1])
    return (sp.kron(sp.identity(n), tri) + sp.kron(off, sp.identity(n))).tocsr()


def gaussian_source(n: int, center=(0.3, 0.6), width: float = 0.1) -> np.ndarray:
    """Right-hand side h^2 f for a Gaussian charge f on the unit square's n x n interior grid
    (centre and width assumed; any smooth source serves)."""
    n = _order(n)
    h = 1.0 / (n + 1)
    s = np.arange(1, n + 1) * h
    X, Y = np.meshgrid(s, s)
    return (h**2 * np.exp(-((X - center[0]) ** 2 + (Y - center[1]) ** 2) / width**2)).ravel()


def _smooth_field(n: int, rng, correlation: float) -> np.ndarray:
    """Gaussian random field on an n x n grid, unit variance, correlation length ``correlation`` (grid units)."""
    white = rng.standard_normal((n, n))
    k = np.fft.fftfreq(n)
    kx, ky = np.meshgrid(k, k)
    spectrum = np.exp(-((kx**2 + ky**2) * (math.pi * correlation) ** 2))
    field = np.real(np.fft.ifft2(np.fft.fft2(white) * np.sqrt(spectrum)))
    return (field - field.mean()) / (field.std() or 1.0)


def diffusion_2d(n: int, contrast: float = 100.0, seed: int = 0, correlation: float = 4.0) -> sp.csr_matrix:
    """Cell-centred finite-volume -div(k grad u) on an n x n grid, Dirichlet boundaries, h^2-scaled.

    The coefficient k is lognormal: exp of a smooth Gaussian field scaled so max k / min k ~ ``contrast``
    (assumed 100, a typical heterogeneous-medium test); face coefficients are harmonic means of the two
    cells, boundary faces use the cell's own k with a half-cell distance (factor 2).  SPD, non-integer entries.
    """
    n = _order(n)
    if not (math.isfinite(contrast) and contrast >= 1):
        raise ValueError(f"contrast must be >= 1, got {contrast!r}")
    f = _smooth_field(n, np.random.default_rng(seed), correlation)
    span = float(f.max() - f.min()) or 1.0
    k = np.exp((f - f.min()) / span * math.log(contrast))
    idx = np.arange(n * n).reshape(n, n)
    rows, cols, vals = [], [], []
    diag = np.zeros((n, n))
    for axis in (0, 1):
        a = k.take(range(n - 1), axis=axis)
        b = k.take(range(1, n), axis=axis)
        face = 2 * a * b / (a + b)
        i = idx.take(range(n - 1), axis=axis).ravel()
        j = idx.take(range(1, n), axis=axis).ravel()
        rows += [i, j]
        cols += [j, i]
        vals += [-face.ravel(), -face.ravel()]
        lo = (slice(0, n - 1), slice(None)) if axis == 0 else (slice(None), slice(0, n - 1))
        hi = (slice(1, n), slice(None)) if axis == 0 else (slice(None), slice(1, n))
        diag[lo] += face
        diag[hi] += face
        first = (0, slice(None)) if axis == 0 else (slice(None), 0)
        last = (n - 1, slice(None)) if axis == 0 else (slice(None), n - 1)
        diag[first] += 2 * k[first]  # boundary faces: half a cell to the wall
        diag[last] += 2 * k[last]
    rows.append(idx.ravel())
    cols.append(idx.ravel())
    vals.append(diag.ravel())
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n * n, n * n))


def _orthogonal(n: int, rng) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def random_spd(n: int, condition: float, seed: int = 0) -> np.ndarray:
    """Dense SPD Q diag(lambda) Q^T, Q Haar-random, eigenvalues log-spaced from 1 down to 1 / ``condition``."""
    n = _order(n)
    if not (math.isfinite(condition) and condition >= 1):
        raise ValueError(f"condition must be >= 1, got {condition!r}")
    q = _orthogonal(n, np.random.default_rng(seed))
    lam = np.logspace(0, -math.log10(condition), n)
    a = (q * lam) @ q.T
    return (a + a.T) / 2


def sample_covariance(n: int, samples: int | None = None, factors: int = 5, seed: int = 0) -> np.ndarray:
    """Sample covariance of ``samples`` observations of ``n`` variables from a factor model (dense SPD).

    Data = (few strong latent factors) + independent noise with variable-specific scales (assumed: 5 factors
    with loadings ~ N(0, 1), noise scales uniform in [0.5, 1.5], samples = 4 n): the correlated-variables
    covariance matrices of data analytics.  Its spectrum: a few large eigenvalues over a Marchenko-Pastur bulk.
    """
    n = _order(n)
    samples = 4 * n if samples is None else _order(samples, "samples")
    if samples <= n:
        raise ValueError(f"samples must exceed n ({n}) for a positive definite sample covariance, got {samples}")
    rng = np.random.default_rng(seed)
    loadings = rng.standard_normal((factors, n))
    data = rng.standard_normal((samples, factors)) @ loadings + rng.standard_normal((samples, n)) * rng.uniform(
        0.5, 1.5, n
    )
    c = np.cov(data, rowvar=False)
    return (c + c.T) / 2


def kms_covariance(n: int, rho: float = 0.9) -> np.ndarray:
    """Kac-Murdock-Szego model covariance a_ij = rho^|i - j| (dense SPD for |rho| < 1).

    Its condition number approaches ((1 + rho) / (1 - rho))^2 for large n."""
    n = _order(n)
    if not (math.isfinite(rho) and abs(rho) < 1):
        raise ValueError(f"rho must be in (-1, 1), got {rho!r}")
    i = np.arange(n)
    return rho ** np.abs(i[:, None] - i[None, :])


def graph_laplacian(n: int, shift: float = 0.01, degree: float = 6.0, seed: int = 0) -> sp.csr_matrix:
    """Weighted Laplacian of a random geometric graph on ``n`` points of the unit square, plus ``shift`` times
    the mean weighted degree on the diagonal (SPD).  Edges join points closer than the radius giving mean
    degree ``degree``; weights uniform in [0.5, 2] (assumed).  A graph that is not connected stays SPD thanks
    to the shift."""
    n = _order(n)
    if not (math.isfinite(shift) and shift > 0):
        raise ValueError(f"shift must be > 0, got {shift!r}")
    rng = np.random.default_rng(seed)
    pts = rng.random((n, 2))
    radius = math.sqrt(degree / (math.pi * n))
    from scipy.spatial import cKDTree

    pairs = np.array(sorted(cKDTree(pts).query_pairs(radius)), dtype=int).reshape(-1, 2)
    w = rng.uniform(0.5, 2.0, len(pairs))
    adj = sp.coo_matrix((w, (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    adj = (adj + adj.T).tocsr()
    deg = np.asarray(adj.sum(axis=1)).ravel()
    lap = sp.diags(deg) - adj
    return (lap + sp.identity(n) * shift * max(float(deg.mean()), 1.0)).tocsr()


# --- files ---------------------------------------------------------------------------------------------------
class _FileProblem(ValueError):
    """A problem :func:`_read` names itself (as opposed to a reader library's failure)."""


def _read(path: Path):
    suffix = path.suffix.lower()
    if suffix == ".mtx":
        return scipy.io.mmread(str(path))
    if suffix == ".npy":
        return np.load(path, allow_pickle=False)
    if suffix == ".npz":
        try:
            return sp.load_npz(path)
        except (ValueError, KeyError, OSError):  # not a scipy.sparse archive: one dense array
            with np.load(path, allow_pickle=False) as z:
                if len(z.files) != 1:
                    raise _FileProblem(f"holds {len(z.files)} arrays ({', '.join(z.files)}); need one matrix") from None
                return z[z.files[0]]
    raise _FileProblem(f"unknown suffix {suffix!r}; matrix files are {', '.join(MATRIX_SUFFIXES)}")


def check_matrix(A, what: str = "matrix", spd: bool = False):
    """A square, finite float64 matrix (CSR if sparse, else a dense ndarray); ``ValueError`` naming the problem.

    ``spd``: also require symmetry (relative :data:`SYMMETRY_TOL`) and positive definiteness (Cholesky up to
    :data:`DENSE_LIMIT` unknowns, else the eigenvalue nearest zero by shift-invert Lanczos).
    """
    if sp.issparse(A):
        A = sp.csr_matrix(A, dtype=float)
        data = A.data
    else:
        A = np.asarray(A)
        if A.dtype.kind not in "biuf":
            raise ValueError(f"{what}: entries must be real numbers, got dtype {A.dtype}")
        A = A.astype(float)
        data = A
    if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] == 0:
        raise ValueError(f"{what}: need a non-empty square matrix, got shape {A.shape}")
    if not np.all(np.isfinite(data)):
        raise ValueError(f"{what}: contains NaN or inf")
    if sp.issparse(A):
        A.eliminate_zeros()
        if A.nnz == 0:
            raise ValueError(f"{what}: all entries are zero")
    elif not np.any(A):
        raise ValueError(f"{what}: all entries are zero")
    if spd:
        check_spd(A, what)
    return A


def is_symmetric(A) -> bool:
    """max|A - A^T| <= :data:`SYMMETRY_TOL` max|A|."""
    diff = A - A.T
    big = abs(A).max()
    worst = abs(diff).max() if sp.issparse(diff) else np.max(np.abs(diff))
    return bool(worst <= SYMMETRY_TOL * big)


def check_spd(A, what: str = "matrix") -> None:
    """``ValueError`` unless ``A`` is symmetric positive definite."""
    if not is_symmetric(A):
        raise ValueError(f"{what}: not symmetric (max|A - A^T| / max|A| > {SYMMETRY_TOL:g}); SPD required")
    n = A.shape[0]
    diag = A.diagonal()
    if np.any(diag <= 0):
        raise ValueError(f"{what}: not positive definite (diagonal entry {int(np.argmin(diag))} is <= 0)")
    if n <= DENSE_LIMIT:
        try:
            scipy.linalg.cholesky(A.toarray() if sp.issparse(A) else A, lower=True)
        except np.linalg.LinAlgError:
            raise ValueError(f"{what}: not positive definite (Cholesky fails)") from None
        return
    lam = float(spla.eigsh(sp.csc_matrix(A), k=1, sigma=0, which="LM", return_eigenvectors=False)[0])
    if lam <= 0:
        raise ValueError(f"{what}: not positive definite (eigenvalue {lam:.3g})")


def load_matrix(path, spd: bool = False, what: str = "--matrix"):
    """Read a square matrix from ``.npz`` (scipy sparse, or one dense array), ``.npy`` or MatrixMarket ``.mtx``.

    Returns CSR for sparse files, an ndarray for dense ones.  ``ValueError`` naming ``what``, the file and the
    problem for: a missing file, an unknown suffix, an unreadable file, a non-square or empty matrix,
    NaN/inf, complex entries, and (``spd``) a matrix that is not symmetric positive definite.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{what}: no such file {str(path)!r}")
    try:
        A = _read(path)
    except _FileProblem as exc:
        raise ValueError(f"{what} {path.name}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file
        raise ValueError(f"{what} {path.name}: cannot be read as {path.suffix} ({type(exc).__name__}: {exc})") from None
    if np.iscomplexobj(A.data if sp.issparse(A) else A):
        raise ValueError(f"{what} {path.name}: complex entries; need a real matrix")
    return check_matrix(A, f"{what} {path.name}", spd=spd)


def load_vector(path, n: int, what: str = "--rhs") -> np.ndarray:
    """A length-``n`` real vector from ``.npy``, ``.npz`` (one array), ``.mtx`` or a text file (one number a line)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{what}: no such file {str(path)!r}")
    try:
        suffix = path.suffix.lower()
        if suffix in MATRIX_SUFFIXES:
            v = _read(path)
            v = v.toarray() if sp.issparse(v) else np.asarray(v)
        else:
            v = np.loadtxt(path, dtype=float, ndmin=1)
    except Exception as exc:  # noqa: BLE001
        raise ValueError(f"{what} {path.name}: cannot be read ({type(exc).__name__}: {exc})") from None
    if v.dtype.kind not in "biuf":
        raise ValueError(f"{what} {path.name}: entries must be real numbers")
    v = np.asarray(v, float).ravel()
    if v.shape != (n,):
        raise ValueError(f"{what} {path.name}: need {n} entries (one per unknown), got {v.size}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{what} {path.name}: contains NaN or inf")
    return v


def condition_number(A) -> float:
    """2-norm condition number of symmetric ``A`` (dense eigenvalues up to :data:`DENSE_LIMIT`, else Lanczos)."""
    if A.shape[0] <= DENSE_LIMIT:
        dense = A.toarray() if sp.issparse(A) else np.asarray(A)
        if is_symmetric(dense):
            w = np.abs(np.linalg.eigvalsh(dense))
            return float(w.max() / w.min()) if w.min() > 0 else math.inf
        s = np.linalg.svd(dense, compute_uv=False)
        return float(s[0] / s[-1]) if s[-1] > 0 else math.inf
    op = sp.csc_matrix(A)
    big = abs(float(spla.eigsh(op, k=1, which="LM", return_eigenvectors=False)[0]))
    small = abs(float(spla.eigsh(op, k=1, sigma=0, which="LM", return_eigenvectors=False)[0]))
    return big / small if small > 0 else math.inf
