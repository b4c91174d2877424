"""Classification data sets bundled inside aeon's wheel, read from its files (never downloaded).

aeon ships a few UCR/UEA time-series classification problems in ``aeon/datasets/data`` (for example
JapaneseVowels: Kudo, Toyama & Shimbo, Pattern Recognit. Lett. 20, 1103 (1999); GunPoint, ItalyPowerDemand,
OSULeaf, ArrowHead, ACSF1, BasicMotions: the UCR/UEA archives, Dau et al. 2019 and Bagnall et al. 2018).
:func:`bundled_datasets` lists every ``NAME_TRAIN.ts`` / ``NAME_TEST.ts`` pair found there that is a
classification problem (``@classLabel true``); anything else - a name aeon would have to download, or a
regression set such as Covid3Month - is refused with a message saying so.  The ``.ts`` files are parsed
with numpy (:func:`read_ts`; importing aeon takes seconds); a slow test checks the parser against aeon's
own ``load_from_ts_file`` on every bundled set.

:func:`prepare` turns a data set into the inputs of the DDK network and of its baselines with ONE rule
for every data set (:class:`Recipe`): the paper's raw series, split into utterances and average-pooled
(Shi et al., Nat. Commun. 16, 2025: a whale call of 48000 samples split into 8 utterances, each pooled
1 x 60 to 100 samples).
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ...core.scaling import ConstantFeature, MinMaxScaler, Standardiser, training_range


def data_folder() -> Path:
    """aeon's bundled data folder (found without importing aeon)."""
    spec = importlib.util.find_spec("aeon")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the DDK network reads the data sets bundled with aeon: pip install aeon")
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"


