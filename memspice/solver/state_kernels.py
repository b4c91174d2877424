"""Per-cell work of a transient step: the implicit state update, the cell current and its Jacobian.

The transient (:mod:`memspice.solver.transient`) eliminates every cell's state from its node equations:
for the cell voltages ``u`` of a Newton iterate it solves each cell's discretised state equation

    x1 - x0 - h theta f(x1, u) - h (1 - theta) f0 = 0        (theta = 1: backward Euler, 1/2: trapezoid)

by a scalar Newton iteration, and returns the cell current i(u, x1(u)) with the Jacobian the node Newton
step needs.  Two implementations share that contract:

* :class:`CompiledCells`, for any :class:`~memspice.circuits.cells.ModelCell` whose compact model writes
  its equations in sympy (``tiox``, ``memristor`` and user models alike): the current, the state equation
  and their derivatives are printed from the **same sympy tree** as the model's numpy, SPICE and Verilog-A
  faces into a small Python module (:mod:`memspice.solver.kernel_print`: common subexpressions shared,
  each piecewise branch computing only its own work, the parameters' own subexpressions once per kernel
  call and the state-free ones once per cell, outside the state Newton), which numba compiles (all cores,
  ``prange`` over cells) and caches on disk next to the solver's other kernels (one file per model class,
  named by a hash of its source: a changed equation or generator makes a new file, never a stale
  compiled copy).  Its Jacobian is the total
  derivative di/du = di/du|_x + di/dx dx1/du with dx1/du = h theta df/du / (1 - h theta df/dx), so the
  node Newton converges quadratically in the coupled node/state system.
* :class:`NumpyCells`, for any other stateful :class:`~memspice.circuits.cells.Cell` (user kinds that only
  implement ``current``, ``rate`` and ``rate_dx``): vectorised numpy, Jacobian di/du|_x (the coupling
  through the state is left out, so the node Newton converges linearly at the rate of that coupling, which
  is small whenever the step resolves the state's motion).

:func:`cell_stepper` picks the compiled one where it applies.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
import threading
import warnings
from pathlib import Path

import numpy as np

from ..circuits.cells import CellArrays, ModelCell
from ..models.base import CompactModel
from . import kernel_print, numba_cache
from .threads import threads_for, using_threads

#: the state is clipped to this range where the cell current is evaluated (guards Newton iterates far off
#: the physical 0..1 range; assumed, as in the previous coupled iteration: 5 % beyond either end)
X_CLIP = (-0.05, 1.05)
#: per-cell state Newton: iterations and last-update tolerance (state units; assumed: far below any
#: transient tolerance a user sets, 1e-13 as before).  A cell that has not converged after STATE_ITERS counts
#: as failed (the step is retried shorter): before issue 20 it returned its last iterate, which for a stiff
#: device (drift-diffusion mobility x 1e9) was a state of 1.1 outside the [0, 1] window
STATE_ITERS = 30
STATE_TOL = 1e-13
#: largest per-cell Newton update (state units; assumed: a quarter of the physical range, so an iterate from a
#: far guess walks to the root instead of jumping past the window, and 30 iterations still cross 0..1 twice)
STATE_DX_MAX = 0.25

try:
    import numba  # noqa: F401

    AVAILABLE = True
except ImportError:  # pragma: no cover - numba is a dependency
    AVAILABLE = False


class NumpyCells:
    """Per-cell state step of any stateful :class:`~memspice.circuits.cells.Cell`, in numpy."""

    compiled = False

    def __init__(self, cell):
        self.cell = cell

    def current(self, u, x):
        """(i, di/du) at cell voltages ``u`` (V) and states ``x`` (flat arrays)."""
        return self.cell.current(u, CellArrays(x=np.clip(x, *X_CLIP)))

    def rate(self, x, u):
        """dx/dt (1/s)."""
        return self.cell.rate(x, u)

    def implicit(self, u, x_old, f_old, x_guess, h, theta):
        """States after a step of ``h`` (s) at cell voltages ``u``: (x1, i, g_jacobian, f1, failed cells)."""
        x1 = np.array(x_guess, float)
        converged = True
        if h > 0:
            converged = False
            for _ in range(STATE_ITERS):
                g = x1 - x_old - h * theta * self.cell.rate(x1, u) - h * (1 - theta) * f_old
                dg = 1 - h * theta * self.cell.rate_dx(x1, u)
                dx = np.clip(g / np.where(np.abs(dg) > 1e-300, dg, 1e-300), -STATE_DX_MAX, STATE_DX_MAX)
                x1 = x1 - dx
                if not np.all(np.abs(dx) >= STATE_TOL):  # cheap exit test first
                    if np.max(np.abs(dx)) < STATE_TOL:
                        converged = True
                        break
        i, g = self.current(u, x1)
        f1 = self.cell.rate(x1, u)
        bad = int(np.count_nonzero(~(np.isfinite(x1) & np.isfinite(i) & np.isfinite(g))))
        if not converged:
            bad = max(bad, 1)
        return x1, i, np.maximum(g, 1e-30), f1, bad


class FrozenCells:
    """Cells held at their state during a transient (a read: only node voltages move), any cell kind.

    Two-terminal kinds give (i, di/du) at the cell voltages; three-terminal kinds (1T1R) give
    (i, di/dv_wl, di/dv_bl) at the node voltages through :meth:`current3`.
    """

    compiled = False

    def __init__(self, cell, arrays: CellArrays):
        from .dc_cells import dc_cells

        self.cell, self.arrays = cell, arrays
        # two-terminal kinds: the DC solver's evaluator (compiled where it applies, warm across time steps)
        self.dc = None if cell.three_terminal else dc_cells(cell, arrays)

    def current(self, u, x):
        """(i, di/du) at cell voltages ``u`` (V); ``x`` is ignored (the state is frozen in ``arrays``)."""
        if self.dc is None:
            raise TypeError(f"{self.cell.name} cells are three-terminal: use current3(v_wl, v_bl)")
        return self.dc.current(u)

    def current3(self, v_wl, v_bl):
        """(i, di/dv_wl, di/dv_bl) at word- and bit-line node voltages (V)."""
        return self.cell.current3(v_wl, v_bl, self.arrays)

    def rate(self, x, u):
        """dx/dt: zero (frozen)."""
        return np.zeros_like(x)

    def implicit(self, u, x_old, f_old, x_guess, h, theta):
        """(x_old, i, di/du floored at 1e-30 S, zero rate, cells whose current is not finite)."""
        i, g = self.current(u, x_old)
        g = np.maximum(np.broadcast_to(g, np.shape(u)), 1e-30)
        bad = int(np.count_nonzero(~(np.isfinite(i) & np.isfinite(g))))
        return x_old, i, g, np.zeros_like(x_old), bad


#: the power helper every generated module defines (the printer writes parameter exponents as ``_pow``)
POW_KERNEL = '''\
@njit(cache=True, error_model="numpy")
def _pow(b, e):
    """b ** e; whole exponents 0..64 by repeated squaring (the window powers x^(2p) of the models)."""
    n = int(e)
    if n == e and 0 <= n <= 64:
        r = 1.0
        while n:
            if n & 1:
                r *= b
            b *= b
            n >>= 1
        return r
    return b**e
'''

_TEMPLATE = (
    '''\
"""Generated by memspice.solver.state_kernels from {model}'s sympy equations; do not edit (hash {digest})."""

