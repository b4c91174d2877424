"""Many devices at once under piecewise-linear voltages: pulse trains and sampled sweeps.

The reference face (:mod:`memspice.models.reference`) integrates one device with scipy's Radau; fitting
and the DDK feature maps need thousands of devices (or parameter sets) driven by the same kind of
waveform, so this module integrates them together, vectorised over the first axis:

* :func:`advance` - classical RK4 over one linear voltage ramp v(s) = v0 + (v1 - v0) s, s in [0, 1];
  each device's substeps keep ``duration * |d rate / dx|`` below ``step_limit`` (accuracy, not only
  stability: at 0.2 the DDK pulse trains agree with an ngspice transient to a few 1e-6 of state), devices
  of similar stiffness integrated together;
* :func:`pulse_states` - the state after each trapezoidal pulse (rise, flat top, fall, 0 V gap), the
  waveform of :func:`memspice.circuits.sources.pulse_train`;
* :func:`sweep_states` - the state at every sample of a sampled voltage sweep v(t_k), linear between
  samples (the PWL source a SPICE transient would use).

The devices are one compact model (its :meth:`~CompactModel.rate` and :meth:`~CompactModel.rate_dx`) or a
:class:`ParameterBatch`, which evaluates one model under many parameter sets (one per device).
"""

from __future__ import annotations

import numpy as np


class ParameterBatch:
    """One compact model evaluated under many parameter sets: row k of ``values`` drives device k.

    ``values`` (k, n_params) lists each set in the model's ``param_names`` order; ``x`` and ``v`` passed to
    :meth:`rate`, :meth:`rate_dx` and :meth:`current` have k on their first axis.
    """

    def __init__(self, model, values):
        values = np.atleast_2d(np.asarray(values, float))
        if values.shape[1] != len(model.param_names):
            raise ValueError(
                f"values must have {len(model.param_names)} columns ({model.param_names}), got {values.shape}"
            )
        self.model, self.values = model, values
        self.x0 = values[:, model.param_names.index("x0")] if "x0" in model.param_names else np.zeros(len(values))

    def _cols(self, like):
        shape = (len(self.values),) + (1,) * (np.ndim(like) - 1)
        return [c.reshape(shape) for c in self.values.T]

    def rate(self, x, v):
        return self.model.rate_with(self._cols(x), x, v)

    def rate_dx(self, x, v):
        return self.model.rate_dx_with(self._cols(x), x, v)

    def current(self, v, x):
        return self.model.current_with(self._cols(np.broadcast(v, x)), v, x)

    def subset(self, idx) -> "ParameterBatch":
        """The parameter sets of devices ``idx``."""
        return ParameterBatch(self.model, self.values[idx])


class _Same:
    """A single model driving every device: subsets are the model itself."""

    def __init__(self, model):
        self.rate, self.rate_dx = model.rate, model.rate_dx

    def subset(self, idx):
        return self


def _devices(model):
    return model if isinstance(model, ParameterBatch) else _Same(model)


def stiffness(model, x, voltages) -> np.ndarray:
    """|d rate / dx| (1/s) per device, the largest over the ``voltages`` given (each broadcast to ``x``)."""
    out = np.zeros(np.shape(x))
    for v in voltages:
        out = np.maximum(out, np.nan_to_num(np.abs(model.rate_dx(x, v)), nan=0.0, posinf=0.0))
    return out


def advance(model, x, duration, v0, v1, stiff=None, step_limit: float = 0.2, max_substeps: int = 2000):
    """State after a linear voltage ramp ``v0 -> v1`` (V) lasting ``duration`` (s), every device at once.

    ``model``: a CompactModel (one for all devices) or a :class:`ParameterBatch` (one row per device).
    ``x``, ``duration``, ``v0``, ``v1``: arrays (n,) (or scalars broadcast to ``x``).  Each device takes
    enough classical RK4 substeps to keep ``duration * stiff`` per substep below ``step_limit``; ``stiff``
    (n,) defaults to :func:`stiffness` at both end voltages.  Devices are integrated in groups of equal
    substep count (rounded up to a power of two), so one stiff device does not slow the others.
    """
    x = np.asarray(x, float)
    n = x.shape
    duration, v0, v1 = (np.broadcast_to(np.asarray(a, float), n) for a in (duration, v0, v1))
    if not np.any(duration > 0):
        return x
    devices = _devices(model)
    if stiff is None:
        stiff = stiffness(devices, x, (v0, v1))
    need = np.clip(np.ceil(duration * np.broadcast_to(stiff, n) / step_limit), 1, max_substeps)
    group = np.minimum(2 ** np.ceil(np.log2(need)), max_substeps).astype(int)
    kinds = np.unique(group)
    if kinds.size == 1:
        return _rk4(devices, x, duration, v0, v1, int(kinds[0]))
    out = x.copy()
    for g in kinds:
        idx = np.flatnonzero(group == g)
        out[idx] = _rk4(devices.subset(idx), x[idx], duration[idx], v0[idx], v1[idx], int(g))
    return out


