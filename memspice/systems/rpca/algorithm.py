"""Online robust PCA (rank-1 subspace tracking) whose basis lives on a TiOx array or in floating point.

Model (Candes, Li, Ma & Wright, J. ACM 58, 11, 2011): frame = low-rank
background + sparse foreground + noise.  Online, per 32 x 32 tile and frame t:

    y_t = w_t u + s_t + n_t,

with ``u`` (32 x 32, >= 0) the background basis stored on the array (one
basis image per tile: a static scene under a global illumination change is
rank 1) and ``w_t`` the frame's coefficient.  Each frame:

1. reconstruction read: the basis ``u_hat`` (transposed array reads);
2. robust projection (GRASTA-like, one ADMM-style pass): pixels whose prediction residual ``y - w_{t-1} u_hat``
   exceeds the threshold ``tau`` are replaced by their prediction, and the
   cleaned frame is projected on the array (forward read):
   ``w_t = <u, y_clean> / <u_hat, u_hat>``;
3. the sparse foreground is the thresholded residual ``r = y - w_t u_hat``:
   ``|r| > tau`` with ``tau = max(tau_min, k sigma)``, sigma the residual's
   robust (MAD) spread in the tile;
4. subspace update on the background pixels only, a normalised LMS step
   (the gradient of ||r||^2 on u, scaled by 1/w^2, as in the
   neural-network approximation of RPCA of Han et al., MICCAI 2021, whose
   weights are learned online by gradient steps): ``delta_u = eta r / w_t``;
   on the array it becomes SET/RESET pulses (see :mod:`.array`).  Foreground
   pixels are not updated (they belong to s_t).

Warm-up: the array starts pristine (u = 0); for the first ``warmup`` frames
w = 1 and every pixel is learned with step max(eta_warmup, 1/(t+1)) (the
running mean of the first frames, then an exponential average), with no
foreground.  A pixel that stays foreground for ``persist`` frames in a row
is declared background (a stopped object, a ghost of the warm-up, or a stuck
cell that cannot learn): it is learned again and its background estimate is
the pixel itself meanwhile; one that is foreground in most recent frames is
latched as a defect (its cell does not learn) and takes the mean of its
neighbours as background.  No step compensates the array: the same loop
that learns the scene absorbs the array's variation, nonlinearity and
offsets (self-calibration).  GRASTA: He, Balzano & Lui, CVPR 2012.

The same code runs on :class:`FloatBasis` (ideal floating point: exact
reads and updates) and :class:`~.array.TiOxArray`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .video import TILE, from_tiles, to_tiles


@dataclass(frozen=True)
class RPCAConfig:
    """Algorithm settings (all assumed: tuned once on the synthetic clip, none given by the paper).

    ``eta``: normalised LMS step for background pixels (0.25: u's noise stays
    ~0.4 sigma of the sensor noise).  ``eta_warmup``: smallest step during
    warm-up (frame t uses max(eta_warmup, 1/(t+1))).
    ``warmup``: frames with w = 1 and no foreground.  ``tau_min`` and
    ``tau_k``: foreground threshold max(tau_min, tau_k * MAD sigma) in
    intensity units (0.05 = 2.5 sensor-noise sigma).  ``persist``: frames after
    which a pixel that stays foreground is taken as background (10: longer
    than a moving object covers a pixel in the synthetic clip, ~6 frames).  A pixel whose
    running foreground fraction (leaky average, decay ``defect_decay``: ~33
    frames) reaches ``defect_level``, or that stays foreground for
    ``2 persist`` frames in a row (relearning would have removed a ghost in
    ~7 frames), cannot learn (a stuck cell): it is latched
    as a defect and its background is the mean of its non-defective
    4-neighbours (the defective-pixel correction of image sensors).
    """

    eta: float = 0.25
    eta_warmup: float = 0.25
    warmup: int = 10
    tau_min: float = 0.05
    tau_k: float = 4.0
    persist: int = 10
    defect_decay: float = 0.97
    defect_level: float = 0.85

    def __post_init__(self):
        for name in ("eta", "eta_warmup"):
            v = getattr(self, name)
            if not (0 < v <= 1):
                raise ValueError(f"{name} must be in (0, 1], got {v!r}")
        if not (0 < self.defect_decay < 1 and 0 < self.defect_level <= 1):
            raise ValueError(
                f"defect_decay must be in (0, 1) and defect_level in (0, 1], got "
                f"{self.defect_decay!r}, {self.defect_level!r}"
            )
        for name in ("warmup", "persist"):
            v = getattr(self, name)
            if not (isinstance(v, int) and v >= 1):
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        if not (self.tau_min > 0 and self.tau_k > 0):
            raise ValueError(f"tau_min and tau_k must be > 0, got {self.tau_min!r}, {self.tau_k!r}")


class FloatBasis:
    """Ideal floating-point basis store: exact reads, exact updates (the reference of the array run)."""

    def __init__(self, tiles: int = 1, shape=(TILE, TILE)):
        self.state = np.zeros((tiles, *shape))
        self.shape = self.state.shape

    def basis(self) -> np.ndarray:
        return self.state.copy()

    def forward(self, y) -> np.ndarray:
        return np.sum(self.state * np.asarray(y, float), axis=1)

    def update(self, delta) -> np.ndarray:
        self.state = self.state + np.asarray(delta, float)
        return np.asarray(delta)


@dataclass
class RPCAResult:
    """Per-frame outputs (F, H, W): background estimates, foreground masks; coefficients (F, tiles)."""

    background: np.ndarray
    foreground: np.ndarray
    coefficients: np.ndarray
    seconds: float
    store: object = None


def run_online_rpca(frames, store, config: RPCAConfig | None = None, progress=None) -> RPCAResult:
    """Run the online RPCA of the module docstring over ``frames`` (F, H, W) in [0, 1].

    ``store``: :class:`FloatBasis` or :class:`~.array.TiOxArray` with one tile per
    32 x 32 block of the frame (``store.shape[0]`` tiles).
    """
    cfg = RPCAConfig() if config is None else config
    frames = np.asarray(frames, float)
    if frames.ndim != 3:
        raise ValueError(f"frames must be (F, H, W), got shape {frames.shape}")
    F, H, W = frames.shape
    tiles = to_tiles(frames) if (H, W) != (TILE, TILE) else frames[:, None]
    T = tiles.shape[1]
    if store.shape[0] != T:
        raise ValueError(f"store holds {store.shape[0]} tile(s), frames need {T}")
    start = time.perf_counter()
    bg_out = np.empty_like(tiles)
    fg_out = np.zeros(tiles.shape, bool)
    coef = np.ones((F, T))
    count = np.zeros((T, TILE, TILE), int)
    latched = np.zeros((T, TILE, TILE), bool)
    score = np.zeros((T, TILE, TILE))
    w_prev = np.ones(T)
    for t in range(F):
        y = tiles[t]
        u_hat = store.basis()
        norm = np.sum(u_hat**2, axis=(1, 2))
        if t < cfg.warmup:
            w = np.ones(T)
            r = y - u_hat
            fg = np.zeros(y.shape, bool)
            delta = max(cfg.eta_warmup, 1.0 / (t + 1)) * r
            bg = u_hat
        else:
            pred = w_prev[:, None, None] * u_hat
            r0 = y - pred
            tau = _threshold(r0, cfg)
            suspect = (np.abs(r0) > tau) & (count < cfg.persist)
            clean = np.where(suspect, pred, y)
            proj = store.forward(clean).sum(axis=1)
            w = np.where(norm > 1e-9, proj / np.maximum(norm, 1e-12), w_prev)
            r = y - w[:, None, None] * u_hat
            tau = _threshold(r, cfg)
            raw = np.abs(r) > tau
            count = np.where(raw, count + 1, 0)
            score = cfg.defect_decay * score + (1 - cfg.defect_decay) * raw
            latched |= (score >= cfg.defect_level) | (count >= 2 * cfg.persist)
            persistent = (count >= cfg.persist) | latched
            fg = raw & ~persistent
            bg = np.where(persistent, y, w[:, None, None] * u_hat)
            if latched.any():
                bg = np.where(latched, _neighbour_mean(bg, ~latched), bg)
            delta = np.where(fg, 0.0, cfg.eta * r / np.maximum(w, 1e-3)[:, None, None])
        store.update(delta)
        bg_out[t], fg_out[t], coef[t] = bg, fg, w
        w_prev = w
        if progress is not None:
            progress(t)
    seconds = time.perf_counter() - start
    if (H, W) != (TILE, TILE):
        bg_full, fg_full = from_tiles(bg_out, H, W), from_tiles(fg_out, H, W)
    else:
        bg_full, fg_full = bg_out[:, 0], fg_out[:, 0]
    return RPCAResult(np.clip(bg_full, 0, 1), fg_full, coef, seconds, store)


def _threshold(r, cfg: RPCAConfig):
    sigma = 1.4826 * np.median(np.abs(r - np.median(r, axis=(1, 2), keepdims=True)), axis=(1, 2), keepdims=True)
    return np.maximum(cfg.tau_min, cfg.tau_k * sigma)


def _neighbour_mean(img, good):
    """Mean of the ``good`` 4-neighbours of every pixel (tiles, h, w); the pixel itself where none is good."""
    pad_v = np.pad(img * good, ((0, 0), (1, 1), (1, 1)))
    pad_g = np.pad(good.astype(float), ((0, 0), (1, 1), (1, 1)))
    total = pad_v[:, :-2, 1:-1] + pad_v[:, 2:, 1:-1] + pad_v[:, 1:-1, :-2] + pad_v[:, 1:-1, 2:]
    count = pad_g[:, :-2, 1:-1] + pad_g[:, 2:, 1:-1] + pad_g[:, 1:-1, :-2] + pad_g[:, 1:-1, 2:]
    return np.where(count > 0, total / np.maximum(count, 1), img)
