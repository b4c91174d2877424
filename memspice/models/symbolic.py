"""One set of device equations, three code generators.

Each compact model writes its equations once, as sympy expressions in the
terminal voltage ``v`` (V), the normalised state ``x`` (1) and its parameter
symbols.  This module turns those expressions into

* a numpy function (the Python reference face),
* an ngspice B-source expression (the behavioural SPICE face),
* a Verilog-A expression (the Verilog-A face, compiled by openvaf-r),

so the three faces cannot drift apart: they are printed from the same tree.
Only functions that ngspice B-sources, Verilog-A and numpy all evaluate the
same way are used (exp, ln, sqrt, tanh, pow, ternary).
"""

from __future__ import annotations

import re

import numpy as np
import sympy as sp
from sympy.printing.c import C99CodePrinter

from ..core.units import sci_number

V = sp.Symbol("v", real=True)
X = sp.Symbol("x", real=True)


def sigmoid(z):
    """Logistic function written with tanh, so it never overflows."""
    return (1 + sp.tanh(z / 2)) / 2


def softplus(z):
    """ln(1 + e^z) in an overflow-free, infinitely differentiable form."""
    return sp.Piecewise((z + sp.log(1 + sp.exp(-z)), z > 0), (sp.log(1 + sp.exp(z)), True))


def smooth_abs(z, eps):
    """sqrt(z^2 + eps^2): |z| rounded over a width eps (same unit as z)."""
    return sp.sqrt(z**2 + eps**2)


class _CExpressionPrinter(C99CodePrinter):
    """C99 printer emitting one-line expressions and natural log as ``ln``."""

    _log_name = "ln"

    def _print_log(self, expr):
        return f"{self._log_name}({self._print(expr.args[0])})"

    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"

    def _print_Piecewise(self, expr):
        if expr.args[-1].cond != True:  # noqa: E712 (sympy true)
            raise ValueError("Piecewise needs a final (expr, True) branch")
        out = self._print(expr.args[-1].expr)
        for e, c in reversed(expr.args[:-1]):
            out = f"(({self._print(c)}) ? ({self._print(e)}) : ({out}))"
        return out

    def _print_Float(self, expr):
        return sci_number(float(expr))

    def _print_Rational(self, expr):
        return sci_number(float(expr))

    def _print_Integer(self, expr):
        return f"{int(expr)}.0" if abs(int(expr)) < 10**15 else sci_number(float(expr))


class _SpicePrinter(_CExpressionPrinter):
    """ngspice B-source dialect: ``pow`` becomes ``pwr`` for integer powers of
    possibly negative bases, and the symbols map to node expressions."""

    def __init__(self, symbol_map):
        super().__init__()
        self._symbol_map = symbol_map

    def _print_Symbol(self, expr):
        return self._symbol_map.get(expr.name, expr.name)

    def _print_Pow(self, expr):
        base, exp = expr.args
        if exp == sp.Rational(1, 2):
            return f"sqrt({self._print(base)})"
        if exp == -1:
            return f"(1.0/({self._print(base)}))"
        if exp.is_Integer and exp > 0:
            b = self._print(base)
            return "(" + "*".join([f"({b})"] * int(exp)) + ")"
        return f"pow({self._print(base)}, {self._print(exp)})"


class _VerilogAPrinter(_SpicePrinter):
    """Verilog-A dialect: same as SPICE but symbols are module variables."""


def _flatten(code: str) -> str:
    return re.sub(r"\s+", " ", code).strip()


def to_spice(expr, symbol_map: dict[str, str]) -> str:
    """Print ``expr`` as a one-line ngspice B-source expression."""
    return _flatten(_SpicePrinter(symbol_map).doprint(expr))


def to_veriloga(expr, symbol_map: dict[str, str] | None = None) -> str:
    """Print ``expr`` as a one-line Verilog-A real expression."""
    return _flatten(_VerilogAPrinter(symbol_map or {}).doprint(expr))


def to_numpy(expr, param_names: list[str]):
    """Return f(v, x, *params) evaluating ``expr`` elementwise with numpy."""
    syms = [V, X] + [sp.Symbol(n, real=True) for n in param_names]
    # cse: common subexpressions computed once (2-3x faster for the differentiated state equations)
    fn = sp.lambdify(syms, expr, modules="numpy", cse=True)

    def evaluate(v, x, *params):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            out = fn(v, x, *params)
        return np.broadcast_to(np.asarray(out, dtype=float), np.broadcast(v, x).shape).copy()

    return evaluate