import math

import numpy as np
from numba import njit, prange


'''
    + POW_KERNEL
    + '''

@njit(cache=True, error_model="numpy")
def constants(_p):
    """The subexpressions of the parameters alone (computed once per kernel call, outside the cell loop)."""
{unpack_constants}
{constants}
    return _c


@njit(cache=True, error_model="numpy")
def cell_current(v, x, _p, _c):
    """(i, di/dv, di/dx) of one cell."""
{unpack_current}
{current}


@njit(cache=True, error_model="numpy")
def cell_rate_pre(v, _p, _c):
    """The state equation's subexpressions that do not depend on the state (computed once per cell)."""
{unpack_pre}
{rate_pre}


@njit(cache=True, error_model="numpy", inline="always")  # in the Newton loop: ~10 % faster inlined (TiOx, 2026)
def cell_rate_post(v, x, _p, _c, _pre):
    """(dx/dt, d(dx/dt)/dx, d(dx/dt)/dv) of one cell, retention included, from ``cell_rate_pre``."""
{unpack_post}
{rate_post}


@njit(cache=True, error_model="numpy")
def cell_rate(v, x, _p, _c):
    return cell_rate_post(v, x, _p, _c, cell_rate_pre(v, _p, _c))


@njit(parallel=True, cache=True, error_model="numpy")
def current(u, x, p, x_lo, x_hi, i_out, g_out):
    c = constants(p)
    for k in prange(u.size):
        i, g, _ = cell_current(u[k], min(max(x[k], x_lo), x_hi), p, c)
        i_out[k] = i
        g_out[k] = g


@njit(parallel=True, cache=True, error_model="numpy")
def rate(u, x, p, f_out):
    c = constants(p)
    for k in prange(u.size):
        f, _, _ = cell_rate(u[k], x[k], p, c)
        f_out[k] = f


