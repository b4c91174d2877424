"""Synthetic static-camera scenes with ground truth, and the named clips the RPCA study reports on.

:func:`scene_clip` draws a clip from a :class:`Scene` description: a static
background (a photograph or texture bundled with scikit-image, or procedural
noise), an illumination that drifts, flickers, steps and shades across the
frame, moving objects of chosen sizes and speeds (some of which stop for a
while and move on), and sensor noise (Gaussian, salt-and-pepper, 8-bit
quantisation).  The true background of frame t is the lit background
without objects; the true foreground mask is the union of the objects
(a stopped object stays foreground: it is not part of the static scene).

:data:`CLIPS` names the clips of the study.  ``package`` is the clip
:func:`.video.surveillance_clip` makes by default; ``original`` is the clip
the package first shipped (sensor noise 0.01, rank-1 lighting: no shading
band).  The others were written to differ from it (textures, drifts,
speeds, sizes, noise); the ones marked ``held_out`` were never used while
the online algorithm was developed (see ``docs/rpca.md``).  Every number
here is an assumption of the benchmark, not from Jeong et al. 2025 (who used
real video).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .video import TILE, Clip, fit_image, surveillance_clip

#: backgrounds bundled with scikit-image (never downloaded), and procedural ones
BACKGROUNDS = ("camera", "brick", "grass", "gravel", "moon", "coins", "text", "page", "noise", "gradient")


@dataclass(frozen=True)
class Scene:
    """Description of a synthetic static-camera clip (intensities in [0, 1]; speeds in px/frame at 32 px).

    Parameters
    ----------
    n_frames, height, width : int
        Clip size (height and width multiples of 32).
    background : str
        One of :data:`BACKGROUNDS`.
    contrast : (float, float)
        Intensity range the background is mapped to.
    drift : float
        Amplitude of the slow global illumination drift (a sine over 1.3 clip lengths plus a ramp of drift/3).
    flicker : float
        Relative sigma of a per-frame global gain jitter.
    step : float
        Relative illumination step at mid-clip (a light switched on; 0: none).
    shading : float
        Amplitude of an illumination band sweeping once across the frame (non-rank-1 lighting).
    tilt : float
        Amplitude of a slowly rotating illumination gradient (another non-rank-1 term).
    n_objects : int
        Moving objects.
    size : (float, float)
        Object size range, fraction of the frame height.
    speed : (float, float)
        Object speed range (px/frame at 32 px height; scaled with the height).
    stop_fraction : float
        Fraction of objects that stop once for ``stop_frames`` frames (at a random time).
    stop_frames : int
        Length of a stop.
    noise : float
        Gaussian sensor-noise sigma.
    salt : float
        Fraction of pixels per frame replaced by 0 or 1 (salt-and-pepper).
    quantise : bool
        Round to 8-bit levels.
    """

    n_frames: int = 200
    height: int = 64
    width: int = 64
    background: str = "camera"
    contrast: tuple[float, float] = (0.08, 0.85)
    drift: float = 0.12
    flicker: float = 0.0
    step: float = 0.0
    shading: float = 0.05
    tilt: float = 0.0
    n_objects: int = 5
    size: tuple[float, float] = (0.12, 0.25)
    speed: tuple[float, float] = (1.3, 2.5)
    stop_fraction: float = 0.0
    stop_frames: int = 40
    noise: float = 0.02
    salt: float = 0.0
    quantise: bool = False

    def __post_init__(self):
        if not (isinstance(self.n_frames, int) and self.n_frames >= 2):
            raise ValueError(f"n_frames must be an integer >= 2, got {self.n_frames!r}")
        for name in ("height", "width"):
            v = getattr(self, name)
            if not (isinstance(v, int) and v >= TILE and v % TILE == 0):
                raise ValueError(f"{name} must be a positive multiple of {TILE}, got {v!r}")
        if self.background not in BACKGROUNDS:
            raise ValueError(f"background must be one of {BACKGROUNDS}, got {self.background!r}")
        lo, hi = self.contrast
        if not (0 <= lo < hi <= 1):
            raise ValueError(f"contrast must be 0 <= lo < hi <= 1, got {self.contrast!r}")
        for name in ("drift", "flicker", "shading", "tilt", "noise", "salt"):
            v = getattr(self, name)
            if not (np.isfinite(v) and 0 <= v < 1):
                raise ValueError(f"{name} must be in [0, 1), got {v!r}")
        if not 0 <= self.stop_fraction <= 1:
            raise ValueError(f"stop_fraction must be in [0, 1], got {self.stop_fraction!r}")
        if not (-0.9 < self.step < 1):
            raise ValueError(f"step must be in (-0.9, 1), got {self.step!r}")


@dataclass(frozen=True)
class NamedClip:
    """A clip of the study: its scene, seed, and whether it was held out while the algorithm was developed."""

    scene: Scene | None
    seed: int
    held_out: bool
    note: str
    legacy: dict = field(default_factory=dict)  # surveillance_clip keywords (package / original clips)

    def make(self, n_frames: int | None = None) -> Clip:
        if self.scene is None:
            kw = dict(self.legacy)
            if n_frames is not None:
                kw["n_frames"] = n_frames
            return surveillance_clip(seed=self.seed, **kw)
        scene = self.scene if n_frames is None else replace(self.scene, n_frames=n_frames)
        return scene_clip(scene, self.seed)


CLIPS: dict[str, NamedClip] = {
    "package": NamedClip(None, 0, False, "surveillance_clip defaults: 32x32, 4 objects, noise 0.02, shading 0.05"),
    "original": NamedClip(
        None, 0, False, "the package's first clip: noise 0.01, rank-1 lighting", {"noise": 0.01, "shading": 0.0}
    ),
    "textured": NamedClip(
        Scene(background="brick", n_objects=5, noise=0.02, salt=0.002, shading=0.05, drift=0.15),
        1,
        False,
        "the issue's kind of clip: texture, drift, 5 objects, sensor + salt noise",
    ),
    "slow-stop": NamedClip(
        Scene(background="camera", n_objects=4, speed=(0.25, 0.8), stop_fraction=0.5, stop_frames=40, noise=0.02),
        2,
        False,
        "slow objects (0.25-0.8 px/frame), half of them stop for 40 frames",
    ),
    "flicker-step": NamedClip(
        Scene(background="grass", flicker=0.03, step=0.25, tilt=0.06, noise=0.015, quantise=True),
        3,
        False,
        "per-frame flicker 3 %, a +25 % light step at mid-clip, rotating gradient, 8-bit",
    ),
    "crowd": NamedClip(
        Scene(
            background="gravel",
            width=96,
            n_objects=10,
            size=(0.2, 0.4),
            speed=(0.5, 3.0),
            noise=0.02,
            shading=0.08,
        ),
        4,
        True,
        "64x96, 10 large objects (20-40 % of the height), speeds 0.5-3 px/frame",
    ),
    "noisy-dark": NamedClip(
        Scene(
            background="moon",
            contrast=(0.02, 0.35),
            noise=0.05,
            salt=0.01,
            drift=0.2,
            n_objects=4,
            quantise=True,
        ),
        5,
        True,
        "dark, low contrast (0.02-0.35), noise 0.05, 1 % salt-and-pepper",
    ),
    "stop-and-go": NamedClip(
        Scene(
            background="noise",
            height=32,
            width=96,
            n_objects=5,
            speed=(0.15, 1.5),
            stop_fraction=0.6,
            stop_frames=60,
            noise=0.02,
            tilt=0.05,
        ),
        6,
        True,
        "32x96 procedural texture, very slow objects, 60 % stop for 60 frames",
    ),
    "text-fast": NamedClip(
        Scene(
            background="text",
            n_objects=6,
            size=(0.08, 0.16),
            speed=(3.0, 6.0),
            noise=0.01,
            flicker=0.01,
            shading=0.1,
        ),
        7,
        True,
        "fine text texture, small fast objects (3-6 px/frame), strong shading band",
    ),
}


def named_clip(name: str, n_frames: int | None = None) -> Clip:
    """The clip ``name`` of :data:`CLIPS` (``n_frames`` overrides its length)."""
    if name not in CLIPS:
        raise ValueError(f"unknown clip {name!r}; known: {', '.join(CLIPS)}")
    return CLIPS[name].make(n_frames)


def _texture(name: str, height: int, width: int, rng) -> np.ndarray:
    """A background image in [0, 1] of the given size."""
    if name == "noise":  # smoothed noise at three scales (a procedural texture)
        from scipy.ndimage import gaussian_filter

        img = sum(gaussian_filter(rng.standard_normal((height, width)), s, mode="wrap") * s for s in (1.0, 3.0, 8.0))
    elif name == "gradient":
        yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
        img = xx + 0.5 * yy + 0.05 * rng.standard_normal((height, width))
    else:
        from skimage import data
        from skimage.color import rgb2gray

        img = getattr(data, name)()
        img = rgb2gray(img) if img.ndim == 3 else img.astype(float) / np.iinfo(img.dtype).max
        return fit_image(img, height, width)
    lo, hi = np.percentile(img, [1, 99])
    return np.clip((img - lo) / max(hi - lo, 1e-12), 0, 1)


def scene_clip(scene: Scene, seed: int = 0) -> Clip:
    """Draw the clip described by ``scene`` (seeded) with its true background and foreground."""
    rng = np.random.default_rng(seed)
    F, H, W = scene.n_frames, scene.height, scene.width
    lo, hi = scene.contrast
    base = lo + (hi - lo) * _texture(scene.background, H, W, rng)
    t = np.arange(F)
    gain = 1.0 + scene.drift * (np.sin(2 * np.pi * t / (1.3 * F)) + t / (3.0 * F))
    gain = gain * (1.0 + scene.flicker * rng.standard_normal(F))
    if scene.step:
        gain = gain * np.where(t >= F // 2, 1.0 + scene.step, 1.0)
    yy, xx = np.mgrid[0:H, 0:W]
    xs, ys = xx / W, yy / H
    light = np.empty((F, H, W))
    for f in range(F):
        band = 1.0 + scene.shading * np.sin(2 * np.pi * (xs - f / F))
        angle = 2 * np.pi * f / F
        tilt = 1.0 + scene.tilt * ((xs - 0.5) * np.cos(angle) + (ys - 0.5) * np.sin(angle)) * 2
        light[f] = gain[f] * band * tilt
    background = np.clip(light * base, 0, 1)
    frames = background.copy()
    mask = np.zeros(frames.shape, bool)
    scale = H / 32
    for k in range(scene.n_objects):
        size = rng.uniform(*scene.size, 2) * H
        pos = rng.uniform(0, 1, 2) * (H, W)
        angle = rng.uniform(0, 2 * np.pi)
        speed = rng.uniform(*scene.speed) * scale
        vel = speed * np.array([np.sin(angle), np.cos(angle)])
        level = rng.choice([rng.uniform(0.0, 0.15), rng.uniform(0.85, 1.0), rng.uniform(0.3, 0.6)])
        texture = 0.03 * rng.standard_normal((H, W))
        ellipse = k % 2 == 0
        # distance travelled by frame f: stops hold it for stop_frames frames
        moving = np.ones(F)
        if rng.uniform() < scene.stop_fraction:
            start = int(rng.integers(0, max(1, F - scene.stop_frames)))
            moving[start : start + scene.stop_frames] = 0.0
        travelled = np.concatenate([[0.0], np.cumsum(moving[:-1])])
        for f in range(F):
            cy, cx = pos + vel * travelled[f]
            dy = (yy - cy + H / 2) % H - H / 2
            dx = (xx - cx + W / 2) % W - W / 2
            if ellipse:
                inside = (dy / (size[0] / 2)) ** 2 + (dx / (size[1] / 2)) ** 2 <= 1
            else:
                inside = (np.abs(dy) <= size[0] / 2) & (np.abs(dx) <= size[1] / 2)
            tex = texture[np.round(dy[inside]).astype(int) % H, np.round(dx[inside]).astype(int) % W]
            frames[f][inside] = np.clip(light[f][inside] * (level + tex), 0, 1)
            mask[f] |= inside
    frames = frames + scene.noise * rng.standard_normal(frames.shape)
    if scene.salt:
        hit = rng.uniform(size=frames.shape) < scene.salt
        frames = np.where(hit, (rng.uniform(size=frames.shape) < 0.5).astype(float), frames)
    frames = np.clip(frames, 0, 1)
    if scene.quantise:
        frames = np.round(frames * 255) / 255
    return Clip(frames, background, mask, gain)
