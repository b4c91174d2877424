"""Crossbar cell kinds: one object per kind, with its solver, state and netlist faces.

A :class:`~memspice.circuits.crossbar.Crossbar` holds exactly one :class:`Cell`.
The cell says everything the rest of memspice needs to know about its kind:

* **solver face**: vectorised current and its derivatives (the Newton Jacobian)
  over all cells at once, from the same model objects the SPICE faces print;
* **state face** (stateful kinds): the state equation dx/dt and d(dx/dt)/dx for
  implicit transients;
* **netlist face**: the ``.subckt``/``.model`` text of the kind, one instance line
  per cell, extra supplies (1T1R gate lines), the compiled Verilog-A libraries
  it needs, and the ngspice vector holding each cell's own device current.

Kinds: :class:`Resistor` ("1R"), :class:`SelectorResistor` ("1S1R"),
:class:`ModelCell` wrapping any :class:`~memspice.models.CompactModel`
(:func:`tiox` "tiox", :func:`memristor` "memristor") and
:class:`TransistorResistor` ("1T1R").  A user-defined kind subclasses
:class:`Cell` (or :class:`ModelCell` for a new compact model) and is passed as
``Crossbar(..., cell=MyCell())``; :func:`register` adds a string shorthand.
Solver, netlist writer and transient never test the kind by name.

Per-cell numbers (conductance ``g``, state ``x``, gate voltage of the row)
stay in the crossbar; the cell methods receive them as flat arrays (one entry
per cell, row-major) in a :class:`CellArrays`.
"""

from __future__ import annotations

import abc
import dataclasses
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..core.faces import Face
from ..core.units import sci_number, spice_number
from ..models import DriftDiffusion, Selector, TiOx
from ..models.access_transistor import AccessTransistor
from ..models.base import CompactModel
from .weights import G_MAX

__all__ = [
    "Cell",
    "CellArrays",
    "Face",
    "ModelCell",
    "Resistor",
    "SelectorResistor",
    "SeriesSolveError",
    "TransistorResistor",
    "cell_kinds",
    "make_cell",
    "memristor",
    "register",
    "tiox",
]


#: relative slack of the design checks: a loss equal to its limit up to rounding (a cell made by
#: :meth:`TransistorResistor.sized_for` for exactly ``max_loss``) is not a design slip
LOSS_ROUNDING = 1e-9


class DesignWarning(UserWarning):
    """A crossbar that simulates correctly but is probably not what its designer meant."""


class SeriesSolveError(RuntimeError):
    """The per-cell solve of an internal node (1S1R, 1T1R) did not converge."""


@dataclass(frozen=True)
class CellArrays:
    """Per-cell numbers, flattened row-major (one entry per cell).

    ``g``: series conductance (S) or None; ``x``: state (1) or None; ``v_gate``: gate voltage of each
    cell's row (V) or None.
    """

    g: np.ndarray | None = None
    x: np.ndarray | None = None
    v_gate: np.ndarray | None = None


