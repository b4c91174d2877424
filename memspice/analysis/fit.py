"""Fit a compact model's parameters to measured I-V sweeps and pulse responses (``memspice fit``).

Any model of :mod:`memspice.models` (drift-diffusion in series or parallel conduction, TiOx, threshold
switch, selector) and the access transistor
(:class:`~memspice.models.access_transistor.AccessTransistor`) is fitted through its own parameter
dataclass and its Python face, so the fitted set prints straight into the behavioural ``.subckt`` and
the Verilog-A module.

Method (as Shi et al., Nat. Commun. 16, 2025, fit their drift-diffusion kinetics): nonlinear least
squares, scipy's trust-region-reflective ``least_squares`` with bounds, from several random initial
guesses (the first is the given starting point); the lowest cost wins.  Parameters whose lower bound is
> 0 are fitted as log10(p) (decades, so 1e-14 and 1e5 are handled alike); the others linearly,
scaled by their upper bound.  The Jacobian is a central difference in those coordinates, all parameter
sets of one Jacobian simulated together (:class:`memspice.models.drive.ParameterBatch`).

Data (CSV, header row required; names are case-insensitive and a unit in brackets is ignored, e.g.
``t [s]``; ``#`` starts a comment line; comma, semicolon or tab separated):

* I-V sweep (:class:`Sweep`): columns ``t`` (s), ``v`` (V), ``i`` (A).  Stateful models are integrated
  along v(t), linear between samples, from the model's ``x0`` at the first sample; memoryless models
  use ``v`` only (``t`` may be left out).  The access transistor takes ``vg``, ``vd``, ``vs`` (V;
  ``vs`` optional, 0) and ``i`` (A, drain to source) instead (:class:`TransistorSweep`).
* Pulse response (:class:`PulseResponse`): one pulse train applied to a device starting at ``x0``, one
  row per pulse: ``pulse`` (1, 2, 3, ... in order; an optional first row 0 is the read before any
  pulse, amplitude 0), ``amplitude`` (V, signed), ``width`` (s, flat top), ``g`` (S, read after the
  pulse), and optionally ``gap`` (s, 0 V after the pulse; default = width), ``rise`` (s, rise = fall;
  default width/20, as :func:`memspice.circuits.sources.pulse_train`) and ``v_read`` (V, the read
  voltage: g = i(v_read)/v_read; default 0.1 V).  The defaults are assumptions: give the columns when
  you know the values.

Several files are fitted together (one parameter set); each file's residuals are divided by the RMS of
its data, so files in different units weigh alike.

Confidence intervals are the linearised estimate: covariance = s^2 (J^T J)^-1 in the fitted
coordinates at the solution, s^2 = sum of squared residuals / (n - p), 95% from Student's t; a
log-fitted parameter's interval is the exponential of its symmetric interval in log10 (so it is
asymmetric in the parameter itself).  They are exact only for a model linear in its parameters with
independent Gaussian noise, are meaningless for a parameter at its bound (flagged ``at_bound``) and
infinite for one the data do not determine (a zero singular value of J).
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.choices import Choice
from ..core.files import save_figure_atomic, write_atomic
from ..models import MODELS, CompactModel
from ..models.access_transistor import AccessTransistor
from ..models.drive import ParameterBatch, pulse_states, sweep_states

#: models ``memspice fit`` knows by name: every compact model and the access transistor
FIT_MODELS: dict[str, type] = {**MODELS, "access_transistor": AccessTransistor}

#: default read voltage of a pulse response (V); assumed: a small read that does not disturb the state
V_READ = 0.1
#: how many decades either side of the starting value a log-fitted parameter may move by default (assumed)
DECADES = 3.0


class Residual(Choice):
    """How a point's residual is measured."""

    ABSOLUTE = "absolute"  #: (model - data) / RMS(data of the file)
    LOG = "log"  #: asinh(model/f) - asinh(data/f), f = 1e-3 max|data|: decades for |data| >> f, sign kept


# -- data files -----------------------------------------------------------------------------------------


