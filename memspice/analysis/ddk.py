"""Drift-diffusion kinetics (DDK) feature maps and alpha/beta fitting (Shi et al., Nat. Commun. 16, 2025).

A waveform is split into utterances, each average-pooled to a short feature vector, whose samples set the
amplitudes (2-3 V) of 100 ns pulses applied to one device per utterance.  The conductance after each pulse
forms the feature map (utterances x features).  The normalised DDK law dy/dt = -beta x + alpha / y is
fitted to each row with bounded trust-region-reflective least squares from random starts.

:func:`feature_map` takes any stateful device; the device calibrated to the paper's pulsed conductance is
``memspice.systems.ddk.device.ddk_memristor()`` (``memspice reproduce ddk`` uses it).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares

from ..models.drive import pulse_states


def synthetic_call(samples: int = 48000, seed: int = 0, utterances: int = 8) -> np.ndarray:
    """A whale-call-like test waveform of ``utterances`` calls that differ visibly, seeded.

    Each call is a frequency sweep (up or down, 40-400 cycles per call) under
    its own envelope: loudness 0.15-1 (spread evenly over the calls in a seeded
    order), onset, length and rise/decay shape drawn at random, over a 0.05
    noise floor.  (Shi et al. 2025 use a recorded whale sound; none ships with
    memspice, so this stand-in is assumed.)
    """
    if utterances < 1 or samples < utterances:
        raise ValueError(f"need 1 <= utterances <= samples, got utterances={utterances!r}, samples={samples!r}")
    rng = np.random.default_rng(seed)
    per = samples // utterances
    out = 0.05 * rng.normal(size=samples)
    levels = rng.permutation(np.linspace(0.15, 1.0, utterances))
    u = np.linspace(0.0, 1.0, per, endpoint=False)
    for k in range(utterances):
        start, length = rng.uniform(0.0, 0.4), rng.uniform(0.3, 0.6)
        skew = rng.uniform(0.2, 0.8)  # where in the call the envelope peaks
        s = np.clip((u - start) / length, 0.0, 1.0)
        env = np.where(s < skew, s / skew, (1 - s) / (1 - skew)) * ((u >= start) & (u <= start + length))
        f0, f1 = rng.uniform(40, 400, 2)
        phase = 2 * np.pi * np.cumsum(f0 + (f1 - f0) * u) / per
        out[k * per : (k + 1) * per] += levels[k] * env * np.sin(phase)
    return out


def pooled_features(signal, utterances: int = 8, features: int = 100) -> np.ndarray:
    """Split into ``utterances`` and average-pool |signal| to ``features`` samples each."""
    s = np.abs(np.asarray(signal, float))
    per = s.size // utterances
    pool = per // features
    if pool < 1:
        raise ValueError(f"signal of {s.size} samples is too short for {utterances} x {features} features")
    return s[: utterances * features * pool].reshape(utterances, features, pool).mean(axis=2)


def pulse_amplitudes(features, v_low: float = 2.0, v_high: float = 3.0) -> np.ndarray:
    """Map features linearly to pulse amplitudes in [v_low, v_high] (V)."""
    f = np.asarray(features, float)
    span = np.ptp(f) or 1.0
    return v_low + (f - f.min()) / span * (v_high - v_low)


def feature_map(amplitudes, device, width: float = 100e-9, gap: float = 100e-9, v_read: float = 0.1) -> np.ndarray:
    """Conductance (S) after each pulse: one ``device`` run per row of ``amplitudes`` (V), all rows at once.

    Pulses are RESET-polarity (the device sees -amplitude), trapezoidal (``width`` flat top, width/20 ramps),
    separated by ``gap`` at 0 V; the conductance is read at ``v_read`` from the device's current law.
    """
    amps = np.atleast_2d(np.asarray(amplitudes, float))
    x = pulse_states(device, -amps, width, gap, width / 20)
    return device.current(np.full(x.shape, v_read), x) / v_read


def ddk_trajectory(inputs, alpha: float, beta: float, y0: float, dt: float = 1.0) -> np.ndarray:
    """Normalised DDK law y' = -beta x + alpha / y, one explicit step of ``dt`` per input sample."""
    y = np.empty(len(inputs))
    cur = y0
    for k, xk in enumerate(inputs):
        cur = max(cur + dt * (-beta * xk + alpha / max(cur, 1e-3)), 1e-3)
        y[k] = cur
    return y


def normalise(values) -> np.ndarray:
    v = np.asarray(values, float)
    span = np.ptp(v) or 1.0
    return (v - v.min()) / span


def fit_ddk(inputs, observed, starts: int = 8, seed: int = 0, dt: float = 0.2) -> dict:
    """Fit alpha, beta in [0, 1] of :func:`ddk_trajectory` to ``observed`` (both normalised to [0, 1]).

    Bounded trust-region-reflective least squares (scipy) from ``starts`` random initial guesses.
    """
    x = normalise(inputs)
    y = np.asarray(observed, float)
    rng = np.random.default_rng(seed)
    best = None
    for _ in range(starts):
        p0 = rng.uniform(0.01, 0.99, 2)
        res = least_squares(
            lambda p: ddk_trajectory(x, p[0], p[1], y[0], dt) - y, p0, bounds=([0, 0], [1, 1]), method="trf"
        )
        if best is None or res.cost < best.cost:
            best = res
    assert best is not None  # starts >= 1
    rms = float(np.sqrt(np.mean(best.fun**2)))
    return {"alpha": float(best.x[0]), "beta": float(best.x[1]), "rms": rms}