class Cell(abc.ABC):
    """One kind of crossbar cell between word-line node (i, j) and bit-line node (i, j).

    Class attributes: ``name`` (the string shorthand), ``data`` ("conductances" or "state": the
    per-cell array the kind needs), ``linear`` (current = g u exactly: one linear solve, no Newton),
    ``three_terminal`` (the current depends on both node voltages, not only their difference: the
    Newton Jacobian is not symmetric), ``stateful`` (has a state equation for transients),
    ``read_voltage`` (V: the largest input of a default read, where the kind reads well; see below),
    ``spice_junctions`` (how many pn junctions the netlist face puts in each cell: ngspice keeps its ``gmin``
    across each, a leak the read-accuracy bound counts, :mod:`memspice.accuracy`).
    """

    name: str = "cell"
    data: str = "conductances"
    linear: bool = False
    three_terminal: bool = False
    stateful: bool = False
    spice_junctions: int = 0
    #: default largest read input (V) of this kind: what ``build_crossbar``, sweeps and the CLI use when the
    #: user gives none.  Assumed (the source papers give no read amplitude): 0.2 V, a usual amplitude-encoded
    #: MVM read of resistive memory, well below set/reset thresholds of ~1 V; kinds that need more override it
    read_voltage: float = 0.2

    # -- solver face ---------------------------------------------------------------------------------
    @abc.abstractmethod
    def current(self, u: np.ndarray, arrays: CellArrays) -> tuple[np.ndarray, np.ndarray]:
        """Cell current (A, word line -> bit line) and di/du (S) at cell voltages ``u`` (V, flat)."""

    def linear_conductance(self, arrays: CellArrays, size: int) -> np.ndarray:
        """Conductance (S, flat, ``size`` cells) of a ``linear`` cell: di/du at 1 V, which it has everywhere."""
        return np.broadcast_to(self.current(np.ones(size), arrays)[1], (size,))

    def check(self, xbar) -> None:  # noqa: B027 - an optional hook, not abstract
        """Warn (:class:`DesignWarning`) about a crossbar of this cell that runs but misleads; nothing here."""

    def check_read(self, xbar, voltages) -> None:  # noqa: B027 - an optional hook, not abstract
        """Warn (:class:`DesignWarning`) when reading ``xbar`` at input ``voltages`` ((p, m) V) runs but
        misleads (e.g. a read below the cell's turn-on voltage); nothing here."""

    def series_model(self) -> CompactModel | None:
        """The memoryless compact model this cell puts in series with its conductance ``g``, if it is one
        (current g (u - s) with i_model(s) = g (u - s)); the solver then compiles that series solve
        (:mod:`memspice.solver.dc_cells`).  None here; a subclass that changes such a law overrides both."""
        return None

    def current3(self, v_wl: np.ndarray, v_bl: np.ndarray, arrays: CellArrays):
        """(i, di/dv_wl, di/dv_bl) at word- and bit-line node voltages (V); two-terminal by default."""
        i, g = self.current(v_wl - v_bl, arrays)
        return i, g, -g

    # -- state face (stateful kinds) -------------------------------------------------------------------
    def rate(self, x: np.ndarray, u: np.ndarray) -> np.ndarray:
        """dx/dt (1/s) at state ``x`` and cell voltage ``u`` (V)."""
        raise TypeError(f"cell {self.name!r} has no state")

    def rate_dx(self, x: np.ndarray, u: np.ndarray) -> np.ndarray:
        """d(dx/dt)/dx (1/s)."""
        raise TypeError(f"cell {self.name!r} has no state")

    # -- netlist face ----------------------------------------------------------------------------------
    @abc.abstractmethod
    def library(self, face: Face, transient: bool) -> str:
        """``.subckt``/``.model`` text the instances need."""

    @abc.abstractmethod
    def instance(self, ref: str, wl: str, bl: str, i: int, j: int, xbar, face: Face, transient: bool) -> str:
        """One netlist line (with newline) for cell (i, j) named ``ref`` (e.g. ``c3_4``); "" to omit it."""

    def supplies(self, xbar) -> str:
        """Extra sources the kind needs (e.g. 1T1R gate lines); "" if none."""
        return ""

    def osdi_libraries(self, face: Face, transient: bool) -> list:
        """Compiled Verilog-A libraries a ``face`` netlist needs."""
        return []

    def probe(self, ref: str, face: Face) -> tuple[str, float] | None:
        """(ngspice vector, sign) holding cell ``ref``'s own device current in a ``.op`` read; None if none."""
        return None

    # -- identity --------------------------------------------------------------------------------------
    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            return other.strip().lower() == self.name.lower()
        return (
            NotImplemented if not isinstance(other, Cell) else (type(self) is type(other) and vars(self) == vars(other))
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.name))

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


def _series_newton(f_df, lo, hi, x0, tol, iters, what):
    """Solve f(x) = 0 per cell on [lo, hi] by Newton with clipping, iterating only unconverged cells."""
    x = np.array(x0, float)
    active = np.arange(x.size)
    for _ in range(iters):
        if active.size == 0:
            return x
        xa = x[active]
        f, df = f_df(xa, active)
        new = np.clip(xa - f / np.where(df != 0, df, 1e-300), lo[active], hi[active])
        done = np.abs(new - xa) <= tol * (1 + np.maximum(np.abs(lo[active]), np.abs(hi[active])))
        x[active] = new
        active = active[~done]
    if active.size:
        raise SeriesSolveError(
            f"{what}: internal node of {active.size} cell(s) did not converge in {iters} "
            "iterations; check the device parameters"
        )
    return x