def _clean_name(name: str) -> str:
    return re.sub(r"[\[(].*?[\])]", "", str(name)).strip().lower()


#: a free-text column any data file may carry (where each point comes from); ignored by the fit
NOTE = "note"


def read_table(path, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Numeric columns of a CSV file by (cleaned) name; a clear ``ValueError`` for anything wrong.

    A ``note`` column (free text, e.g. where each point comes from) is allowed and skipped.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        frame = pd.read_csv(path, sep=None, engine="python", comment="#", skip_blank_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable CSV table ({exc})") from None
    names = [_clean_name(c) for c in frame.columns]
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: repeated column names {names}")
    frame.columns = names
    missing = [c for c in required if c not in names]
    if missing:
        raise ValueError(
            f"{path}: missing column(s) {missing}; found {names} (needs {list(required)}"
            + (f", optional {list(optional)}" if optional else "")
            + "; a header row is required)"
        )
    unknown = [c for c in names if c not in required + optional + (NOTE,)]
    if unknown:
        raise ValueError(f"{path}: unknown column(s) {unknown}; expected {list(required + optional)} (and {NOTE!r})")
    if len(frame) == 0:
        raise ValueError(f"{path}: no data rows")
    out = {}
    for name in (n for n in names if n != NOTE):
        col = pd.to_numeric(frame[name], errors="coerce")
        bad = np.flatnonzero(~np.isfinite(col.to_numpy(dtype=float)))
        if bad.size:
            row = int(bad[0])
            raise ValueError(
                f"{path}: column {name!r} row {row + 1} holds {frame[name].iloc[row]!r}, not a finite number"
            )
        out[name] = col.to_numpy(dtype=float)
    return out


@dataclass(frozen=True)
class Sweep:
    """A measured I-V sweep: current ``i`` (A) under voltage ``v`` (V) at times ``t`` (s; None: DC points)."""

    v: np.ndarray
    i: np.ndarray
    t: np.ndarray | None = None
    name: str = "sweep"

    def __post_init__(self):
        v, i = np.asarray(self.v, float), np.asarray(self.i, float)
        if v.ndim != 1 or v.shape != i.shape or v.size < 2:
            raise ValueError(f"{self.name}: v and i must be 1-D of the same length >= 2, got {v.shape}, {i.shape}")
        if self.t is not None:
            t = np.asarray(self.t, float)
            if t.shape != v.shape or np.any(np.diff(t) <= 0):
                raise ValueError(f"{self.name}: t must be strictly increasing, one time per sample")

    @classmethod
    def read(cls, path) -> "Sweep":
        cols = read_table(path, ("v", "i"), ("t",))
        try:
            return cls(cols["v"], cols["i"], cols.get("t"), Path(path).name)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None

    @property
    def observed(self) -> np.ndarray:
        return np.asarray(self.i, float)

    axis = property(lambda self: (np.asarray(self.v, float), "v (V)"))
    unit = "A"

    def predict(self, target: "_Target", values: np.ndarray) -> np.ndarray:
        model = target.compact(self)
        batch = ParameterBatch(model, values)
        v = np.asarray(self.v, float)
        if model.has_state():
            if self.t is None:
                raise ValueError(f"{self.name}: {type(model).__name__} has a state: the sweep needs a t column")
            x = sweep_states(batch, self.t, v)
        else:
            x = np.zeros((len(values), v.size))
        return batch.current(np.broadcast_to(v, x.shape), x)


@dataclass(frozen=True)
class TransistorSweep:
    """Measured drain current ``i`` (A, drain to source) at gate, drain and source voltages (V)."""

    vg: np.ndarray
    vd: np.ndarray
    vs: np.ndarray
    i: np.ndarray
    name: str = "transistor"

    @classmethod
    def read(cls, path) -> "TransistorSweep":
        cols = read_table(path, ("vg", "vd", "i"), ("vs",))
        vs = cols.get("vs", np.zeros_like(cols["vd"]))
        return cls(cols["vg"], cols["vd"], vs, cols["i"], Path(path).name)

    @property
    def observed(self) -> np.ndarray:
        return np.asarray(self.i, float)

    axis = property(lambda self: (np.asarray(self.vd, float) - np.asarray(self.vs, float), "v_ds (V)"))
    unit = "A"

    def predict(self, target: "_Target", values: np.ndarray) -> np.ndarray:
        if target.cls is not AccessTransistor:
            raise ValueError(f"{self.name}: vg/vd/vs data fit the access transistor, not {target.key}")
        return np.stack([target.build(row).current(self.vg, self.vd, self.vs)[0] for row in values])


@dataclass(frozen=True)
class PulseResponse:
    """One pulse train on a device starting at ``x0``: conductance ``g`` (S) read after each pulse.

    ``amplitude`` (V), ``width``, ``gap``, ``rise`` (s) per pulse; ``v_read`` (V); ``initial`` True when
    the first row is the read before any pulse (pulse 0).
    """

    amplitude: np.ndarray
    width: np.ndarray
    gap: np.ndarray
    rise: np.ndarray
    g: np.ndarray
    v_read: float = V_READ
    initial: bool = False
    name: str = "pulses"

    @classmethod
    def read(cls, path) -> "PulseResponse":
        cols = read_table(path, ("pulse", "amplitude", "width", "g"), ("gap", "rise", "v_read"))
        pulse = cols["pulse"]
        initial = bool(pulse[0] == 0)
        expected = np.arange(0 if initial else 1, (0 if initial else 1) + pulse.size)
        if not np.array_equal(pulse, expected):
            raise ValueError(f"{path}: pulse must count 1, 2, 3, ... (optionally from 0) in order, got {pulse[:6]}")
        if initial and cols["amplitude"][0] != 0:
            raise ValueError(f"{path}: row 0 is the read before any pulse: its amplitude must be 0")
        width = cols["width"]
        if np.any(width[int(initial) :] <= 0):
            raise ValueError(f"{path}: width must be > 0 s")
        gap = cols.get("gap", width)
        rise = cols.get("rise", width / 20)
        for name, arr in (("gap", gap), ("rise", rise)):
            if np.any(arr < 0):
                raise ValueError(f"{path}: {name} must be >= 0 s")
        if np.any(cols["g"] <= 0):
            raise ValueError(f"{path}: g must be a conductance > 0 S")
        v_read = cols.get("v_read", np.array([V_READ]))
        if np.ptp(v_read) != 0 or v_read[0] == 0:
            raise ValueError(f"{path}: v_read must be one non-zero read voltage for the whole train")
        return cls(cols["amplitude"], width, gap, rise, cols["g"], float(v_read[0]), initial, Path(path).name)

    @property
    def observed(self) -> np.ndarray:
        return np.asarray(self.g, float)

    axis = property(lambda self: (np.arange(len(self.g)) + (0 if self.initial else 1), "pulse number"))
    unit = "S"

    def predict(self, target: "_Target", values: np.ndarray) -> np.ndarray:
        model = target.compact(self)
        if not model.has_state():
            raise ValueError(f"{self.name}: {type(model).__name__} has no state: a pulse response needs one")
        batch = ParameterBatch(model, values)
        k = len(values)
        s = slice(int(self.initial), None)
        amps = np.broadcast_to(np.asarray(self.amplitude, float)[s], (k, len(self.g) - int(self.initial)))
        # per-pulse timing: one call per pulse keeps each pulse's own width, gap and rise
        x = batch.x0.copy()
        states = [x] if self.initial else []
        for j in range(amps.shape[1]):
            w, gp, r = (float(np.asarray(a)[s][j]) for a in (self.width, self.gap, self.rise))
            x = pulse_states(batch, amps[:, j : j + 1], w, gp, r, x0=x)[:, 0]
            states.append(x)
        xs = np.stack(states, axis=1)
        return batch.current(np.full(xs.shape, self.v_read), xs) / self.v_read


Data = Sweep | TransistorSweep | PulseResponse


# -- the model being fitted -----------------------------------------------------------------------------


@dataclass
class _Target:
    """A parameter dataclass with its Python face: what the fit changes and how it predicts data."""

    key: str
    cls: type
    params: Any  # the Params (or AccessTransistor) instance holding every starting / fixed value
    model: CompactModel | None = None

    @property
    def names(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self.params)]

    def vector(self, params=None) -> np.ndarray:
        p = self.params if params is None else params
        return np.array([float(getattr(p, n)) for n in self.names])

    def build(self, row):
        """Parameter object (validated: ValueError naming the parameter) for one value row."""
        made = dataclasses.replace(self.params, **dict(zip(self.names, map(float, row))))
        return made

    def compact(self, data) -> CompactModel:
        if self.model is None:
            raise ValueError(f"{data.name}: the {self.key} fits vg/vd/vs/i transistor data, not {type(data).__name__}")
        return self.model


def _key(cls: type) -> str:
    """The :data:`FIT_MODELS` name of a model class (its class name when it is not registered)."""
    return next((k for k, c in FIT_MODELS.items() if c is cls), cls.__name__)


def _target(model, values: dict[str, float] | None) -> _Target:
    values = dict(values or {})
    cls: Any
    if isinstance(model, str):
        if model not in FIT_MODELS:
            raise ValueError(f"unknown model {model!r}; known: {', '.join(FIT_MODELS)}")
        cls, key, base = FIT_MODELS[model], model, None
    elif isinstance(model, CompactModel):
        cls, key, base = type(model), _key(type(model)), model.params
    elif isinstance(model, AccessTransistor):
        cls, key, base = AccessTransistor, "access_transistor", model
    elif isinstance(model, type) and (issubclass(model, CompactModel) or model is AccessTransistor):
        cls, key, base = model, _key(model), None
    else:
        raise TypeError(f"model must be a name, a CompactModel or an AccessTransistor, got {model!r}")
    pcls = AccessTransistor if cls is AccessTransistor else cls.Params
    names = [f.name for f in dataclasses.fields(pcls)]
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ValueError(f"unknown {pcls.__name__} parameter(s) {unknown}; parameters: {names}")
    base = base if base is not None else pcls()
    params = dataclasses.replace(base, **{k: float(v) for k, v in values.items()})
    compact = None if cls is AccessTransistor else cls(params)
    return _Target(key, cls, params, compact)


@dataclass(frozen=True)
class _Coordinate:
    """Fitted coordinate of one parameter: log10 when its lower bound is > 0, else linear / upper bound."""

    name: str
    lo: float
    hi: float

    @property
    def log(self) -> bool:
        return self.lo > 0

    @property
    def scale(self) -> float:
        return max(abs(self.hi), abs(self.lo)) or 1.0

    def z(self, p):
        return np.log10(p) if self.log else np.asarray(p) / self.scale

    def p(self, z):
        with np.errstate(over="ignore"):
            return 10.0 ** np.asarray(z) if self.log else np.asarray(z) * self.scale

    @property
    def z_bounds(self) -> tuple[float, float]:
        return float(self.z(self.lo)), float(self.z(self.hi))


def _default_bounds(target: _Target, name: str, value: float) -> tuple[float, float]:
    f = next(f for f in dataclasses.fields(target.params) if f.name == name)
    check = f.metadata.get("check", "any")
    if check == "fraction":
        return 0.0, 1.0
    if check in ("positive", "ratio") and value > 0:
        return value / 10**DECADES, value * 10**DECADES
    if check == "nonnegative":
        return 0.0, max(value, 1e-30) * 10**DECADES
    span = max(abs(value), 1.0) * 10**DECADES
    return -span, span


# -- result ---------------------------------------------------------------------------------------------


@dataclass
class FitResult:
    """A finished fit: the fitted parameter object, the estimates with confidence intervals, the residuals."""

    model_key: str
    model_class: type
    params: Any
    free: list[str]
    table: list[dict]
    cost: float
    n_points: int
    dof: int
    sigma2: float
    covariance: np.ndarray
    correlation: np.ndarray
    data: list
    predicted: list[np.ndarray]
    residual: Residual
    starts: list[dict]
    message: str
    fixed: dict[str, float] = field(default_factory=dict)

    def estimate(self, name: str) -> dict:
        return next(r for r in self.table if r["name"] == name)

    def model(self):
        """The fitted model (CompactModel with the fitted parameters, or the AccessTransistor)."""
        if isinstance(self.params, AccessTransistor):
            return self.params
        return self.model_class(self.params)

    def rms(self) -> list[float]:
        """RMS error of each data file in its own unit (A or S)."""
        return [float(np.sqrt(np.mean((p - d.observed) ** 2))) for p, d in zip(self.predicted, self.data)]

    def relative_rms(self) -> list[float]:
        """RMS error of each file over the RMS of its data (dimensionless)."""
        return [r / float(np.sqrt(np.mean(d.observed**2))) for r, d in zip(self.rms(), self.data)]

    def summary(self) -> dict:
        return {
            "model": self.model_key,
            "free": self.free,
            "estimates": self.table,
            "fixed": self.fixed,
            "cost": self.cost,
            "n_points": self.n_points,
            "dof": self.dof,
            "sigma2": self.sigma2,
            "residual": str(self.residual),
            "rms": {d.name: r for d, r in zip(self.data, self.rms())},
            "relative_rms": {d.name: r for d, r in zip(self.data, self.relative_rms())},
            "correlation": self.correlation.tolist(),
            "starts": self.starts,
            "message": self.message,
            "confidence_note": "95% intervals from the linearised covariance s^2 (J^T J)^-1 at the solution "
            "(log-fitted parameters: symmetric in log10); exact only for a model linear in its parameters",
        }


# -- the fit ----------------------------------------------------------------------------------------------


def _load(data) -> list:
    out = []
    for d in data if isinstance(data, (list, tuple)) else [data]:
        if not isinstance(d, (Sweep, TransistorSweep, PulseResponse)):
            raise TypeError(f"data must be Sweep, TransistorSweep or PulseResponse, got {type(d).__name__}")
        out.append(d)
    if not out:
        raise ValueError("no data to fit")
    return out


def fit(
    model,
    data,
    free,
    values: dict[str, float] | None = None,
    bounds: dict[str, tuple[float, float]] | None = None,
    starts: int = 8,
    seed: int = 0,
    residual: Residual | str = Residual.ABSOLUTE,
    max_nfev: int = 200,
    diff_step: float = 1e-3,
) -> FitResult:
    """Fit the ``free`` parameters of ``model`` to ``data`` by bounded least squares from ``starts`` guesses.

    Parameters
    ----------
    model : str, CompactModel or AccessTransistor
        A name of :data:`FIT_MODELS` (defaults as starting values) or a model instance (its parameters).
    data : Sweep, TransistorSweep, PulseResponse or a list of them
        The measurements (all fitted with one parameter set).
    free : list of str
        Parameters to fit; every other parameter stays at its value.
    values : dict, optional
        Parameter values replacing the model's: starting values of free ones, fixed values of the rest.
    bounds : dict of name -> (low, high), optional
        Bounds in the parameter's unit (default: [0, 1] for fractions, 10^-3..10^3 times the start for
        positive parameters).
    starts : int
        Initial guesses: the starting values, then ``starts - 1`` drawn uniformly (in the fitted coordinates)
        within the bounds from ``seed``.
    residual : Residual
        ``absolute`` (default) or ``log`` (for currents spanning decades).
    max_nfev : int
        Function evaluations per start (scipy ``least_squares``).
    diff_step : float
        Central-difference step in the fitted coordinates (decades for log-fitted parameters).
    """
    from scipy.optimize import least_squares
    from scipy.stats import t as student_t

    data = _load(data)
    residual = Residual.parse(residual)
    target = _target(model, values)
    names = target.names
    free = list(dict.fromkeys(free))
    if not free:
        raise ValueError(f"name at least one parameter to fit; parameters: {names}")
    unknown = [n for n in free if n not in names]
    if unknown:
        raise ValueError(f"unknown parameter(s) to fit {unknown}; parameters of {target.key}: {names}")
    if not (isinstance(starts, int) and starts >= 1):
        raise ValueError(f"starts must be an integer >= 1, got {starts!r}")
    bounds = dict(bounds or {})
    bad = sorted(set(bounds) - set(free))
    if bad:
        raise ValueError(f"bounds given for parameter(s) not being fitted: {bad}")
    base = target.vector()
    coords = []
    for n in free:
        value = base[names.index(n)]
        lo, hi = bounds.get(n, _default_bounds(target, n, value))
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"bounds of {n} must be finite with low < high, got ({lo!r}, {hi!r})")
        if not lo <= value <= hi:
            raise ValueError(f"starting value of {n} ({value!r}) lies outside its bounds ({lo!r}, {hi!r})")
        coords.append(_Coordinate(n, float(lo), float(hi)))
    index = [names.index(n) for n in free]
    z_lo = np.array([c.z_bounds[0] for c in coords])
    z_hi = np.array([c.z_bounds[1] for c in coords])
    observed = [d.observed for d in data]
    n_points = int(sum(o.size for o in observed))
    if n_points <= len(free):
        raise ValueError(f"{n_points} data points cannot determine {len(free)} parameters")
    scales = [float(np.sqrt(np.mean(o**2))) or 1.0 for o in observed]
    floors = [1e-3 * float(np.max(np.abs(o))) or 1e-30 for o in observed]

    def rows(zs):
        out = np.repeat(base[None, :], len(zs), axis=0)
        for j, (c, k) in enumerate(zip(coords, index)):
            out[:, k] = c.p(zs[:, j])
        return out

    def valid(row) -> bool:
        try:
            target.build(row)
        except ValueError:
            return False
        return True

    def residuals(zs):
        """(len(zs), n_points) residuals; rows of invalid parameter sets are NaN."""
        vals = rows(np.atleast_2d(zs))
        ok = np.array([valid(r) for r in vals])
        out = np.full((len(vals), n_points), np.nan)
        if not ok.any():
            return out
        parts = []
        for d, o, sc, fl in zip(data, observed, scales, floors):
            with np.errstate(all="ignore"):
                pred = d.predict(target, vals[ok])
                if residual is Residual.LOG:
                    parts.append(np.arcsinh(pred / fl) - np.arcsinh(o / fl))
                else:
                    parts.append((pred - o) / sc)
        out[ok] = np.concatenate(parts, axis=1)
        return out

    penalty = 1e3  # residual of a parameter set the model refuses or cannot simulate (finite for scipy)

    def fun(z):
        r = residuals(z[None, :])[0]
        return np.where(np.isfinite(r), r, penalty)

    def jac(z):
        p = z.size
        h = np.full(p, diff_step)
        zs = np.concatenate([z + np.diag(h), z - np.diag(h)])
        zs = np.clip(zs, z_lo, z_hi)
        r = residuals(np.concatenate([z[None, :], zs]))
        r0, rp, rm = r[0], r[1 : p + 1], r[p + 1 :]
        out = np.empty((r0.size, p))
        for j in range(p):
            up, dn = zs[j, j], zs[p + j, j]
            fine_p, fine_m = np.all(np.isfinite(rp[j])), np.all(np.isfinite(rm[j]))
            if fine_p and fine_m and up > dn:
                out[:, j] = (rp[j] - rm[j]) / (up - dn)
            elif fine_p and up > z[j]:
                out[:, j] = (rp[j] - r0) / (up - z[j])
            elif fine_m and dn < z[j]:
                out[:, j] = (r0 - rm[j]) / (z[j] - dn)
            else:
                out[:, j] = 0.0
        return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)

    rng = np.random.default_rng(seed)
    z_start = np.array([c.z(base[k]) for c, k in zip(coords, index)], float)
    runs: list[dict[str, Any]] = []
    best = None
    for s in range(starts):
        # the given start, then random ones; a draw the model refuses (e.g. r_on > r_off) is drawn again
        for _ in range(1 if s == 0 else 50):
            z0 = z_start if s == 0 else rng.uniform(z_lo, z_hi)
            ok = np.all(np.isfinite(residuals(z0[None, :])[0]))
            if ok:
                break
        if not ok:
            runs.append({"start": s, "cost": None, "status": "no valid starting point", "nfev": 0})
            continue
        res = least_squares(fun, z0, jac=jac, bounds=(z_lo, z_hi), method="trf", max_nfev=max_nfev, x_scale=1.0)
        runs.append({"start": s, "cost": float(res.cost), "status": res.message, "nfev": int(res.nfev)})
        if best is None or res.cost < best.cost:
            best = res
    if best is None:
        raise ValueError("no starting point gave a valid parameter set; check --set values and bounds")

    z = best.x
    J = jac(z)
    r = fun(z)
    p = len(free)
    dof = n_points - p
    sigma2 = float(r @ r / dof)
    u, sv, vt = np.linalg.svd(J, full_matrices=False)
    tol = sv.max() * max(J.shape) * np.finfo(float).eps if sv.size else 0.0
    inv = np.where(sv > tol, 1.0 / np.where(sv > tol, sv, 1.0) ** 2, np.inf)
    with np.errstate(invalid="ignore"):
        cov = (vt.T * inv) @ vt * sigma2
    # a direction with a zero singular value makes every parameter that loads on it undetermined
    undetermined = np.any((np.abs(vt[sv <= tol]) > 1e-8), axis=0) if np.any(sv <= tol) else np.zeros(p, bool)
    var = np.where(undetermined, np.inf, np.abs(np.diag(np.where(np.isfinite(cov), cov, 0.0))))
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(var)
        corr = cov / np.outer(sd, sd)
    tq = float(student_t.ppf(0.975, dof))
    vals = rows(z[None, :])[0]
    fitted = target.build(vals)
    table = []
    for j, c in enumerate(coords):
        value = float(c.p(z[j]))
        lo_z, hi_z = z[j] - tq * sd[j], z[j] + tq * sd[j]
        if c.log:
            stderr = value * math.log(10) * sd[j]
            lo, hi = float(c.p(lo_z)), float(c.p(hi_z))
        else:
            stderr = c.scale * sd[j]
            lo, hi = value - tq * stderr, value + tq * stderr
        f = next(f for f in dataclasses.fields(target.params) if f.name == c.name)
        table.append(
            {
                "name": c.name,
                "value": value,
                "stderr": float(stderr),
                "ci_low": lo,
                "ci_high": hi,
                "unit": f.metadata.get("unit", ""),
                "scale": "log10" if c.log else "linear",
                "bound_low": c.lo,
                "bound_high": c.hi,
                "at_bound": bool(best.active_mask[j] != 0),
                # an interval wider than the whole allowed range: the data do not pin the parameter down
                "determined": bool(np.isfinite(sd[j]) and 2 * tq * sd[j] < z_hi[j] - z_lo[j]),
            }
        )
    predicted = [d.predict(target, vals[None, :])[0] for d in data]
    fixed = {n: float(v) for n, v in zip(names, vals) if n not in free}
    return FitResult(
        target.key,
        target.cls,
        fitted,
        free,
        table,
        float(best.cost),
        n_points,
        dof,
        sigma2,
        cov,
        np.where(np.isfinite(corr), corr, np.nan),
        data,
        predicted,
        residual,
        runs,
        str(best.message),
        fixed,
    )


