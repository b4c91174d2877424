"""Feature scaling fitted on a training split only: min-max to [0, 1] (clipped) and standardising.

The one place for the rule the systems' data preparation shares (the spiking network's intensities,
:mod:`memspice.systems.snn.data`; the DDK network's pulses and its baselines' inputs,
:mod:`memspice.systems.ddk.data`): the range or the moments come from the training samples alone, and
test samples are mapped with them (min-max: clipped to [0, 1], a test value outside the training range
saturates).  Features lie along axis 1; every other axis (samples, and for series the time steps) is
pooled.  The two min-max conventions for a constant training feature (zero range) are kept explicit
(:class:`ConstantFeature`).

This module imports nothing from memspice but :mod:`memspice.core.choices`: every layer may use it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .choices import Choice


class ConstantFeature(Choice):
    """What min-max scaling gives for a feature that is constant on the training split (zero range).

    ``ZERO``: 0 for every sample (a constant feature carries no information: it never drives an input).
    ``OFFSET``: ``x - low`` (the range taken as 1), clipped to [0, 1]: training samples give 0, test
    samples above the training value keep their offset up to 1.
    """

    ZERO = "zero"
    OFFSET = "offset"


def training_range(x_train, global_range: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature ``(low, high)`` of ``x_train`` (samples, features, ...): the minimum and maximum over
    every axis but axis 1; ``global_range``: the one minimum and maximum of the whole array, for every
    feature (features in one unit, e.g. pixels)."""
    x = np.asarray(x_train, float)
    if global_range:
        return np.full(x.shape[1], x.min()), np.full(x.shape[1], x.max())
    axes = (0,) + tuple(range(2, x.ndim))
    return x.min(axis=axes), x.max(axis=axes)


@dataclass(frozen=True)
class MinMaxScaler:
    """Min-max scaling to [0, 1] by a training range: ``(x - low) / (high - low)``, clipped.

    Parameters
    ----------
    low, high : ndarray
        Per-feature training minimum and maximum (:func:`training_range`).
    constant : ConstantFeature
        What a feature with ``high == low`` maps to (default ``ZERO``).
    """

    low: np.ndarray
    high: np.ndarray
    constant: ConstantFeature = ConstantFeature.ZERO

    @property
    def span(self) -> np.ndarray:
        """Per-feature training range ``high - low``."""
        return self.high - self.low

    def __call__(self, x) -> np.ndarray:
        """``x`` (samples, features, ...) scaled to [0, 1] feature by feature (along axis 1), clipped."""
        x = np.asarray(x, float)
        shape = (1, -1) + (1,) * (x.ndim - 2)
        low, high = self.low.reshape(shape), self.high.reshape(shape)
        z = x - low
        if ConstantFeature.parse(self.constant) is ConstantFeature.ZERO:
            span = high - low
            out = np.divide(z, span, out=np.zeros_like(z), where=span > 0)
        else:
            out = z / np.where(high > low, high - low, 1.0)
        return np.clip(out, 0.0, 1.0)


@dataclass(frozen=True)
class Standardiser:
    """Per-feature zero mean, unit variance from the training split (constant features stay 0).

    ``x`` is (samples, features); a feature with zero training spread is divided by 1 (only centred).
    """

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, x_train) -> Standardiser:
        x = np.asarray(x_train, float)
        sd = x.std(axis=0)
        return cls(x.mean(axis=0), np.where(sd > 0, sd, 1.0))

    def __call__(self, x) -> np.ndarray:
        return (np.asarray(x, float) - self.mean) / self.std