class Resistor(Cell):
    """ "1R": linear resistor of conductance ``g`` (S)."""

    name = "1R"
    linear = True

    def current(self, u, arrays):
        return arrays.g * u, np.broadcast_to(arrays.g, np.shape(u))

    def linear_conductance(self, arrays, size):
        return arrays.g

    def library(self, face, transient):
        return ".subckt cell_1r wl bl params: g=1e-6\nR1 wl bl {1/g}\n.ends cell_1r\n"

    def instance(self, ref, wl, bl, i, j, xbar, face, transient):
        g = xbar.conductances[i, j]
        return f"X{ref} {wl} {bl} cell_1r g={sci_number(g)}\n" if g > 0 else ""

    def probe(self, ref, face):
        return f"@r.x{ref}.r1[i]", 1.0


@dataclass(eq=False)
class SelectorResistor(Cell):
    """ "1S1R": a :class:`~memspice.models.Selector` in series with conductance ``g`` (S).

    The selector voltage s is solved per cell from i_sel(s) = g (u - s); the cell's di/du is the
    series combination g_sel g / (g_sel + g).

    A sinh selector behaves like a turn-on voltage: below ~10 ``v0`` it passes almost nothing, above it
    it takes a slowly (logarithmically) growing share, so the cell reads about g (u - s) with s near the
    turn-on voltage.  :attr:`read_voltage` is therefore derived from the selector, and
    :meth:`check_read` warns when a read is far below the linear current g u.
    """

    selector: Selector = field(default_factory=Selector)
    name = "1S1R"
    iters: int = 100
    tol: float = 1e-14
    #: largest share of the linear read current g u that the selector may take from the largest cell at the
    #: largest input before :meth:`check_read` warns.  Assumed: beyond three quarters the outputs tell more
    #: about the selector than about the stored conductances (the default selector takes 86% at 1 V from a
    #: 200 uS cell, 99.98% at 0.2 V)
    max_loss: float = 0.75
    #: share of the linear read current the selector takes from a :attr:`g_ref` cell at :attr:`read_voltage`
    #: (assumed: one half, so random inputs up to the read voltage stay clear of the warning above)
    read_loss_target: float = 0.5
    #: reference conductance (S) of :attr:`read_voltage`: the top of memspice's default conductance map
    #: (:data:`memspice.circuits.weights.G_MAX`), so default arrays read without a warning
    g_ref: float = G_MAX

    @property
    def read_voltage(self) -> float:  # type: ignore[override]
        """Default largest read input (V): the smallest voltage, rounded up to 0.1 V, at which a cell of
        conductance :attr:`g_ref` reads at least ``1 - read_loss_target`` of its linear current g u (2.1 V
        for the default selector and map: the selector then takes ~1 V, the turn-on of i0 = 1 nA,
        v0 = 80 mV)."""
        lo, hi = 1e-3, 1e3
        for _ in range(200):  # bisection on the share the selector takes, which falls as u grows
            mid = float(np.sqrt(lo * hi))
            if self.read_loss(mid, self.g_ref) > self.read_loss_target:
                lo = mid
            else:
                hi = mid
            if hi / lo < 1 + 1e-9:
                break
        return float(np.ceil(hi * 10 - 1e-9) / 10)

    def read_loss(self, u, g):
        """Share (0..1) of the linear current g ``u`` that the selector takes at cell voltage ``u`` (V) and
        conductance ``g`` (S): 1 - i / (g u)."""
        u, g = np.broadcast_arrays(np.asarray(u, float), np.asarray(g, float))
        s = self.split(u.ravel(), CellArrays(g=g.ravel())).reshape(u.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(u != 0, s / u, 1.0)

    def split(self, u, arrays):
        """Selector voltage s (V) of every cell at cell voltage ``u`` (V)."""
        g, sel = np.broadcast_to(arrays.g, np.shape(u)), self.selector
        u = np.asarray(u, float)

        def f_df(s, idx):
            return sel.current(s) - g[idx] * (u[idx] - s), sel.conductance(s) + g[idx]

        return _series_newton(
            f_df, np.minimum(u, 0.0), np.maximum(u, 0.0), np.zeros_like(u), self.tol, self.iters, "1S1R series split"
        )

    def series_model(self) -> CompactModel | None:
        return self.selector if isinstance(self.selector, CompactModel) else None

    def check_read(self, xbar, voltages) -> None:
        v = np.atleast_2d(np.asarray(voltages, float))
        if v.size == 0 or xbar.conductances is None:
            return
        u = float(np.max(np.abs(np.subtract.outer(v.max(axis=0), xbar.bit_voltages))))
        u = max(u, float(np.max(np.abs(np.subtract.outer(v.min(axis=0), xbar.bit_voltages)))))
        g = float(np.max(xbar.conductances))
        if u == 0 or g == 0:
            return
        loss = float(self.read_loss(u, g))
        if loss > self.max_loss:
            warnings.warn(
                f"1S1R: at the largest cell voltage of this read, {u:.3g} V, the selector takes "
                f"{100 * loss:.4g}% of the read current of a {g:.3g} S cell ({g * u * (1 - loss):.3g} A instead "
                f"of {g * u:.3g} A): the outputs are far below the conductances' G^T v; read at "
                f"{self.read_voltage:.3g} V or more (cell.read_voltage) or use a selector that turns on lower "
                "(smaller v0, larger i0)",
                DesignWarning,
                stacklevel=3,
            )

    def current(self, u, arrays):
        s = self.split(u, arrays)
        g = arrays.g
        d_s = self.selector.conductance(s)
        with np.errstate(divide="ignore", invalid="ignore"):
            gd = np.where(d_s + g > 0, d_s * g / (d_s + g), 0.0)
        return g * (u - s), gd

    def library(self, face, transient):
        face = Face.parse(face)
        if face is Face.VERILOG_A:
            return (
                self.selector.va_model_card("ms_selector_m") + "\n"
                ".subckt cell_1s1r wl bl params: g=1e-6\n"
                "Nsel wl mid ms_selector_m\nR1 mid bl {1/g}\n.ends cell_1s1r\n"
            )
        return (
            self.selector.spice_subckt() + ".subckt cell_1s1r wl bl params: g=1e-6\n"
            f"Xsel wl mid {self.selector.name}\nR1 mid bl {{1/g}}\n.ends cell_1s1r\n"
        )

    def instance(self, ref, wl, bl, i, j, xbar, face, transient):
        g = xbar.conductances[i, j]
        return f"X{ref} {wl} {bl} cell_1s1r g={sci_number(g)}\n" if g > 0 else ""

    def osdi_libraries(self, face, transient):
        return [_compile(self.selector, False)] if Face.parse(face) is Face.VERILOG_A else []

    def probe(self, ref, face):
        return f"@r.x{ref}.r1[i]", 1.0


@dataclass(eq=False)
class TransistorResistor(Cell):
    """ "1T1R": level-1 NMOS access transistor (drain on the word line, gate on the row's gate line,
    bulk at 0 V) in series with conductance ``g`` (S).

    The middle node is solved per cell; the current depends on both node voltages (the gate is
    referenced to ground), so the Newton Jacobian is not symmetric.  The netlist's ``.model`` card
    switches the level-1 bulk junctions off (``is=0``), so ngspice and the solver simulate the same
    circuit (see :meth:`~memspice.models.access_transistor.AccessTransistor.spice_model`).
    """

    transistor: AccessTransistor = field(default_factory=AccessTransistor)
    name = "1T1R"
    three_terminal = True
    spice_junctions = 2  # the level-1 MOSFET's bulk-drain and bulk-source junctions
    iters: int = 100
    tol: float = 1e-14
    #: largest fraction of a read current the transistor may take before :meth:`check` warns (assumed:
    #: 5% is well above device variation budgets of a few percent, so larger losses are a sizing slip)
    max_loss: float = 0.05

    @staticmethod
    def read_loss(g, g_on):
        """Fraction of a small-signal read current lost to a channel ``g_on`` (S) in series with ``g`` (S)."""
        g, g_on = np.asarray(g, float), np.asarray(g_on, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(g_on > 0, g / (g + g_on), 1.0)

    @classmethod
    def sized_for(cls, g_max: float, v_gate: float, max_loss: float = 0.05, transistor=None) -> TransistorResistor:
        """A 1T1R cell whose transistor (W/L) loses at most ``max_loss`` of the read current of a cell of
        conductance ``g_max`` (S) at gate voltage ``v_gate`` (V): g_on = g_max (1 - max_loss) / max_loss."""
        base = transistor or AccessTransistor()
        if not 0 < max_loss < 1:
            raise ValueError(f"max_loss must be a fraction in (0, 1), got {max_loss!r}")
        overdrive = float(v_gate) - base.vt
        if overdrive <= 0:
            raise ValueError(f"v_gate {v_gate!r} V does not turn the transistor on (vt = {base.vt} V)")
        g_on = float(g_max) * (1 - max_loss) / max_loss
        w_over_l = g_on / (base.kp * overdrive)
        return cls(transistor=dataclasses.replace(base, w_over_l=max(w_over_l, base.w_over_l)), max_loss=max_loss)

    def check(self, xbar) -> None:
        g_on = self.transistor.on_conductance(xbar.v_gate)[:, None]
        loss = self.read_loss(xbar.conductances, g_on)
        worst = float(np.max(loss))
        if worst > self.max_loss * (1 + LOSS_ROUNDING):  # a cell sized_for exactly max_loss passes
            i, j = np.unravel_index(int(np.argmax(loss)), loss.shape)
            warnings.warn(
                f"1T1R: the access transistor takes {100 * worst:.0f}% of the read current of cell ({i}, {j}) "
                f"(channel {float(g_on[i, 0]):.3g} S at v_gate = {float(xbar.v_gate[i]):.3g} V in series with "
                f"{float(xbar.conductances[i, j]):.3g} S), even with ideal wires; size it with "
                f"TransistorResistor.sized_for(g_max={float(np.max(xbar.conductances)):.3g}, "
                f"v_gate={float(np.min(xbar.v_gate)):.3g}) or raise v_gate",
                DesignWarning,
                stacklevel=4,
            )

    def current(self, u, arrays):
        raise TypeError("1T1R cells are three-terminal: use current3(v_wl, v_bl, arrays)")

    def current3(self, v_wl, v_bl, arrays):
        g, vg = arrays.g, arrays.v_gate
        v_wl, v_bl = np.asarray(v_wl, float), np.asarray(v_bl, float)
        lo, hi = np.minimum(v_wl, v_bl), np.maximum(v_wl, v_bl)
        tr = self.transistor

        def f_df(mid, idx):
            i_t, _, d_s = tr.current(vg[idx], v_wl[idx], mid)
            return i_t - g[idx] * (mid - v_bl[idx]), d_s - g[idx]

        mid = _series_newton(f_df, lo, hi, 0.5 * (lo + hi), self.tol, self.iters, "1T1R series split")
        _, d_d, d_s = tr.current(vg, v_wl, mid)
        df = d_s - g
        df = np.where(df != 0, df, -1e-30)
        return g * (mid - v_bl), g * (-d_d / df), g * (-g / df - 1.0)

    def library(self, face, transient):
        return (
            self.transistor.spice_model("nacc") + "\n"
            ".subckt cell_1t1r wl bl gate params: g=1e-6\n"
            f"M1 wl gate mid 0 nacc W={sci_number(self.transistor.w_over_l)}u L=1u\n"
            "R1 mid bl {1/g}\n.ends cell_1t1r\n"
        )

    def instance(self, ref, wl, bl, i, j, xbar, face, transient):
        g = xbar.conductances[i, j]
        return f"X{ref} {wl} {bl} g{i} cell_1t1r g={sci_number(g)}\n" if g > 0 else ""

    def supplies(self, xbar):
        return "* gate lines\n" + "".join(f"Vg{i} g{i} 0 DC {spice_number(v)}\n" for i, v in enumerate(xbar.v_gate))

    def probe(self, ref, face):
        return f"@r.x{ref}.r1[i]", 1.0


@dataclass(eq=False)
class ModelCell(Cell):
    """A cell that is one stateful compact model (state ``x`` per cell, frozen during DC reads).

    ``model``: any :class:`~memspice.models.CompactModel` with a state equation; ``kind``: its name
    ("tiox", "memristor" or a user's own).
    """

    model: CompactModel = field(default_factory=TiOx)
    kind: str = "tiox"
    data = "state"
    stateful = True

    def __post_init__(self):
        if not isinstance(self.model, CompactModel) or not self.model.has_state():
            raise ValueError(f"model must be a stateful CompactModel, got {type(self.model).__name__}")

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.kind

    @property
    def read_voltage(self) -> float:  # type: ignore[override]
        """Default largest read input (V): the model's own read voltage where it defines one (``v_read``:
        :class:`~memspice.models.TiOx` defines its on/off and rectification ratios there, 1 V), else
        :attr:`Cell.read_voltage`."""
        return float(getattr(self.model.params, "v_read", Cell.read_voltage))

    def current(self, u, arrays):
        return self.model.current(u, arrays.x), self.model.conductance(u, arrays.x)

    def rate(self, x, u):
        return self.model.rate(x, u)

    def rate_dx(self, x, u):
        return self.model.rate_dx(x, u)

    def library(self, face, transient):
        if Face.parse(face) is Face.VERILOG_A:
            return self.model.va_model_card("cellm", frozen=not transient) + "\n"
        return self.model.spice_subckt() if transient else self.model.spice_frozen_subckt()

    def instance(self, ref, wl, bl, i, j, xbar, face, transient):
        if Face.parse(face) is Face.VERILOG_A:
            prefix, sub = "N", "cellm"
        else:
            prefix, sub = "X", self.model.name if transient else self.model.frozen_name
        return f"{prefix}{ref} {wl} {bl} {sub} x0={sci_number(xbar.state[i, j])}\n"

    def osdi_libraries(self, face, transient):
        return [_compile(self.model, not transient)] if Face.parse(face) is Face.VERILOG_A else []

    def probe(self, ref, face):
        # the behavioural face's current source Bi (p -> n); no such vector for the Verilog-A N instance
        return (f"@b.x{ref}.bi[i]", 1.0) if Face.parse(face) is Face.BEHAVIOURAL else None


def _compile(model: CompactModel, frozen: bool):
    from ..core.osdi import compile_veriloga

    return compile_veriloga(model.verilog_a(frozen), model.va_frozen_module if frozen else model.va_module)


def tiox(model: TiOx | None = None) -> ModelCell:
    """ "tiox": self-rectifying :class:`~memspice.models.TiOx` cell (state per cell)."""
    return ModelCell(model if model is not None else TiOx(), "tiox")


def memristor(model: DriftDiffusion | None = None) -> ModelCell:
    """ "memristor": :class:`~memspice.models.DriftDiffusion` cell (state per cell)."""
    return ModelCell(model if model is not None else DriftDiffusion(), "memristor")


_REGISTRY: dict[str, Callable[[], Cell]] = {
    "1r": Resistor,
    "1s1r": SelectorResistor,
    "tiox": tiox,
    "memristor": memristor,
    "1t1r": TransistorResistor,
}


def register(name: str, factory) -> None:
    """Make ``Crossbar(..., cell=name)`` build ``factory()`` (a :class:`Cell`); names are case-insensitive."""
    _REGISTRY[str(name).strip().lower()] = factory


def cell_kinds() -> tuple[str, ...]:
    """The registered string shorthands."""
    return tuple(_REGISTRY)


def make_cell(cell) -> Cell:
    """A :class:`Cell` from itself or a registered name (case-insensitive: "1S1R", "1s1r", "TiOx")."""
    if isinstance(cell, Cell):
        return cell
    key = str(cell).strip().lower()
    if key not in _REGISTRY:
        names = ["1R", "1S1R", "tiox", "memristor", "1T1R"] + [
            k for k in _REGISTRY if k not in ("1r", "1s1r", "tiox", "memristor", "1t1r")
        ]
        raise ValueError(f"cell must be a Cell or one of {names}, got {cell!r}")
    return _REGISTRY[key]()
