"""Data for the spiking network: the bundled digits or a user's file, split and scaled to intensities in [0, 1].

A user's file is one of

* ``.npz`` with arrays ``x`` (samples, inputs) and ``y`` (samples,): split into a stratified held-out quarter,
  seeded, exactly as the bundled digits are (:func:`split`);
* ``.npz`` with ``x_train``, ``y_train``, ``x_test``, ``y_test``: the user's own split, used as given;
* ``.csv`` with one sample per row: the label is the column named ``label``, ``class`` or ``y`` (any case) when
  the file has a header naming one, otherwise the last column; every other column is a numeric feature.  A
  header is recognised by a first row that is not all numbers.  Split as for ``x``/``y``.

Labels may be numbers or text; the network sees class indices 0..C-1 in sorted label order
(:attr:`Dataset.classes` keeps the names).  Features are scaled to [0, 1] by a min-max rule fitted on the
training set only (:class:`Scaling`), and test samples outside the training range are clipped; any real
number can be encoded, negative ones included.  Nothing in a file is executed (``allow_pickle=False``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...core.choices import Choice
from ...core.scaling import ConstantFeature, MinMaxScaler, training_range

#: test fraction of the stratified split (the digits protocol: a held-out quarter)
TEST_SIZE = 0.25
#: most inputs a run takes: one word line per input, and every training image re-solves the m x n synapse
#: array with its wires (the exact IR-drop transfer matrix) and reprograms m cells per output spike; at
#: m = 1024 (32x32 images) with 150 neurons that is ~0.1 s per image on one core, about 16 times the 8x8 cost.
MAX_INPUTS = 1024
#: most classes a run takes: 15 neurons per class (:mod:`.rule`) would give 750 neurons at 50
MAX_CLASSES = 50
SUFFIXES = (".npz", ".csv")
LABEL_COLUMNS = ("label", "class", "y")


class Scaling(Choice):
    """How features become intensities in [0, 1] (fitted on the training set only).

    ``FEATURE``: each feature by its own training minimum and maximum (features in different units: tabular
    data).  ``GLOBAL``: every feature by the one minimum and maximum of the whole training array (features in
    one unit: pixels); the bundled digits (pixels 0..16) use it, which is exactly their intensity / 16.
    """

    FEATURE = "feature"
    GLOBAL = "global"


@dataclass(frozen=True)
class Dataset:
    """A classification data set split into training and test samples.

    ``x_*``: features (samples, inputs), float, as stored (unscaled); ``y_*``: class indices 0..C-1;
    ``classes``: the label of each index, as given; ``name``: file name or ``"digits"``.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: np.ndarray

    @property
    def n_inputs(self) -> int:
        """Inputs per sample."""
        return int(self.x_train.shape[1])

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return len(self.classes)

    def head(self, n_train: int, n_test: int) -> Dataset:
        """The first ``n_train`` training and ``n_test`` test samples (quick runs)."""
        return Dataset(
            self.name, self.x_train[:n_train], self.y_train[:n_train], self.x_test[:n_test], self.y_test[:n_test],
            self.classes,
        )  # fmt: skip


@dataclass(frozen=True)
class MinMax(MinMaxScaler):
    """Min-max scaling to [0, 1] fitted on training features; a constant feature (zero range) maps to 0."""

    constant: ConstantFeature = ConstantFeature.ZERO

    @classmethod
    def fit(cls, x_train, scaling: Scaling | str = Scaling.FEATURE) -> MinMax:
        """Fit on training features (samples, inputs) by ``scaling``."""
        low, high = training_range(x_train, global_range=Scaling.parse(scaling) is Scaling.GLOBAL)
        return cls(low, high)