# -- output ---------------------------------------------------------------------------------------------


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def params_json(result: FitResult) -> str:
    """The Python face: model name, class and every parameter value (load with :func:`load_params`)."""
    cls = result.model_class
    doc = {
        "model": result.model_key,
        "class": f"{cls.__module__}.{cls.__name__}",
        "params": {f.name: float(getattr(result.params, f.name)) for f in dataclasses.fields(result.params)},
    }
    return json.dumps(doc, indent=2) + "\n"


def load_params(path):
    """The model a ``params.json`` written by ``memspice fit`` describes (CompactModel or AccessTransistor)."""
    try:
        doc = json.loads(Path(path).read_text())
        key, values = doc["model"], doc["params"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a params.json written by memspice fit ({exc})") from None
    if key not in FIT_MODELS:
        raise ValueError(f"{path}: unknown model {key!r}; known: {', '.join(FIT_MODELS)}")
    cls = FIT_MODELS[key]
    doc = {"params": values}
    if cls is AccessTransistor:
        return AccessTransistor(**doc["params"])
    return cls(cls.Params(**doc["params"]))


def residual_figure(result: FitResult):
    """Data and fitted model (top) and residuals (bottom) for every data file; the worst point is marked.

    With ``log`` residuals the top axis is symmetric-log and the bottom shows the fitted measure
    (asinh ratio: about ln(model/data) where |data| is well above the floor).
    """
    import matplotlib.pyplot as plt

    k = len(result.data)
    fig, axes = plt.subplots(2, k, figsize=(5.2 * k, 6.0), squeeze=False, sharex="col")
    log = result.residual is Residual.LOG
    for j, (d, pred) in enumerate(zip(result.data, result.predicted)):
        x, label = d.axis
        top, bottom = axes[0, j], axes[1, j]
        top.plot(x, d.observed, "o", ms=3, color="tab:blue", label="data")
        top.plot(x, pred, "-", lw=1.3, color="tab:orange", label="fit")
        top.set_ylabel(f"{'g' if d.unit == 'S' else 'i'} ({d.unit})")
        top.set_title(d.name, fontsize=9)
        top.legend(frameon=False, fontsize=8)
        floor = 1e-3 * float(np.max(np.abs(d.observed))) or 1e-30
        if log:
            top.set_yscale("symlog", linthresh=floor)
            res = np.arcsinh(pred / floor) - np.arcsinh(d.observed / floor)
            bottom.set_ylabel("asinh ratio (~ ln(model/data))")
        else:
            res = pred - d.observed
            bottom.set_ylabel(f"model - data ({d.unit})")
        bottom.axhline(0, color="0.5", lw=0.8)
        bottom.plot(x, res, ".", ms=3, color="tab:red")
        bottom.set_xlabel(label)
        worst = int(np.argmax(np.abs(res)))
        bottom.annotate(f"worst: {res[worst]:.3g}", (x[worst], res[worst]), fontsize=7, color="tab:red")
    fig.suptitle(
        f"{result.model_key}: fit of {', '.join(result.free)}\nRMS error / RMS data: "
        + ", ".join(f"{r:.3g}" for r in result.relative_rms()),
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def write_fit(result: FitResult, folder) -> list[Path]:
    """Write the fit into ``folder``: fit.json (report), params.json (Python face), the behavioural
    ``.subckt`` and Verilog-A module (``.model`` card for the access transistor), fit.csv and residuals.png."""
    import matplotlib.pyplot as plt
    import pandas as pd

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = [write_atomic(out / "fit.json", json.dumps(_plain(result.summary()), indent=2) + "\n")]
    paths.append(write_atomic(out / "params.json", params_json(result)))
    model = result.model()
    if isinstance(model, CompactModel):
        paths.append(write_atomic(out / f"{model.name}.sub", model.spice_subckt()))
        paths.append(write_atomic(out / f"{model.va_module}.va", model.verilog_a()))
    elif isinstance(model, AccessTransistor):
        paths.append(write_atomic(out / "access_transistor.lib", model.spice_model() + "\n"))
    rows = []
    for d, pred in zip(result.data, result.predicted):
        x, label = d.axis
        for a, o, p in zip(x, d.observed, pred):
            rows.append({"file": d.name, label: a, "data": o, "model": p, "residual": p - o})
    paths.append(write_atomic(out / "fit.csv", pd.DataFrame(rows).to_csv(index=False)))
    fig = residual_figure(result)
    paths.append(save_figure_atomic(fig, out / "residuals.png"))
    plt.close(fig)
    return paths


def read_data(sweeps=(), pulses=(), transistor=False) -> list:
    """Data objects from CSV paths: ``sweeps`` (t,v,i or, with ``transistor``, vg,vd,vs,i) and ``pulses``."""
    out: list = [TransistorSweep.read(p) if transistor else Sweep.read(p) for p in sweeps]
    out += [PulseResponse.read(p) for p in pulses]
    return out
