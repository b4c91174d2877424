"""Base class for two-terminal compact models with three faces.

A model subclass declares a frozen parameter dataclass and writes its
equations once as sympy expressions (see :mod:`memspice.models.symbolic`):

* ``current_expr``: terminal current i(v, x) in A, ``v = V(p, n)`` in V;
* ``rate_expr``: state equation dx/dt (1/s) for the normalised state x,
  or ``None`` for a memoryless device.

Stateful models carry ``x0`` (initial and rest state) and ``tau_ret``
(retention time constant, s).  The retention term ``(x0 - x)/tau_ret`` is
added to every state equation: it makes the DC operating point unique (the
state node is never floating) while being negligible on any simulated time
scale with the default ``tau_ret`` of 1e12 s.  In SPICE and Verilog-A the
state lives on an internal node ``u = x - x0`` across a 1 F capacitor, so a
transient run with ``uic`` starts every device at its own ``x0`` with no
``.ic`` lines, in both faces.
"""

from __future__ import annotations

import dataclasses
from functools import cached_property
from typing import ClassVar

import numpy as np
import sympy as sp

from ..core.units import sci_number
from . import symbolic
from .params import describe, validate_fields


def symbols_for(params_cls) -> dict[str, sp.Symbol]:
    """Sympy symbols named after the fields of a parameter dataclass."""
    return {f.name: sp.Symbol(f.name, real=True) for f in dataclasses.fields(params_cls)}


_fmt = sci_number  # fixed significant digits (memspice.core.units)


