"""Online robust PCA whose background subspace lives on a TiOx array (or in floating point).

Model (Candes, Li, Ma & Wright, J. ACM 58, 11, 2011): frame = low-rank
background + sparse foreground + noise.  Online, per 32 x 32 tile and frame t:

    y_t = (sum_k c_tk phi_k) * u + s_t + n_t,

``u`` (32 x 32, >= 0) is the background image stored on the array, one cell
per pixel, and ``phi_k`` are the fixed low-order illumination polynomials of
the tile (1, x, y, x y; x, y in [0, 1]).  The background subspace is the span
of the images ``u * phi_k``: a structured low-rank model (rank 4 per tile)
whose basis needs only the one stored image.  A global light change is c_t0,
a light gradient or a shading band crossing the tile are c_t1..c_t3, so the
coefficients absorb illumination in one frame and ``u`` can learn slowly
(long memory), which is what keeps slow and stopping objects out of the
background.  This is GRASTA's scheme (He, Balzano & Szlam, CVPR 2012:
a robust l1 fit of the coefficients, then a gradient step of the subspace on
the inliers with an adaptive step size) with the subspace constrained so
that it fits the array.

Each frame (after the start-up):

1. reconstruction read: ``u_hat`` (transposed array reads);
2. robust coefficients (the l1/outlier-masked fit, by reweighting
   passes): pixels whose residual exceeds k robust sigmas of that pass's
   residual are replaced by their prediction, and the cleaned frame is projected on the array: forward
   reads of ``y`` and of ``y * row`` give sum_i u y per column, hence
   <u phi_k, y> for the four polynomials (x weights columns digitally, the
   row weight rides on the input); the 4 x 4 Gram matrix comes from ``u_hat``;
3. noise scale ``sigma``: robust (MAD) spread of the residual, a running
   average, capped at twice the sensor noise measured from frame-to-frame
   differences (so a wrong model cannot widen its own threshold: a crowded
   scene would otherwise teach it its objects); the foreground is
   ``|r| > tau = k sigma`` (k = 3);
4. subspace step on the inliers, ``delta_u = eta r / g`` (g = the fitted
   illumination), with ``eta`` adapted per tile by Kesten's rule as GRASTA
   does: consecutive residuals that agree in sign (the model lags) raise it,
   residuals that alternate (noise) lower it, between ``eta_min`` and
   ``eta_max``;
5. adaptive persistence: a pixel that stays foreground longer than ``P``
   frames is taken as a change of the scene (a ghost of the start-up, an
   object left behind) and relearned in one step; ``P`` is twice the longest
   recent foreground run that ended (objects that passed: a running
   estimate per tile), at least ``persist_min``, so slow objects raise it;
6. a cell that cannot learn (stuck, or out of its window) is found by
   write-verify (the next read did not move by a quarter of a relearn
   request, capped at what one frame can program, twice) and latched as a defect: its background is the mean of its
   non-defective neighbours (the defective-pixel correction of image
   sensors).

Start-up: the controller keeps the first ``init_frames`` frames (digital
buffer, as ReProCS starts from a batch estimate on its first frames: Guo,
Qiu & Vaswani, IEEE TSP 62, 4284, 2014), each divided by its tile's median
gain, and programs their per-pixel median into the array (a robust start:
objects that pass during these frames leave no ghost).  The array's range is
used fully: the brightest background pixel of a tile maps to 0.9 of the
state window (the scale goes into the coefficients).

No step compensates the array: the same loop that learns the scene absorbs
the array's variation, nonlinearity and offsets (self-calibration).  The
same code runs on :class:`FloatBasis` (ideal floating point) and
:class:`~.array.TiOxArray`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .video import TILE, from_tiles, to_tiles


@dataclass(frozen=True)
class RPCAConfig:
    """Settings of the online algorithm; none is tuned per clip (see the module docstring).

    Defaults are assumptions (Jeong et al. 2025 give none), each with its reason:

    ``k_tau`` = 3: outlier threshold in robust sigmas (0.3 % false alarms
    under Gaussian noise).  ``init_frames`` = 10: start-up buffer (the
    median of 10 frames is background wherever objects cover a pixel in
    fewer than 5 of them).  ``eta_max`` = 0.5, ``eta_min`` = 1/64: the step
    range of the subspace update (memory 2 to 64 frames); ``eta_start`` = 0.1.
    ``kesten_up``/``kesten_down``: factors of Kesten's rule (1.2 and 0.8).
    ``persist_min`` = 15 frames, ``persist_max`` = 150 frames: bounds of the
    adaptive persistence.  ``sigma_floor`` = 0.5/255: the smallest noise scale
    (half an 8-bit level).  ``gain_terms``: illumination polynomials per tile,
    1 (a scalar gain: a rank-1 model), 3 (plane) or 4 (bilinear, default).
    ``range_fill`` = 0.9: share of the state window the brightest background
    pixel uses.  ``refine`` = 2: reweighting passes of the robust fit.
    ``gain_floor`` = 0.2: the fitted light field may not fall below 0.2 of the
    start-up level anywhere in a tile (light within 5x of the start-up); a fit
    that does (too few inliers to pin a gradient: a tile crowded with objects)
    falls back to the scalar gain, or keeps the last coefficients.
    """

    k_tau: float = 3.0
    init_frames: int = 10
    eta_start: float = 0.1
    eta_min: float = 1 / 64
    eta_max: float = 0.5
    kesten_up: float = 1.2
    kesten_down: float = 0.8
    persist_factor: float = 4.0
    persist_min: int = 10
    persist_max: int = 150
    sigma_floor: float = 0.5 / 255
    gain_terms: int = 4
    range_fill: float = 0.9
    refine: int = 2
    gain_floor: float = 0.2

    def __post_init__(self):
        if not (0 < self.eta_min <= self.eta_start <= self.eta_max <= 1):
            raise ValueError(
                f"need 0 < eta_min <= eta_start <= eta_max <= 1, got {self.eta_min!r}, {self.eta_start!r}, "
                f"{self.eta_max!r}"
            )
        if not (self.kesten_up > 1 and 0 < self.kesten_down < 1):
            raise ValueError(
                f"need kesten_up > 1 and 0 < kesten_down < 1, got {self.kesten_up!r}, {self.kesten_down!r}"
            )
        for name in ("init_frames", "persist_min", "persist_max", "refine"):
            v = getattr(self, name)
            if not (isinstance(v, int) and v >= 1):
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        if self.persist_max < self.persist_min:
            raise ValueError(f"persist_max ({self.persist_max}) must be >= persist_min ({self.persist_min})")
        if not (self.k_tau > 0 and self.sigma_floor > 0):
            raise ValueError(f"k_tau and sigma_floor must be > 0, got {self.k_tau!r}, {self.sigma_floor!r}")
        if self.gain_terms not in (1, 3, 4):
            raise ValueError(f"gain_terms must be 1, 3 or 4, got {self.gain_terms!r}")
        if not (0 < self.gain_floor < 1):
            raise ValueError(f"gain_floor must be in (0, 1), got {self.gain_floor!r}")
        if not (0 < self.range_fill <= 1):
            raise ValueError(f"range_fill must be in (0, 1], got {self.range_fill!r}")


class FloatBasis:
    """Ideal floating-point store of the background image: exact reads, exact updates (the reference run).

    The stored values stay in the cells' state window [0, 1], as on the array.
    """

    def __init__(self, tiles: int = 1, shape=(TILE, TILE)):
        self.state = np.zeros((tiles, *shape))
        self.shape = self.state.shape

    def basis(self) -> np.ndarray:
        return self.state.copy()

    def forward(self, y) -> np.ndarray:
        return np.sum(self.state * np.asarray(y, float), axis=1)

    def update(self, delta) -> np.ndarray:
        self.state = np.clip(self.state + np.asarray(delta, float), 0.0, 1.0)
        return np.asarray(delta)


@dataclass
class RPCAResult:
    """Per-frame outputs (F, H, W): background estimates, foreground masks; per-tile traces (F, tiles)."""

    background: np.ndarray
    foreground: np.ndarray
    coefficients: np.ndarray
    seconds: float
    store: object = None
    eta: np.ndarray | None = None
    persistence: np.ndarray | None = None
    sigma: np.ndarray | None = None
    defects: int = 0


def _polynomials(terms: int) -> np.ndarray:
    """Illumination polynomials (terms, 32, 32) on x (columns), y (rows) in [0, 1]: 1, x, y, x y."""
    y, x = np.mgrid[0:TILE, 0:TILE] / (TILE - 1)
    return np.stack([np.ones((TILE, TILE)), x, y, x * y][:terms])


def _mad(r) -> np.ndarray:
    """Robust spread 1.4826 median|r - median r| per tile (tiles,)."""
    med = np.median(r, axis=(1, 2), keepdims=True)
    return 1.4826 * np.median(np.abs(r - med), axis=(1, 2))


class _Projector:
    """Robust illumination coefficients from array reads (step 2 of the module docstring)."""

    def __init__(self, store, terms: int):
        self.store, self.terms = store, terms
        self.phi = _polynomials(terms)
        self.col = np.linspace(0.0, 1.0, TILE)  # x of each column
        self.row = self.col[:, None]  # y of each row

    def gram(self, u):
        """G_kl = sum u^2 phi_k phi_l (tiles, terms, terms), digital, from the read image."""
        a = u[:, None] * self.phi[None]  # (T, K, 32, 32)
        g = np.einsum("tkij,tlij->tkl", a, a)
        return g + 1e-9 * np.eye(self.terms)[None] * np.trace(g, axis1=1, axis2=2)[:, None, None]

    def correlate(self, y_clean):
        """<u phi_k, y> (tiles, terms) from forward reads of y and (for y terms) y * row."""
        p0 = self.store.forward(y_clean)  # (T, 32): sum_i u_ik y_ik per column k
        out = [p0.sum(axis=1)]
        if self.terms >= 3:
            out.append(p0 @ self.col)
            p1 = self.store.forward(y_clean * self.row)  # the row weight on the DAC input
            out.append(p1.sum(axis=1))
            if self.terms == 4:
                out.append(p1 @ self.col)
        return np.stack(out, axis=1)

    def gain(self, c):
        """Illumination field sum_k c_k phi_k (tiles, 32, 32)."""
        return np.einsum("tk,kij->tij", c, self.phi)


def run_online_rpca(frames, store, config: RPCAConfig | None = None, progress=None) -> RPCAResult:
    """Run the online RPCA of the module docstring over ``frames`` (F, H, W) in [0, 1].

    ``store``: :class:`FloatBasis` or :class:`~.array.TiOxArray` with one tile per
    32 x 32 block of the frame (``store.shape[0]`` tiles), pristine.
    """
    cfg = RPCAConfig() if config is None else config
    frames = np.asarray(frames, float)
    if frames.ndim != 3:
        raise ValueError(f"frames must be (F, H, W), got shape {frames.shape}")
    F, H, W = frames.shape
    if H % TILE or W % TILE:
        raise ValueError(f"frame size {H}x{W} does not tile into {TILE}x{TILE} arrays")
    tiles = to_tiles(frames)
    T = tiles.shape[1]
    if store.shape[0] != T:
        raise ValueError(f"store holds {store.shape[0]} tile(s), frames need {T}")
    start = time.perf_counter()
    proj = _Projector(store, cfg.gain_terms)
    shape = (T, TILE, TILE)
    bg_out = np.empty_like(tiles)
    fg_out = np.zeros(tiles.shape, bool)
    coef = np.zeros((F, T))
    eta_trace, p_trace, s_trace = np.zeros((F, T)), np.zeros((F, T)), np.zeros((F, T))
    n_init = min(cfg.init_frames, F)
    buffer = []
    scale = np.ones(T)
    c = np.zeros((T, cfg.gain_terms))
    sigma = np.full(T, np.nan)
    noise = np.full(T, np.nan)
    eta = np.full(T, cfg.eta_start)
    run = np.zeros(shape, int)  # current foreground run length per pixel
    dwell = np.ones(T)  # running mean length of the foreground runs that ended, per tile
    confirmed = np.zeros(shape, bool)  # pixels that matched the model at least once since the start-up
    prev_sign = np.zeros(shape)
    requested = np.zeros(shape)  # relearn steps awaiting write-verify
    max_step = float(getattr(store, "max_step", np.inf))  # largest change the store makes in one frame
    misses = np.zeros(shape, int)
    defect = np.zeros(shape, bool)
    u_prev = np.zeros(shape)  # last frame's read, for write-verify
    for t in range(F):
        y = tiles[t]
        if t > 0:
            # sensor-noise scale from the frame-to-frame difference (light change removed by the median
            # ratio): independent of the model, it caps sigma so a wrong model cannot widen its own threshold
            prev = tiles[t - 1]
            ratio = np.median(y / np.maximum(prev, 1e-3), axis=(1, 2))
            noise_now = _mad(y - ratio[:, None, None] * prev) / np.sqrt(2)
            noise = np.where(np.isnan(noise), noise_now, 0.8 * noise + 0.2 * noise_now)
        if t < n_init:
            # start-up: median of the gain-normalised frames so far, programmed into the array
            level = np.maximum(np.median(y, axis=(1, 2)), 1e-3)
            buffer.append(y / level[:, None, None])
            med = np.median(np.stack(buffer), axis=0)
            if t == 0:
                scale = np.maximum(np.percentile(med, 99.5, axis=(1, 2)) / cfg.range_fill, 1e-3)
            target = med / scale[:, None, None]
            store.update(target - store.basis())
            c = np.zeros((T, cfg.gain_terms))
            c[:, 0] = level * scale
            bg, fg = target * (level * scale)[:, None, None], np.zeros(shape, bool)
            sigma_now = np.minimum(_mad(y - bg), 2 * noise) if t > 0 else _mad(y - bg)
            sigma = np.where(np.isnan(sigma), sigma_now, 0.8 * sigma + 0.2 * sigma_now)
        else:
            u = store.basis()
            G = proj.gram(u)
            g = proj.gain(c)
            for _ in range(cfg.refine):
                pred = g * u
                # each pass thresholds at k robust sigmas of its own residual: after a sudden light change
                # (most pixels off the old prediction) the band widens and the fit follows in one frame
                tau_fit = cfg.k_tau * np.maximum(np.maximum(sigma, _mad(y - pred)), cfg.sigma_floor)
                clean = np.where(np.abs(y - pred) > tau_fit[:, None, None], pred, y)
                corr = proj.correlate(clean)
                c_new = np.linalg.solve(G, corr[..., None])[..., 0]
                # a light field must stay positive: where the fit dips below the floor anywhere in the tile
                # (too few inliers to pin a gradient), fall back to the scalar gain, else keep the last fit
                floor = cfg.gain_floor * scale
                bad = proj.gain(c_new).min(axis=(1, 2)) <= floor
                if bad.any():
                    scalar = np.zeros_like(c_new)
                    scalar[:, 0] = corr[:, 0] / np.maximum(G[:, 0, 0], 1e-12)
                    c_new = np.where(bad[:, None], scalar, c_new)
                    c_new = np.where((c_new[:, 0] <= floor)[:, None] & bad[:, None], c, c_new)
                c = c_new
                g = proj.gain(c)
            pred = g * u
            r = y - pred
            sigma = 0.8 * sigma + 0.2 * np.minimum(_mad(r), 2 * noise)
            tau = cfg.k_tau * np.maximum(sigma, cfg.sigma_floor)[:, None, None]
            out = np.abs(r) > tau
            g_safe = np.maximum(g, cfg.gain_floor * scale[:, None, None])
            e = r / g_safe  # residual in stored units
            # adaptive persistence: the foreground runs that end tell how long objects stay on a pixel
            ended = (~out) & (run > 0)
            if ended.any():
                # length-weighted mean (sum L^2 / sum L): what a foreground pixel sees, blind to 1-frame noise
                lengths = np.where(ended, run, 0).astype(float)
                total = lengths.sum(axis=(1, 2))
                mean_run = (lengths**2).sum(axis=(1, 2)) / np.maximum(total, 1)
                dwell = np.where(total > 0, 0.9 * dwell + 0.1 * mean_run, dwell)
            run = np.where(out, run + 1, 0)
            confirmed |= ~out
            persist = np.clip(cfg.persist_factor * dwell, cfg.persist_min, cfg.persist_max)
            limit = np.where(confirmed, persist[:, None, None], n_init)
            relearn = out & (run >= limit) & ~defect
            # write-verify of last frame's relearn requests: cells that did not move are defects
            if requested.any():
                moved = np.abs(u - u_prev)
                asked = np.abs(requested) > 0
                missed = asked & (moved < 0.25 * np.abs(requested))
                misses = np.where(asked, np.where(missed, misses + 1, 0), misses)
                defect |= misses >= 2
            # Kesten's rule on the inliers: agreement of consecutive residual signs
            sgn = np.sign(e)
            inl = ~out & ~defect
            agree = np.sum((sgn * prev_sign > 0) & inl, axis=(1, 2))
            counted = np.sum((prev_sign != 0) & inl, axis=(1, 2))
            frac = np.where(counted > 0, agree / np.maximum(counted, 1), 0.5)
            eta = np.clip(np.where(frac > 0.5, eta * cfg.kesten_up, eta * cfg.kesten_down), cfg.eta_min, cfg.eta_max)
            prev_sign = np.where(inl, sgn, 0.0)
            delta = np.where(inl, eta[:, None, None] * e, 0.0)
            delta = np.where(relearn, e, delta)
            # what one frame can program (the controller caps pulses per frame): verify against that
            requested = np.where(relearn, np.clip(e, -max_step, max_step), 0.0)
            fg = out & ~defect
            bg = np.where(relearn, y, pred)
            if defect.any():
                bg = np.where(defect, _neighbour_mean(bg, ~defect), bg)
            store.update(np.where(defect, 0.0, delta))
            u_prev = u
        bg_out[t], fg_out[t] = bg, fg
        coef[t] = c[:, 0]
        eta_trace[t], s_trace[t] = eta, sigma
        p_trace[t] = np.clip(cfg.persist_factor * dwell, cfg.persist_min, cfg.persist_max)
        if progress is not None:
            progress(t)
    seconds = time.perf_counter() - start
    bg_full, fg_full = from_tiles(bg_out, H, W), from_tiles(fg_out, H, W)
    return RPCAResult(
        np.clip(bg_full, 0, 1),
        fg_full,
        coef,
        seconds,
        store,
        eta=eta_trace,
        persistence=p_trace,
        sigma=s_trace,
        defects=int(defect.sum()),
    )


def _neighbour_mean(img, good):
    """Mean of the ``good`` 4-neighbours of every pixel (tiles, h, w); the pixel itself where none is good."""
    pad_v = np.pad(img * good, ((0, 0), (1, 1), (1, 1)))
    pad_g = np.pad(good.astype(float), ((0, 0), (1, 1), (1, 1)))
    total = pad_v[:, :-2, 1:-1] + pad_v[:, 2:, 1:-1] + pad_v[:, 1:-1, :-2] + pad_v[:, 1:-1, 2:]
    count = pad_g[:, :-2, 1:-1] + pad_g[:, 2:, 1:-1] + pad_g[:, 1:-1, :-2] + pad_g[:, 1:-1, 2:]
    return np.where(count > 0, total / np.maximum(count, 1), img)