def _header(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line.lower().startswith("@data"):
                break
            if line.startswith("@"):
                key, _, value = line[1:].partition(" ")
                out.setdefault(key.lower(), value.strip())
    return out


@lru_cache(maxsize=1)
def _scan() -> dict[str, tuple[Path, Path, str]]:
    """name -> (train file, test file, kind) for every train/test pair in aeon's data folder."""
    found = {}
    for train in sorted(data_folder().glob("*/*_TRAIN.ts")):
        test = train.with_name(train.name.replace("_TRAIN.ts", "_TEST.ts"))
        if not test.is_file():
            continue
        head = _header(train)
        kind = "classification" if head.get("classlabel", "").lower().startswith("true") else "regression"
        found[train.name[: -len("_TRAIN.ts")]] = (train, test, kind)
    return found


def bundled_datasets() -> list[str]:
    """Names of the classification data sets bundled with the installed aeon."""
    return [name for name, (_, _, kind) in _scan().items() if kind == "classification"]


def dataset_files(name: str) -> tuple[Path, Path]:
    """(train, test) ``.ts`` files of a bundled classification set; a clear error for any other name."""
    scan = _scan()
    if name not in scan:
        raise ValueError(
            f"data set {name!r} is not bundled with the installed aeon (memspice never downloads); "
            f"bundled classification sets: {', '.join(bundled_datasets())}"
        )
    train, test, kind = scan[name]
    if kind != "classification":
        raise ValueError(f"data set {name!r} is a {kind} problem (no class labels); the DDK network classifies")
    return train, test


def read_ts(path):
    """(list of (channels, length) arrays, list of label strings) from a ``.ts`` file.

    Format (sktime/aeon): header lines start with ``#`` or ``@``; after ``@data`` each line holds the
    channels separated by ``:``, each a comma list of values, and the class label last.  A missing value
    (``?`` or NaN) is an error naming the line (no bundled classification set has any).
    """
    series, labels = [], []
    in_data = False
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            in_data = line.lower().startswith("@data")
            continue
        *channels, label = line.split(":")
        try:
            rows = [np.array(c.split(","), float) for c in channels]
        except ValueError:
            raise ValueError(f"{path}:{number}: not a list of numbers") from None
        if not rows or len({r.size for r in rows}) != 1:
            raise ValueError(f"{path}:{number}: channels of different lengths")
        arr = np.array(rows)
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{path}:{number}: missing values are not supported")
        series.append(arr)
        labels.append(label.strip())
    if not series:
        raise ValueError(f"{path} holds no @data lines")
    if len({s.shape[0] for s in series}) != 1:
        raise ValueError(f"{path}: series with different numbers of channels")
    return series, labels


def _label_order(labels) -> list[str]:
    uniq = sorted(set(labels))
    try:
        return sorted(uniq, key=float)
    except ValueError:
        return uniq


@dataclass(frozen=True)
class Dataset:
    """A bundled classification set: lists of (channels, length) series and integer labels."""

    name: str
    x_train: tuple
    y_train: np.ndarray
    x_test: tuple
    y_test: np.ndarray
    classes: tuple

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def channels(self) -> int:
        return int(self.x_train[0].shape[0])


@lru_cache(maxsize=8)
def load_dataset(name: str) -> Dataset:
    """The standard train/test split of bundled set ``name`` (labels numbered in sorted order)."""
    train, test = dataset_files(name)
    xs, ys = read_ts(train)
    xt, yt = read_ts(test)
    if xs[0].shape[0] != xt[0].shape[0]:
        raise ValueError(f"{name}: train and test have different numbers of channels")
    classes = _label_order(ys + yt)
    index = {c: k for k, c in enumerate(classes)}
    return Dataset(
        name,
        tuple(xs),
        np.array([index[c] for c in ys]),
        tuple(xt),
        np.array([index[c] for c in yt]),
        tuple(classes),
    )


def to_length(series, length: int) -> np.ndarray:
    """(n, channels, length): each (channels, L_i) series linearly resampled to ``length`` (unchanged if equal)."""
    out = []
    for s in series:
        s = np.atleast_2d(s)
        if s.shape[1] == length:
            out.append(s)
            continue
        t_old = np.linspace(0.0, 1.0, s.shape[1])
        t_new = np.linspace(0.0, 1.0, length)
        out.append(np.stack([np.interp(t_new, t_old, row) for row in s]))
    return np.stack(out).astype(float)


def average_pool(x, bins: int) -> np.ndarray:
    """(n, channels, bins): means over ``bins`` consecutive, near-equal slices of the last axis."""
    x = np.asarray(x, float)
    if bins > x.shape[-1]:
        raise ValueError(f"cannot pool {x.shape[-1]} samples into {bins} bins")
    edges = np.linspace(0, x.shape[-1], bins + 1).round().astype(int)
    sums = np.add.reduceat(x, edges[:-1], axis=-1)
    return sums / np.diff(edges)


@dataclass(frozen=True)
class Recipe:
    """The paper's feature recipe, one rule for every data set (Shi et al. 2025, Fig. 3).

    Each channel's raw series (resampled to the median training length when lengths differ) is cut into
    ``utterances`` consecutive parts, each average-pooled to the same number of samples; each sample
    becomes one pulse.  Per data set only the shapes change, by this rule (assumed; the paper has one
    48000-sample task): pooled samples per channel P = min(length, ``max_pulses``); utterances
    U = ``utterances`` when P >= ``utterances`` * ``min_pulses``, else max(1, P // ``min_pulses``);
    pulses per utterance F = P // U.

    Parameters
    ----------
    utterances : int
        Utterances per channel (8 in the paper).
    max_pulses : int
        Pulses per channel at most (assumed 160: bounds the simulation cost; the paper uses 8 x 100 = 800).
    min_pulses : int
        Pulses per utterance at least (assumed 4: a shorter trajectory hardly differs from its input).
    """

    utterances: int = 8
    max_pulses: int = 160
    min_pulses: int = 4

    def __post_init__(self):
        for name in ("utterances", "max_pulses", "min_pulses"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"Recipe.{name} must be >= 1, got {getattr(self, name)!r}")

    def layout(self, length: int) -> tuple[int, int]:
        """(utterances U, pulses per utterance F) for series of ``length`` samples."""
        p = min(int(length), self.max_pulses)
        u = self.utterances if p >= self.utterances * self.min_pulses else max(1, p // self.min_pulses)
        return u, max(1, p // u)


@dataclass(frozen=True)
class Scaler(MinMaxScaler):
    """Per-channel min-max scaling to [0, 1], fitted on the training split only (test values are clipped).

    A channel constant on the training split gives ``x - low``, clipped (:attr:`ConstantFeature.OFFSET`).
    """

    constant: ConstantFeature = ConstantFeature.OFFSET

    @classmethod
    def fit(cls, x) -> Scaler:
        """Fit on training pulses (samples, channels, ...): each channel's range over every other axis."""
        return cls(*training_range(x))


@dataclass(frozen=True)
class Prepared:
    """One data set as the DDK network and its baselines see it.

    ``pulses_*`` (n, channels, U, F) in [0, 1]: the pooled utterances (scaled per channel on the training
    split), one value per pulse.  ``raw_*`` (n, channels x length): the raw series, standardised per feature
    on the training split (the baselines' input).  ``pooled_*``: ``pulses_*`` flattened (the DDK layer's own
    input, for the pooled-input baseline).
    """

    name: str
    classes: tuple
    pulses_train: np.ndarray
    pulses_test: np.ndarray
    raw_train: np.ndarray
    raw_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    length: int
    utterances: int
    per_utterance: int

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def channels(self) -> int:
        return int(self.pulses_train.shape[1])

    @property
    def pooled_train(self) -> np.ndarray:
        return self.pulses_train.reshape(len(self.pulses_train), -1)

    @property
    def pooled_test(self) -> np.ndarray:
        return self.pulses_test.reshape(len(self.pulses_test), -1)


def _subset(y, n, rng) -> np.ndarray:
    classes = np.unique(y)
    per = max(1, n // classes.size)
    return np.sort(np.concatenate([rng.permutation(np.flatnonzero(y == c))[:per] for c in classes]))


def prepare(data: Dataset, recipe: Recipe = Recipe(), subset: int | None = None, seed: int = 0) -> Prepared:
    """Inputs of the DDK network and baselines (see :class:`Prepared`); ``subset``: stratified, for quick runs."""
    length = int(np.median([s.shape[1] for s in data.x_train]))
    raw_tr, raw_te = to_length(data.x_train, length), to_length(data.x_test, length)
    y_tr, y_te = data.y_train, data.y_test
    if subset is not None:
        rng = np.random.default_rng(seed)
        i, j = _subset(y_tr, subset, rng), _subset(y_te, subset, rng)
        raw_tr, y_tr, raw_te, y_te = raw_tr[i], y_tr[i], raw_te[j], y_te[j]
    u, f = recipe.layout(length)
    pool_tr, pool_te = average_pool(raw_tr, u * f), average_pool(raw_te, u * f)
    scale = Scaler.fit(pool_tr)
    n_tr, n_te, c = len(raw_tr), len(raw_te), raw_tr.shape[1]
    pulses_tr = scale(pool_tr).reshape(n_tr, c, u, f)
    pulses_te = scale(pool_te).reshape(n_te, c, u, f)
    std = Standardiser.fit(raw_tr.reshape(n_tr, -1))
    return Prepared(
        data.name,
        data.classes,
        pulses_tr,
        pulses_te,
        std(raw_tr.reshape(n_tr, -1)),
        std(raw_te.reshape(n_te, -1)),
        np.asarray(y_tr),
        np.asarray(y_te),
        length,
        u,
        f,
    )


def safe_name(name: str) -> str:
    """A data set name as a file-name fragment."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)