@njit(parallel=True, cache=True, error_model="numpy")
def implicit(u, x_old, f_old, x_new, h, theta, p, x_lo, x_hi, iters, tol, dx_max, i_out, g_out, f_out):
    """Per cell: damped Newton (steps of at most dx_max) on x1 - x0 - h theta f(x1, u) - h (1 - theta) f0 = 0
    from x_new (updated in place); current, total di/du (state eliminated; floored to keep the node Jacobian
    SPD) and f(x1, u).  Returns the number of cells whose Newton did not converge or whose result is not
    finite."""
    bad = 0
    ht = h * theta
    c = constants(p)
    for k in prange(u.size):
        v = u[k]
        x = x_new[k]
        rest = x_old[k] + h * (1.0 - theta) * f_old[k]
        pre = cell_rate_pre(v, p, c)
        f, fx, fu = cell_rate_post(v, x, p, c, pre)
        if h > 0.0:
            converged = False
            for _ in range(iters):
                dx = (x - rest - ht * f) / (1.0 - ht * fx)
                if dx > dx_max:  # damped: a stiff state equation's Newton from a far guess overshoots
                    dx = dx_max
                elif dx < -dx_max:
                    dx = -dx_max
                x -= dx
                if not abs(dx) >= tol:
                    converged = True
                    break  # f, fx, fu stay those of x + dx: off by fx dx, below h fx tol in the state
                f, fx, fu = cell_rate_post(v, x, p, c, pre)
            if not converged:
                bad += 1  # the caller shortens the step; never a state that does not solve its equation
        i, gi, ix = cell_current(v, min(max(x, x_lo), x_hi), p, c)
        g = gi
        if h > 0.0 and x_lo < x < x_hi:
            g = gi + ix * ht * fu / (1.0 - ht * fx)
        g = max(g, 0.5 * gi, 1e-30)
        x_new[k] = x
        i_out[k] = i
        g_out[k] = g
        f_out[k] = f
        if not (math.isfinite(x) and math.isfinite(i) and math.isfinite(g) and math.isfinite(f)):
            bad += 1
    return bad