def complement_code(intensities) -> np.ndarray:
    """Complement coding: each intensity q in [0, 1] drives two inputs, q and 1 - q (samples, 2 inputs).

    As in fuzzy ART (Carpenter, Grossberg and Rosen, Neural Networks 4, 759, 1991): every sample then has
    the same total intensity (the input count), so a winner-take-all layer matches the shape of a sample
    rather than its brightness, and a feature at its minimum spikes too (on its complement input).
    ``ValueError`` when the doubled input count exceeds :data:`MAX_INPUTS`.
    """
    x = np.asarray(intensities, float)
    if 2 * x.shape[1] > MAX_INPUTS:
        raise ValueError(
            f"complement coding doubles {x.shape[1]} inputs to {2 * x.shape[1]}, above the limit of {MAX_INPUTS}"
        )
    return np.hstack([x, 1.0 - x])


def bundled_digits(seed: int = 0) -> Dataset:
    """scikit-learn's bundled 8x8 digits (1797 images, pixels 0..16, no download), split by :func:`split`."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return split("digits", d.data, d.target, seed)


def split(name: str, x, y, seed: int = 0, test_size: float = TEST_SIZE) -> Dataset:
    """Stratified held-out split (``test_size`` of each class), seeded; checks the arrays first."""
    from sklearn.model_selection import train_test_split

    x, y = _features(name, "x", x), _labels(name, "y", y)
    if len(x) != len(y):
        raise ValueError(f"{name}: x has {len(x)} samples but y has {len(y)} labels")
    classes, codes = np.unique(y, return_inverse=True)
    _check_classes(name, classes)
    counts = np.bincount(codes)
    if counts.min() < 2:
        few = [str(classes[k]) for k in np.flatnonzero(counts < 2)]
        raise ValueError(f"{name}: class(es) {', '.join(few)} have one sample; the stratified split needs 2 per class")
    n_test = int(np.ceil(test_size * len(x)))
    if n_test < len(classes) or len(x) - n_test < len(classes):
        raise ValueError(
            f"{name}: {len(x)} samples are too few for a stratified {test_size:.0%} test split of {len(classes)} "
            f"classes (each side needs one sample per class)"
        )
    xa, xb, ya, yb = train_test_split(x, codes, test_size=test_size, random_state=seed, stratify=codes)
    return Dataset(name, xa, ya, xb, yb, classes)


def load_data(path, seed: int = 0) -> Dataset:
    """A user's data file (``.npz`` or ``.csv``, see the module), split and checked; ``ValueError`` naming the
    file and the problem otherwise (``FileNotFoundError`` for a missing file)."""
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise FileNotFoundError(f"data: {path} does not exist" + (" (a folder)" if path.is_dir() else ""))
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"data: {name}: unknown file type {path.suffix!r}; use {' or '.join(SUFFIXES)}")
    if suffix == ".csv":
        x, y = _read_csv(path)
        return split(name, x, y, seed)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file
        raise ValueError(f"data: {name}: cannot read as .npz: {exc}") from None
    four = ("x_train", "y_train", "x_test", "y_test")
    if all(k in arrays for k in four):
        return _given_split(name, *(arrays[k] for k in four))
    if "x" in arrays and "y" in arrays:
        return split(name, arrays["x"], arrays["y"], seed)
    raise ValueError(
        f"data: {name} holds {sorted(arrays)}; it needs arrays 'x' and 'y', or 'x_train', 'y_train', 'x_test', 'y_test'"
    )


def _given_split(name: str, x_train, y_train, x_test, y_test) -> Dataset:
    x_train, x_test = _features(name, "x_train", x_train), _features(name, "x_test", x_test)
    y_train, y_test = _labels(name, "y_train", y_train), _labels(name, "y_test", y_test)
    for xa, ya, what in ((x_train, y_train, "train"), (x_test, y_test, "test")):
        if len(xa) != len(ya):
            raise ValueError(f"{name}: x_{what} has {len(xa)} samples but y_{what} has {len(ya)} labels")
    if x_train.shape[1] != x_test.shape[1]:
        raise ValueError(f"{name}: x_train has {x_train.shape[1]} inputs but x_test has {x_test.shape[1]}")
    classes = np.unique(y_train)
    _check_classes(name, classes)
    unseen = np.setdiff1d(np.unique(y_test), classes)
    if unseen.size:
        raise ValueError(
            f"{name}: y_test has class(es) {', '.join(map(str, unseen))} that y_train lacks: no neuron could learn them"
        )
    return Dataset(name, x_train, np.searchsorted(classes, y_train), x_test, np.searchsorted(classes, y_test), classes)


def _features(name: str, what: str, x) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 2:
        raise ValueError(f"{name}: {what} must be 2-D (samples, inputs), got shape {a.shape}")
    if a.dtype.kind not in "biuf":
        raise ValueError(f"{name}: {what} must be numeric, got dtype {a.dtype}")
    a = a.astype(float)
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"{name}: {what} is empty (shape {a.shape})")
    bad = ~np.isfinite(a)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ValueError(f"{name}: {what} holds {int(bad.sum())} NaN/inf value(s), the first at sample {r}, input {c}")
    if a.shape[1] > MAX_INPUTS:
        raise ValueError(
            f"{name}: {what} has {a.shape[1]} inputs; at most {MAX_INPUTS} (one word line per input: every training "
            "image re-solves the synapse array with its wires and reprograms its cells, so a run grows with the input "
            "count; reduce the inputs, e.g. downsample images or select features)"
        )
    return a


def _labels(name: str, what: str, y) -> np.ndarray:
    a = np.asarray(y)
    if a.ndim == 2 and 1 in a.shape:
        a = a.ravel()
    if a.ndim != 1:
        raise ValueError(f"{name}: {what} must be 1-D (one label per sample), got shape {a.shape}")
    if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: {what} holds NaN/inf labels")
    if a.dtype.kind not in "biufUS":
        raise ValueError(f"{name}: {what} must hold numbers or text, got dtype {a.dtype}")
    return a


def _check_classes(name: str, classes) -> None:
    if len(classes) < 2:
        only = classes[0] if len(classes) else "none"
        raise ValueError(f"{name}: the labels hold a single class ({only}); classification needs at least 2")
    if len(classes) > MAX_CLASSES:
        raise ValueError(
            f"{name}: {len(classes)} classes; at most {MAX_CLASSES} (the layer has 15 neurons per class, so a run "
            "grows with the class count)"
        )


def _read_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd

    name = path.name
    try:
        raw = pd.read_csv(path, header=None, dtype=str, skipinitialspace=True, keep_default_na=False)
    except Exception as exc:  # noqa: BLE001 - any parser failure is a bad file
        raise ValueError(f"data: {name}: cannot read as CSV: {exc}") from None
    if raw.shape[0] == 0:
        raise ValueError(f"data: {name} is empty")
    if raw.shape[1] < 2:
        raise ValueError(f"data: {name} has {raw.shape[1]} column; it needs features and a label column")
    first = raw.iloc[0].tolist()
    header = not all(_is_number(v) for v in first)
    names = [str(v).strip() for v in first] if header else [f"column {k}" for k in range(raw.shape[1])]
    body = raw.iloc[1:] if header else raw
    if body.shape[0] == 0:
        raise ValueError(f"data: {name} has a header but no rows")
    lower = [n.lower() for n in names]
    named = [k for k, n in enumerate(lower) if n in LABEL_COLUMNS] if header else []
    if len(named) > 1:
        raise ValueError(f"data: {name} has several label columns {[names[k] for k in named]}; keep one")
    col = named[0] if named else raw.shape[1] - 1
    feats = [k for k in range(raw.shape[1]) if k != col]
    x = body.iloc[:, feats].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    text = body.iloc[:, feats].to_numpy(str)
    bad = np.isnan(x) & ~np.isin(np.char.lower(np.char.strip(text)), ("nan", "inf", "-inf", "+inf"))
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ValueError(
            f"data: {name}: feature column {names[feats[c]]!r} is not numeric "
            f"(line {r + 1 + header}: {str(text[r, c])!r})"
        )
    labels = body.iloc[:, col].str.strip().to_numpy(str)
    if all(_is_number(v) for v in labels):
        numbers = labels.astype(float)
        labels = numbers.astype(int) if np.all(np.isfinite(numbers) & (numbers == np.round(numbers))) else numbers
    return x, labels


def _is_number(text) -> bool:
    try:
        float(str(text))
    except ValueError:
        return False
    return True
