"""Video clips for the RPCA system: a synthetic surveillance clip with ground truth, or the user's frames.

The synthetic clip (:func:`surveillance_clip`) is made from a photograph
shipped with scikit-image (``skimage.data.camera``: an outdoor scene), so
nothing is downloaded:

* static background B: the photograph, resized (anti-aliased) to the frame
  size and mapped to intensities [0.08, 0.85] (an exposure with head room for
  the illumination drift);
* slow global illumination drift a(t) = 1 + 0.12 sin(2 pi t / (1.3 T)) + 0.04 t/T,
  times a soft shading band that sweeps once across the frame during the clip,
  c(t, x) = 1 + shading sin(2 pi (x/W - t/T)) (a passing cloud; it makes the
  background only approximately rank 1, so the basis must keep learning);
  the true background of frame t is a(t) c(t, x) B;
* several moving, occluding objects: ellipses and rectangles of constant
  reflectance with a mild texture that moves with them, lit by the same light, moving on straight
  paths that wrap around the frame, drawn in depth order (later objects
  occlude earlier ones); the true foreground mask is their union;
* sensor noise: white Gaussian, sigma 0.02 (~5 DN of an 8-bit camera), then
  clipping to [0, 1].

Every number above is an assumption of this synthetic benchmark (Jeong et
al. 2025 used real video, not given in the available text).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

TILE = 32  #: array size: frames are processed as 32 x 32 tiles, one array per tile


@dataclass
class Clip:
    """Frames (F, H, W) in [0, 1]; ground truth where known.

    ``background`` (F, H, W) is the noise-free true background, ``foreground``
    (F, H, W) the true foreground masks (bool); both ``None`` for user clips.
    """

    frames: np.ndarray
    background: np.ndarray | None = None
    foreground: np.ndarray | None = None
    illumination: np.ndarray | None = None

    @property
    def n_frames(self) -> int:
        return self.frames.shape[0]


def _photograph(height: int, width: int) -> np.ndarray:
    from skimage import data
    from skimage.transform import resize

    img = data.camera().astype(float) / 255.0
    h, w = img.shape
    # crop to the requested aspect ratio around the centre, then resize
    aspect = width / height
    if w / h > aspect:
        cw = int(round(h * aspect))
        img = img[:, (w - cw) // 2 : (w - cw) // 2 + cw]
    else:
        ch = int(round(w / aspect))
        img = img[(h - ch) // 2 : (h - ch) // 2 + ch, :]
    img = resize(img, (height, width), anti_aliasing=True)
    lo, hi = np.percentile(img, [1, 99])
    return 0.08 + 0.77 * np.clip((img - lo) / (hi - lo), 0, 1)


def surveillance_clip(
    n_frames: int = 200,
    height: int = 32,
    width: int = 32,
    n_objects: int = 4,
    noise: float = 0.02,
    shading: float = 0.05,
    seed: int = 0,
) -> Clip:
    """A synthetic surveillance clip with ground truth (see the module docstring).

    Parameters
    ----------
    n_frames : int
        Number of frames (>= 2).
    height, width : int
        Frame size in pixels (multiples of 32: one array per 32 x 32 tile).
    n_objects : int
        Moving objects (each 12-25 % of the frame height, speed 1.3-2.5 px/frame at 32 px).
    noise : float
        Sensor noise sigma (intensity units).
    shading : float
        Amplitude of the sweeping illumination band (0: purely global drift).
    seed : int
        Seeds the objects and the noise.
    """
    if not (isinstance(n_frames, int) and n_frames >= 2):
        raise ValueError(f"n_frames must be an integer >= 2, got {n_frames!r}")
    for name, v in (("height", height), ("width", width)):
        if not (isinstance(v, int) and v >= TILE and v % TILE == 0):
            raise ValueError(f"{name} must be a positive multiple of {TILE}, got {v!r}")
    if not (isinstance(n_objects, int) and n_objects >= 0):
        raise ValueError(f"n_objects must be an integer >= 0, got {n_objects!r}")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    if not (np.isfinite(shading) and 0 <= shading < 1):
        raise ValueError(f"shading must be in [0, 1), got {shading!r}")
    rng = np.random.default_rng(seed)
    bg = _photograph(height, width)
    t = np.arange(n_frames)
    illum = 1.0 + 0.12 * np.sin(2 * np.pi * t / (1.3 * n_frames)) + 0.04 * t / n_frames
    xs = np.arange(width) / width
    band = 1.0 + shading * np.sin(2 * np.pi * (xs[None, :] - t[:, None] / n_frames))  # (F, W)
    light = illum[:, None, None] * band[:, None, :]  # (F, 1, W)
    background = np.clip(light * bg[None], 0, 1)
    frames = background.copy()
    mask = np.zeros(frames.shape, bool)
    yy, xx = np.mgrid[0:height, 0:width].astype(float)
    scale = height / 32
    for k in range(n_objects):
        size = rng.uniform(0.12, 0.25, 2) * height
        pos = rng.uniform(0, 1, 2) * (height, width)
        angle = rng.uniform(0, 2 * np.pi)
        speed = rng.uniform(1.3, 2.5) * scale
        vel = speed * np.array([np.sin(angle), np.cos(angle)])
        level = rng.choice([rng.uniform(0.0, 0.15), rng.uniform(0.85, 1.0), rng.uniform(0.3, 0.6)])
        texture = 0.03 * rng.standard_normal((height, width))
        ellipse = k % 2 == 0
        for f in range(n_frames):
            cy, cx = pos + vel * f
            # wrap around: draw the object at the nearest periodic copy of each pixel
            dy = (yy - cy + height / 2) % height - height / 2
            dx = (xx - cx + width / 2) % width - width / 2
            if ellipse:
                inside = (dy / (size[0] / 2)) ** 2 + (dx / (size[1] / 2)) ** 2 <= 1
            else:
                inside = (np.abs(dy) <= size[0] / 2) & (np.abs(dx) <= size[1] / 2)
            lit = np.broadcast_to(light[f], (height, width))[inside]
            tex = texture[np.round(dy[inside]).astype(int) % height, np.round(dx[inside]).astype(int) % width]
            frames[f][inside] = np.clip(lit * (level + tex), 0, 1)
            mask[f] |= inside
    frames = np.clip(frames + noise * rng.standard_normal(frames.shape), 0, 1)
    return Clip(frames, background, mask, illum)


def load_frames(source, size: tuple[int, int] | None = (32, 32)) -> Clip:
    """A user's clip: ``.npy`` / ``.npz`` array (F, H, W) or (F, H, W, 3), or a folder of images.

    Colour is converted to grey (luma); integers are scaled to [0, 1].  ``size``
    (height, width; multiples of 32) resizes every frame (anti-aliased); ``None``
    keeps the size, which must then be a multiple of 32.  No ground truth.
    """
    path = Path(source)
    if path.is_dir():
        from skimage import io

        files = sorted(
            p for p in path.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif")
        )
        if not files:
            raise ValueError(f"source folder {path} holds no image files")
        arr = np.stack([io.imread(p) for p in files])
    elif path.suffix in (".npy", ".npz"):
        try:
            if path.suffix == ".npy":
                arr = np.load(path)
            else:
                with np.load(path) as z:
                    key = "frames" if "frames" in z.files else z.files[0]
                    arr = z[key]
        except (OSError, EOFError, ValueError) as exc:  # missing, unreadable, cut short
            raise ValueError(f"frames file {path}: cannot read it as a complete NumPy file: {exc}") from None
    else:
        raise ValueError(f"source must be a .npy or .npz file or a folder of images, got {source!r}")
    return clip_from_array(arr, size)


def clip_from_array(arr, size: tuple[int, int] | None = (32, 32)) -> Clip:
    """:class:`Clip` from an array of frames (see :func:`load_frames`)."""
    arr = np.asarray(arr)
    if np.issubdtype(arr.dtype, np.integer):
        arr = arr / float(np.iinfo(arr.dtype).max)
    arr = arr.astype(float)
    if arr.ndim == 4 and arr.shape[-1] in (3, 4):
        arr = arr[..., :3] @ np.array([0.2125, 0.7154, 0.0721])
    if arr.ndim != 3 or arr.shape[0] < 2:
        raise ValueError(f"frames must be (F, H, W) or (F, H, W, 3) with F >= 2, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("frames contain NaN or inf")
    if size is not None:
        h, w = size
        if h % TILE or w % TILE or h <= 0 or w <= 0:
            raise ValueError(f"size must be positive multiples of {TILE}, got {size!r}")
        from skimage.transform import resize

        arr = np.stack([resize(f, (h, w), anti_aliasing=True) for f in arr])
    elif arr.shape[1] % TILE or arr.shape[2] % TILE:
        raise ValueError(f"frame size {arr.shape[1:]} is not a multiple of {TILE}; pass size=(h, w)")
    return Clip(np.clip(arr, 0, 1))


def to_tiles(frames: np.ndarray) -> np.ndarray:
    """(F, H, W) -> (F, tiles, 32, 32), tiles in row-major order."""
    f, h, w = frames.shape
    return frames.reshape(f, h // TILE, TILE, w // TILE, TILE).transpose(0, 1, 3, 2, 4).reshape(f, -1, TILE, TILE)


def from_tiles(tiles: np.ndarray, height: int, width: int) -> np.ndarray:
    """Inverse of :func:`to_tiles`."""
    f = tiles.shape[0]
    blocks = tiles.reshape(f, height // TILE, width // TILE, TILE, TILE)
    return blocks.transpose(0, 1, 3, 2, 4).reshape(f, height, width)