'''
)


def _printer():
    from sympy.printing.pycode import PythonCodePrinter

    class Printer(PythonCodePrinter):
        def _print_Pow(self, expr, rational=False):
            base, exp = expr.args
            if exp.is_Number:
                return super()._print_Pow(expr, rational=rational)
            # a parameter exponent (window powers): whole numbers by multiplication, several times faster
            return f"_pow({self._print(base)}, {self._print(exp)})"

    return Printer({"standard": "python3"})


def _shared(exprs, printer=None):
    """(printer, shared subexpressions [(symbol, expr)], reduced exprs): sympy's CSE of ``exprs``."""
    import sympy as sp

    temps, reduced = sp.cse(list(exprs), symbols=sp.numbered_symbols("_t"))
    return printer or _printer(), temps, reduced


def _assign(printer, pairs) -> list[str]:
    """Indented ``target = expression`` lines; a target is a name or a sympy symbol."""
    return [
        f"    {target if isinstance(target, str) else printer.doprint(target)} = {printer.doprint(e)}"
        for target, e in pairs
    ]


def _print_block(exprs, names) -> str:
    """Python source (indented function body) computing ``exprs`` with shared subexpressions; returns a tuple."""
    printer, temps, reduced = _shared(exprs)
    lines = _assign(printer, temps) + _assign(printer, zip(names, reduced))
    lines.append(f"    return {', '.join(names)}")
    return "\n".join(lines)


def _print_split_block(exprs, names, x, printer=None) -> tuple[str, str]:
    """Like :func:`_print_block`, split in two bodies: the shared subexpressions free of ``x`` (returned as a
    tuple ``_pre``), and the rest computed from ``_pre`` (a per-cell Newton on x evaluates only the second).
    ``printer``: a sympy code printer (default :func:`_printer`'s)."""
    printer, temps, reduced = _shared(exprs, printer)
    depends = {x}
    for sym, e in temps:
        if e.free_symbols & depends:
            depends.add(sym)
    pre = [(sym, e) for sym, e in temps if sym not in depends]
    names_pre = [printer.doprint(sym) for sym, _ in pre] + ["_none"]
    body_pre = _assign(printer, pre) + ["    _none = 0.0", f"    return ({', '.join(names_pre)},)"]
    body_post = [f"    {', '.join(names_pre)}, = _pre"]
    body_post += _assign(printer, [(sym, e) for sym, e in temps if sym in depends])
    body_post += _assign(printer, zip(names, reduced))
    body_post.append(f"    return {', '.join(names)}")
    return "\n".join(body_pre), "\n".join(body_post)


def kernel_source(model_cls: type[CompactModel]) -> str:
    """Source text of the numba module for ``model_cls`` (printed from its sympy equations)."""
    return _kernel_text(model_cls)[0]


def _kernel_text(model_cls: type[CompactModel]) -> tuple[str, str]:
    """(:func:`kernel_source`'s text, the digest of it that names the module)."""
    import sympy as sp

    from ..models import symbolic

    v, x = symbolic.V, symbolic.X
    i = model_cls.current_expr()
    f = model_cls.full_rate_expr()
    # the state derivative is joined like the model's own rate_dx face (finite at x = 0 and 1)
    f_x = sp.powsimp(sp.diff(f, x), force=True)
    exprs = [i, sp.diff(i, v), sp.diff(i, x), f, f_x, sp.diff(f, v)]
    # the parameters' own subexpressions once per kernel call; each branch's work only where it is taken
    fixed, exprs = kernel_print.hoist_constants(exprs, {v, x})
    printer = _printer()
    current = kernel_print.schedule(exprs[:3], ["_i", "_di_dv", "_di_dx"])
    # the state-free subexpressions of the state equation, once per cell rather than per Newton iteration
    state_free, rate_exprs = kernel_print.hoist_constants(exprs[3:], {x}, prefix="_u")
    rate = kernel_print.schedule(rate_exprs, ["_f", "_df_dx", "_df_dv"], given=state_free)
    rate_pre, rate_post, shared = rate.split(x)
    names_pre = [printer.doprint(s) for s in shared] + ["_none"]
    params = _param_names(model_cls)
    n_fixed = max(len(fixed), 1)
    bodies = {
        "{unpack_constants}": _unpack(params, [], set().union(*(e.free_symbols for _, e in fixed))),
        "{constants}": "\n".join([f"    _c = np.empty({n_fixed})"] + kernel_print.constants_body(fixed, printer)),
        "{unpack_current}": _unpack(params, fixed, current.uses()),
        "{current}": "\n".join(current.lines(printer) + ["    return _i, _di_dv, _di_dx"]),
        "{unpack_pre}": _unpack(params, fixed, rate_pre.uses()),
        "{rate_pre}": "\n".join(rate_pre.lines(printer) + ["    _none = 0.0", f"    return ({', '.join(names_pre)},)"]),
        "{unpack_post}": _unpack(params, fixed, rate_post.uses()) + f"\n    {', '.join(names_pre)}, = _pre",
        "{rate_post}": "\n".join(rate_post.lines(printer) + ["    return _f, _df_dx, _df_dv"]),
        "{model}": f"{model_cls.__module__}.{model_cls.__qualname__}",
    }
    text = _TEMPLATE
    for key, value in bodies.items():
        text = text.replace(key, value)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return text.replace("{digest}", digest, 1), digest


def _unpack(params, fixed, used) -> str:
    """Lines reading the parameters (``_p``) and constants (``_c``) among the symbols ``used``."""
    names = {s.name for s in used}
    lines = [f"    {name} = _p[{k}]" for k, name in enumerate(params) if name in names]
    lines += [f"    {sym.name} = _c[{k}]" for k, (sym, _) in enumerate(fixed) if sym.name in names]
    return "\n".join(lines) or "    pass"


def _param_names(model_cls) -> list[str]:
    import dataclasses

    return [fld.name for fld in dataclasses.fields(model_cls.Params)]


#: the folder for generated kernel modules inside a user-set NUMBA_CACHE_DIR
GENERATED_IN_CACHE_DIR = "memspice_generated"


def generated_folder() -> Path:
    """Where generated kernel modules go: beside numba's cache of the solver kernels when writable."""
    candidates = []
    if os.environ.get("NUMBA_CACHE_DIR"):
        candidates.append(Path(os.environ["NUMBA_CACHE_DIR"]) / GENERATED_IN_CACHE_DIR)
    candidates += [numba_cache.PACKAGE_CACHE / "generated", numba_cache.user_cache_dir() / "generated"]
    for folder in candidates:
        if numba_cache.writable(folder):
            return folder
    return Path(tempfile.mkdtemp(prefix="memspice-kernels-"))  # pragma: no cover - nothing writable


_MODULES: dict[tuple[type, str], object] = {}
_LOCK = threading.Lock()


def _load_module(model_cls):
    return load_generated(model_cls, "cellkernel", _kernel_text)


def load_generated(model_cls, kind: str, make_text):
    """The generated numba module ``kind`` of ``model_cls`` (``make_text(model_cls)`` -> (source, digest)),
    written beside the solver's kernel cache and imported once per process."""
    with _LOCK:
        key = (model_cls, kind)
        if key in _MODULES:
            return _MODULES[key]
        text, digest = make_text(model_cls)
        name = f"memspice_{kind}_{model_cls.__name__.lower()}_{digest}"
        path = generated_folder() / f"{name}.py"
        if not path.exists() or path.read_text() != text:
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(text)
            os.replace(tmp, path)  # atomic: parallel processes never see half a file
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has a spec
            raise ImportError(f"cannot import generated kernels from {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        _MODULES[key] = module
        return module


class CompiledCells:
    """Per-cell state step of a :class:`~memspice.circuits.cells.ModelCell`, compiled by numba."""

    compiled = True

    def __init__(self, cell: ModelCell):
        self.cell = cell
        self.module = _load_module(type(cell.model))
        self.p = np.array(cell.model.param_values, float)

    def _buffers(self, size):
        return np.empty(size), np.empty(size)

    def current(self, u, x):
        """(i, di/du) at cell voltages ``u`` (V) and states ``x`` (flat arrays)."""
        u, x = np.ascontiguousarray(u, float), np.ascontiguousarray(x, float)
        i, g = self._buffers(u.size)
        with using_threads(threads_for(u.size)):
            self.module.current(u, x, self.p, X_CLIP[0], X_CLIP[1], i, g)
        return i, g

    def rate(self, x, u):
        """dx/dt (1/s)."""
        u, x = np.ascontiguousarray(u, float), np.ascontiguousarray(x, float)
        f = np.empty(u.size)
        with using_threads(threads_for(u.size)):
            self.module.rate(u, x, self.p, f)
        return f

    def implicit(self, u, x_old, f_old, x_guess, h, theta):
        """States after a step of ``h`` (s) at cell voltages ``u``: (x1, i, g_jacobian, f1, failed cells)."""
        u = np.ascontiguousarray(u, float)
        x1 = np.array(x_guess, float)
        i, g = self._buffers(u.size)
        f1 = np.empty(u.size)
        with using_threads(threads_for(u.size)):  # small arrays: one thread (see memspice.solver.threads)
            bad = self.module.implicit(
                u,
                np.ascontiguousarray(x_old, float),
                np.ascontiguousarray(f_old, float),
                x1,
                float(h),
                float(theta),
                self.p,
                X_CLIP[0],
                X_CLIP[1],
                STATE_ITERS,
                STATE_TOL,
                STATE_DX_MAX,
                i,
                g,
                f1,
            )
        return x1, i, g, f1, int(bad)


def _uses_model_faces(cell) -> bool:
    """True when ``cell``'s current and state come straight from its compact model's sympy equations."""
    if not isinstance(cell, ModelCell) or not isinstance(getattr(cell, "model", None), CompactModel):
        return False
    kind, model = type(cell), type(cell.model)
    same_cell = all(getattr(kind, n) is getattr(ModelCell, n) for n in ("current", "rate", "rate_dx"))
    same_model = all(
        getattr(model, n) is getattr(CompactModel, n) for n in ("current", "conductance", "rate", "rate_dx")
    )
    return same_cell and same_model


def cell_stepper(cell, compiled: bool | None = None):
    """:class:`CompiledCells` for a compact-model cell when numba is available, else :class:`NumpyCells`.

    ``compiled``: None picks; True insists (``ValueError`` if it does not apply); False forces numpy.
    A model whose equations numba cannot compile falls back to numpy with a ``RuntimeWarning``.
    """
    applies = AVAILABLE and _uses_model_faces(cell)
    if compiled is True and not applies:
        raise ValueError(
            f"compiled must be False or None for cell {cell!r}: compiled kernels need numba and a ModelCell "
            "whose current and state equation come from its compact model"
        )
    if compiled is False or not applies:
        return NumpyCells(cell)
    try:
        stepper = CompiledCells(cell)
        stepper.implicit(np.zeros(1), np.full(1, 0.5), np.zeros(1), np.full(1, 0.5), 1e-12, 0.5)  # compile now
        return stepper
    except Exception as exc:  # noqa: BLE001 - any code-generation or typing failure: numpy still works
        if compiled:
            raise
        warnings.warn(
            f"compiled cell kernels unavailable for {type(cell.model).__name__} ({exc!r:.200}); using numpy",
            RuntimeWarning,
            stacklevel=2,
        )
        return NumpyCells(cell)