def _rk4(devices, x, duration, v0, v1, sub: int):
    """``sub`` classical RK4 steps over the ramp (s in [0, 1])."""
    h = 1.0 / sub
    dv = v1 - v0

    def f(xx, s):
        return duration * devices.rate(xx, v0 + dv * s)

    for j in range(sub):
        s = j * h
        k1 = f(x, s)
        k2 = f(x + h / 2 * k1, s + h / 2)
        k3 = f(x + h / 2 * k2, s + h / 2)
        k4 = f(x + h * k3, s + h)
        # the state is a fraction: a step that overshoots a window edge (whose stiffness was not seen at
        # the start of the ramp) is held at the edge, where the window stops the motion
        x = np.clip(x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), 0.0, 1.0)
    return x


def _check_times(name, arr):
    if np.any(~np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and >= 0 s, got min {np.min(arr)!r}")


def pulse_states(
    model,
    amplitudes,
    width,
    gap,
    rise,
    x0=None,
    step_limit: float = 0.2,
    max_substeps: int = 2000,
) -> np.ndarray:
    """State after each trapezoidal pulse (and the 0 V gap after it), many independent devices at once.

    Parameters
    ----------
    model : CompactModel or ParameterBatch
        Stateful device(s) (``rate`` and ``rate_dx`` broadcast over arrays).
    amplitudes : array (n_devices, n_pulses)
        Pulse amplitudes (V); the sign gives the polarity.
    width, gap, rise : float, array (n_devices,) or array (n_devices, n_pulses)
        Flat-top width, 0 V gap after each pulse, rise (= fall) time (s): per device, or per device and pulse.
    x0 : float or array (n_devices,), optional
        Initial states (default the model's ``x0``).
    step_limit, max_substeps
        RK4 accuracy control (see :func:`advance`).

    Returns
    -------
    ndarray (n_devices, n_pulses): the state at the end of each pulse's gap.
    """
    amps = np.atleast_2d(np.asarray(amplitudes, float))
    n, m = amps.shape

    def timing(a):
        a = np.asarray(a, float)
        return np.broadcast_to(a if a.ndim == 2 else a.reshape(-1, 1) if a.ndim == 1 else a, (n, m))

    widths, gaps, rises = (timing(a) for a in (width, gap, rise))
    for name, arr in (("width", widths), ("gap", gaps), ("rise", rises)):
        _check_times(name, arr)
    if x0 is None:
        x0 = model.x0 if isinstance(model, ParameterBatch) else model.params.x0
    x = np.broadcast_to(np.asarray(x0, float), (n,)).copy()
    out = np.empty(amps.shape)
    zero = np.zeros(n)
    devices = _devices(model)
    for k in range(m):
        a, width, gap, rise = amps[:, k], widths[:, k], gaps[:, k], rises[:, k]
        # stiffness once per pulse: at the top (rise, top, fall) and at 0 V (gap), at the start state and at
        # the state an Euler step over the whole pulse predicts (a window edge the pulse runs into)
        ahead = np.clip(x + (width + rise) * np.nan_to_num(devices.rate(x, a)), 0.0, 1.0)
        on = np.maximum(stiffness(devices, x, (a,)), stiffness(devices, ahead, (a,)))
        off = stiffness(devices, x, (zero,))
        for dur, v0, v1, stiff in ((rise, zero, a, on), (width, a, a, on), (rise, a, zero, on), (gap, zero, zero, off)):
            x = advance(model, x, dur, v0, v1, stiff, step_limit, max_substeps)
        out[:, k] = x
    return out


def sweep_states(model, t, v, x0=None, step_limit: float = 0.2, max_substeps: int = 2000) -> np.ndarray:
    """State at every sample of a sweep v(t) (linear between samples), many devices at once.

    ``t`` (m,) strictly increasing times (s), shared; ``v`` (m,) or (n_devices, m) voltages (V).
    Returns (n_devices, m); column 0 is the initial state ``x0`` (the model's by default).
    """
    t = np.asarray(t, float)
    if t.ndim != 1 or t.size < 1 or not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise ValueError("t must be a 1-D array of finite, strictly increasing times (s)")
    if x0 is None:
        x0 = model.x0 if isinstance(model, ParameterBatch) else model.params.x0
    x0 = np.atleast_1d(np.asarray(x0, float))
    v = np.asarray(v, float)
    n = max(x0.shape[0], v.shape[0] if v.ndim == 2 else 1)
    v = np.broadcast_to(v, (n, t.size))
    x = np.broadcast_to(x0, (n,)).copy()
    out = np.empty((n, t.size))
    out[:, 0] = x
    for k in range(1, t.size):
        x = advance(model, x, t[k] - t[k - 1], v[:, k - 1], v[:, k], None, step_limit, max_substeps)
        out[:, k] = x
    return out