class CompactModel:
    """A device model: one parameter set, three agreeing faces."""

    #: base name of the SPICE subcircuit; the Verilog-A module is ``<name>_va``
    name: ClassVar[str]
    #: parameter dataclass (frozen, validated in ``__post_init__``)
    Params: ClassVar[type]
    #: one-line description used in generated files
    title: ClassVar[str]

    def __init__(self, params=None, **overrides):
        if params is None:
            params = self.Params(**overrides)
        elif overrides:
            params = dataclasses.replace(params, **overrides)
        if not isinstance(params, self.Params):
            raise TypeError(f"{type(self).__name__} needs {self.Params.__name__}, got {type(params).__name__}")
        validate_fields(params)
        self.params = params

    # -- equations (written once by subclasses) ---------------------------------
    @classmethod
    def current_expr(cls):
        raise NotImplementedError

    @classmethod
    def rate_expr(cls):
        return None

    @classmethod
    def has_state(cls) -> bool:
        """Whether the model has a state equation (cached per class: building the sympy expression is slow)."""
        cached = cls.__dict__.get("_has_state_cache")
        if cached is None:
            cached = cls.rate_expr() is not None
            cls._has_state_cache = cached  # type: ignore[attr-defined]
        return cached

    @classmethod
    def _sym(cls) -> dict[str, sp.Symbol]:
        return symbols_for(cls.Params)

    @classmethod
    def full_rate_expr(cls):
        """State equation including the retention term (1/s)."""
        s = cls._sym()
        return cls.rate_expr() + (s["x0"] - symbolic.X) / s["tau_ret"]

    #: how many leading parameters ``repr`` shows (assumed: the first ones are each model's defining values)
    REPR_PARAMS: ClassVar[int] = 4

    def __repr__(self) -> str:
        """Class name, the first :attr:`REPR_PARAMS` parameters, ``x0`` and every changed parameter, with units."""
        from ..core.waveforms import engineering_scale

        fields = dataclasses.fields(self.Params)
        defaults = self.Params()
        shown = [
            f
            for k, f in enumerate(fields)
            if k < self.REPR_PARAMS or f.name == "x0" or getattr(self.params, f.name) != getattr(defaults, f.name)
        ]

        def fmt(f):
            value, unit = float(getattr(self.params, f.name)), f.metadata.get("unit", "")
            if unit in ("Ohm", "V", "A", "s", "m", "F", "S", "Hz"):
                k, prefixed = engineering_scale(value, unit)
                return f"{f.name}={value * k:.4g} {prefixed}"
            return f"{f.name}={value:.4g}" + (f" {unit}" if unit and unit != "1" else "")

        more = len(fields) - len(shown)
        return (
            f"{type(self).__name__}({', '.join(fmt(f) for f in shown)}"
            + (f"; {more} more: .describe()" if more else "")
            + ")"
        )

    # -- Python face -------------------------------------------------------------
    @property
    def param_names(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self.Params)]

    @property
    def param_values(self) -> tuple[float, ...]:
        return tuple(float(getattr(self.params, n)) for n in self.param_names)

    @cached_property
    def _current_fn(self):
        return symbolic.to_numpy(self.current_expr(), self.param_names)

    @cached_property
    def _rate_fn(self):
        return symbolic.to_numpy(self.full_rate_expr(), self.param_names)

    @cached_property
    def _drate_dx_fn(self):
        # powsimp joins the window's (x^2)^p with the 1/|x| the chain rule leaves beside it: the plain derivative
        # prints as 0/0 at x = 0 and x = 1 (stuck cells), the joined one is finite there (bases are >= 0 on [0, 1])
        return symbolic.to_numpy(sp.powsimp(sp.diff(self.full_rate_expr(), symbolic.X), force=True), self.param_names)

    @cached_property
    def _didv_fn(self):
        return symbolic.to_numpy(sp.diff(self.current_expr(), symbolic.V), self.param_names)

    def current(self, v, x=None):
        """Terminal current (A) at voltage ``v`` (V) and state ``x``."""
        if x is None:
            x = self.params.x0 if self.has_state() else 0.0
        return self._current_fn(np.asarray(v, float), np.asarray(x, float), *self.param_values)

    def conductance(self, v, x=None):
        """Small-signal conductance di/dv (S)."""
        if x is None:
            x = self.params.x0 if self.has_state() else 0.0
        return self._didv_fn(np.asarray(v, float), np.asarray(x, float), *self.param_values)

    def rate(self, x, v):
        """dx/dt (1/s) at state ``x`` and voltage ``v`` (V), retention included."""
        if not self.has_state():
            raise TypeError(f"{type(self).__name__} has no state")
        return self._rate_fn(np.asarray(v, float), np.asarray(x, float), *self.param_values)

    def rate_dx(self, x, v):
        """d(dx/dt)/dx (1/s): the state equation's Jacobian, for implicit integrators."""
        return self._drate_dx_fn(np.asarray(v, float), np.asarray(x, float), *self.param_values)

    # the same laws under other parameter values (one array per parameter in param_names order, broadcast
    # against v and x): many parameter sets at once, for fitting (memspice.models.drive.ParameterBatch)
    def current_with(self, values, v, x):
        """Terminal current (A) with parameter ``values`` instead of this model's own."""
        return self._current_fn(np.asarray(v, float), np.asarray(x, float), *values)

    def rate_with(self, values, x, v):
        """dx/dt (1/s) with parameter ``values`` instead of this model's own."""
        if not self.has_state():
            raise TypeError(f"{type(self).__name__} has no state")
        return self._rate_fn(np.asarray(v, float), np.asarray(x, float), *values)

    def rate_dx_with(self, values, x, v):
        """d(dx/dt)/dx (1/s) with parameter ``values`` instead of this model's own."""
        return self._drate_dx_fn(np.asarray(v, float), np.asarray(x, float), *values)

    def simulate(self, source, t_stop: float, n_points: int = 2001, **kwargs):
        """Reference ODE response to a voltage ``source`` (see :mod:`memspice.models.reference`)."""
        from .reference import simulate_device

        return simulate_device(self, source, t_stop, n_points=n_points, **kwargs)

    # -- SPICE face --------------------------------------------------------------
    def _param_list(self) -> str:
        return " ".join(f"{n}={_fmt(v)}" for n, v in zip(self.param_names, self.param_values))

    def spice_subckt(self) -> str:
        """Behavioural ngspice ``.subckt`` with this model's parameter values as defaults."""
        smap = {"v": "V(p,n)", "x": "(V(u)+x0)"}
        lines = [
            f"* {self.title}",
            f"* generated by memspice from {type(self).__module__}; equations in one place, do not edit",
            f".subckt {self.name} p n params: {self._param_list()}",
            f"Bi p n I = {symbolic.to_spice(self.current_expr(), smap)}",
        ]
        if self.has_state():
            lines += [
                "* state x = V(u) + x0 on a 1 F capacitor: C dV(u)/dt = dx/dt",
                f"Bx 0 u I = {symbolic.to_spice(self.full_rate_expr(), smap)}",
                "Cx u 0 1",
            ]
        lines.append(f".ends {self.name}")
        return "\n".join(lines) + "\n"

    @property
    def frozen_name(self) -> str:
        return f"{self.name}_frozen"

    def spice_frozen_subckt(self) -> str:
        """Read-only face: the same current law with the state held at parameter ``x0``.

        Used for DC reads of programmed arrays, where ``.op`` must not move the
        state to its DC steady state.
        """
        smap = {"v": "V(p,n)", "x": "x0"}
        return (
            "\n".join(
                [
                    f"* {self.title}: state frozen at x0 (read-only face)",
                    f".subckt {self.frozen_name} p n params: {self._param_list()}",
                    f"Bi p n I = {symbolic.to_spice(self.current_expr(), smap)}",
                    f".ends {self.frozen_name}",
                ]
            )
            + "\n"
        )

    def spice_instance(self, ref: str, p: str, n: str, **overrides) -> str:
        """An ``X`` line instantiating :meth:`spice_subckt`, overriding parameters by name."""
        unknown = set(overrides) - set(self.param_names)
        if unknown:
            raise ValueError(f"unknown {self.Params.__name__} parameter(s): {sorted(unknown)}")
        extra = "".join(f" {k}={_fmt(v)}" for k, v in overrides.items())
        return f"X{ref} {p} {n} {self.name}{extra}"

    # -- Verilog-A face ----------------------------------------------------------
    @property
    def va_module(self) -> str:
        return f"{self.name}_va"

    @property
    def va_frozen_module(self) -> str:
        return f"{self.name}_frozen_va"

    def verilog_a(self, frozen: bool = False) -> str:
        """Verilog-A module (compiled by openvaf-r, loaded by ngspice through OSDI).

        ``x0`` is an instance parameter, so each ``N`` instance can start (or,
        with ``frozen=True``, stay) at its own state.  ``frozen=True`` gives the
        read-only face: the same current law with the state held at ``x0``.
        """
        stateful = self.has_state() and not frozen
        rows = describe(self.params)
        lines = [
            f"// {self.title}" + (" (state frozen at x0: read-only face)" if frozen else ""),
            f"// generated by memspice from {type(self).__module__}; equations in one place, do not edit",
            '`include "disciplines.vams"',
            "",
            f"module {self.va_frozen_module if frozen else self.va_module}(p, n);",
            "    inout p, n;",
            "    electrical p, n;",
        ]
        if stateful:
            lines.append("    electrical u;  // internal state node, V(u) = x - x0")
        for r in rows:
            attr = '(*type="instance"*) ' if r["name"] == "x0" else ""
            lines.append(f"    {attr}parameter real {r['name']} = {_fmt(r['value'])};  // {r['unit']}; {r['source']}")
        lines += ["    real v, x;", "    analog begin", "        v = V(p, n);"]
        if stateful:
            lines.append("        x = V(u) + x0;")
        elif self.has_state():
            lines.append("        x = x0;")
        else:
            lines.append("        x = 0.0;")
        lines.append(f"        I(p, n) <+ {symbolic.to_veriloga(self.current_expr())};")
        if stateful:
            lines.append(f"        I(u) <+ ddt(V(u)) - ({symbolic.to_veriloga(self.full_rate_expr())});")
        lines += ["    end", "endmodule", ""]
        return "\n".join(lines)

    def va_model_card(self, model_name: str | None = None, frozen: bool = False) -> str:
        """``.model`` card binding this parameter set to the (frozen) Verilog-A module."""
        model_name = model_name or f"{self.name}_m"
        module = self.va_frozen_module if frozen else self.va_module
        params = " ".join(f"{n}={_fmt(v)}" for n, v in zip(self.param_names, self.param_values) if n != "x0")
        return f".model {model_name} {module} {params}"

    def compile_osdi(self, frozen: bool = False):
        """Compile this model's Verilog-A face (cached); returns the .osdi path."""
        from ..core.osdi import compile_veriloga

        return compile_veriloga(self.verilog_a(frozen), self.va_frozen_module if frozen else self.va_module)

    def describe(self) -> list[dict]:
        """Parameter table rows: name, value, unit, source, doc."""
        return describe(self.params)
