"""JapaneseVowels speaker recognition, read from the files bundled in aeon's wheel (never downloaded).

Kudo, Toyama & Shimbo, Pattern Recognit. Lett. 20, 1103 (1999): 9 male
speakers say /ae/; each utterance is 7-29 frames of 12 LPC cepstrum
coefficients.  Standard split: 270 training utterances (30 per speaker),
370 test utterances.  The ``.ts`` files ship inside the ``aeon`` package
(``aeon/datasets/data/JapaneseVowels``) and are read straight from that
folder, so no network access can happen.  :func:`read_ts` parses them with
numpy (importing aeon takes several seconds); a test checks it against aeon's
own ``load_from_ts_file``.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

NAME = "JapaneseVowels"


def bundled_folder() -> Path:
    """Folder of the bundled JapaneseVowels files (found without importing aeon)."""
    spec = importlib.util.find_spec("aeon")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the DDK network needs aeon (pip install aeon) for its bundled JapaneseVowels set")
    folder = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / NAME
    if not (folder / f"{NAME}_TRAIN.ts").is_file():
        raise FileNotFoundError(f"the installed aeon does not bundle {NAME} in {folder}")
    return folder


def read_ts(path):
    """(list of (channels, length) arrays, list of label strings) from a multivariate ``.ts`` file.

    Format (sktime/aeon): header lines start with ``#`` or ``@``; after
    ``@data`` each line holds the channels separated by ``:``, each a comma
    list of values, and the class label last.
    """
    series, labels = [], []
    in_data = False
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            in_data = line.lower().startswith("@data")
            continue
        *channels, label = line.split(":")
        series.append(np.array([np.array(c.split(","), float) for c in channels]))
        labels.append(label.strip())
    if not series:
        raise ValueError(f"{path} holds no @data lines")
    return series, labels


@lru_cache(maxsize=4)
def _load(split: str):
    x, y = read_ts(bundled_folder() / f"{NAME}_{split.upper()}.ts")
    return tuple(x), np.asarray(y).astype(int) - 1


def load_split(split: str):
    """(list of (12, length) arrays, integer labels 0..8) of the ``"train"`` or ``"test"`` split."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    x, y = _load(split)
    return [s.copy() for s in x], y.copy()


def resample(series, steps: int) -> np.ndarray:
    """Linear resampling of each (channels, length) series to ``steps`` samples: (n, channels, steps)."""
    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps!r}")
    out = []
    for s in series:
        s = np.atleast_2d(s)
        t_old = np.linspace(0.0, 1.0, s.shape[1])
        t_new = np.linspace(0.0, 1.0, steps)
        out.append(np.stack([np.interp(t_new, t_old, row) for row in s]))
    return np.stack(out)


@dataclass(frozen=True)
class Scaler:
    """Per-channel min-max scaling to [0, 1], fitted on the training split only (test values are clipped)."""

    low: np.ndarray
    high: np.ndarray

    @classmethod
    def fit(cls, x):
        x = np.asarray(x, float)
        return cls(x.min(axis=(0, 2)), x.max(axis=(0, 2)))

    def __call__(self, x):
        span = np.where(self.high > self.low, self.high - self.low, 1.0)
        return np.clip((np.asarray(x, float) - self.low[None, :, None]) / span[None, :, None], 0.0, 1.0)


@dataclass(frozen=True)
class SpeakerData:
    """Resampled, scaled JapaneseVowels: x in [0, 1] of shape (n, 12, steps), labels 0..8."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max()) + 1)


def japanese_vowels(steps: int = 20, subset: int | None = None, seed: int = 0) -> SpeakerData:
    """The standard split, resampled to ``steps`` frames and scaled per channel to [0, 1].

    ``subset`` keeps that many training and test utterances (stratified, seeded): for fast tests.
    """
    xs, ys = load_split("train")
    xt, yt = load_split("test")
    x_train, x_test = resample(xs, steps), resample(xt, steps)
    scale = Scaler.fit(x_train)
    x_train, x_test = scale(x_train), scale(x_test)
    if subset is not None:
        rng = np.random.default_rng(seed)

        def pick(y, n):
            classes = np.unique(y)
            per = max(1, n // classes.size)
            return np.sort(np.concatenate([rng.permutation(np.flatnonzero(y == c))[:per] for c in classes]))

        i, j = pick(ys, subset), pick(yt, subset)
        return SpeakerData(x_train[i], ys[i], x_test[j], yt[j])
    return SpeakerData(x_train, ys, x_test, yt)
