"""A designer's read from end to end: DAC -> crossbar -> weight outputs -> TIA -> ADC, as a table and a figure.

What ``memspice read`` does, callable from Python::

    from memspice.analysis.readout import ReadChain, read_crossbar
    from memspice.circuits.array_options import ArrayOptions

    xbar, mapping = ArrayOptions(cell="1R", r_word=2.0, r_bit=2.0).crossbar(weights)
    result = read_crossbar(xbar, inputs, mapping, ReadChain(dac_bits=6, tia="ideal", adc_bits=8))
    result.table().to_csv("out.csv")          # vector x outputs; columns i0_A, v_out0_V, code0, adc0_V
    result.figure().savefig("out.png")

Orientation: inputs (p, m) V, one row per input vector; outputs (p, k), one column per weight
column (signed weights: ``I+ - I-`` of a G+/G- column pair).  Vectors are numbered from 0 in every
table (the ``vector`` column), as rows of the inputs file are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..circuits.periphery import R_F, TIAKind, adc_quantize, dac_levels, make_tia
from ..core.units import column_name
from ..spice.job import DEFAULT_TIMEOUT


@dataclass(frozen=True)
class ReadChain:
    """The periphery around the array (SI units).

    Attributes
    ----------
    dac_bits : int or None
        Sign-magnitude DAC: ``|inputs|`` quantised to ``2**bits - 1`` steps of ``dac_full_scale``;
        None: inputs applied as given.
    dac_full_scale : float or None
        DAC full scale, V; default the largest ``|input|``.
    tia : TIAKind or str
        Column read-out (``v_out = -R_f I``; ``opamp``: finite gain, small-signal DC).
    r_f : float
        TIA feedback resistance, Ohm (default :data:`memspice.circuits.periphery.R_F`).
    adc_bits : int or None
        Quantise the TIA output (or, without a TIA, the current); None: no ADC.
    adc_full_scale : float or None
        ADC full scale, V with a TIA, else A; default the largest ``|output|``.
    """

    dac_bits: int | None = None
    dac_full_scale: float | None = None
    tia: TIAKind | str = TIAKind.NONE
    r_f: float = R_F
    adc_bits: int | None = None
    adc_full_scale: float | None = None

    def sense(self):
        """The TIA object (:class:`~memspice.circuits.periphery.IdealTIA` / ``OpAmpTIA``) or None."""
        return make_tia(self.tia, self.r_f)

    def dac(self, inputs) -> tuple[np.ndarray, float | None]:
        """(applied inputs, full scale in V) after the DAC; the inputs unchanged and None without one."""
        v = np.asarray(inputs, float)
        if not self.dac_bits:
            return v, None
        full = self.dac_full_scale or float(np.max(np.abs(v))) or 1.0
        return np.sign(v) * dac_levels(np.abs(v) / full, self.dac_bits, full), full


@dataclass
class ReadResult:
    """Outputs of :func:`read_crossbar` for every input vector.

    Attributes
    ----------
    inputs : ndarray (p, m)
        The voltages applied to the word lines (after the DAC), V.
    currents : ndarray (p, k)
        Weight outputs, A (signed weights: ``I+ - I-`` per column pair).
    ideal : ndarray (p, k) or None
        The same outputs of an ideal array (no wire resistance, linear cells; conductance cells only).
    v_out : ndarray (p, k) or None
        TIA outputs, V.
    codes, levels : ndarray (p, k) or None
        ADC codes and the values they stand for (V with a TIA, else A).
    backend, reason : str
        Where the array was read and why.
    notes : list of str
        One line per periphery stage (DAC, ADC) and the weight mapping, for logs.
    """

    inputs: np.ndarray
    currents: np.ndarray
    ideal: np.ndarray | None
    backend: str
    reason: str
    v_out: np.ndarray | None = None
    codes: np.ndarray | None = None
    levels: np.ndarray | None = None
    adc_unit: str = "A"
    notes: list[str] = field(default_factory=list)

    @property
    def max_relative_error(self) -> float | None:
        """``max |I - I_ideal| / max |I_ideal|`` (None without an ideal reference)."""
        if self.ideal is None:
            return None
        return float(np.max(np.abs(self.currents - self.ideal))) / (float(np.max(np.abs(self.ideal))) or 1.0)

    def table(self):
        """A pandas DataFrame, one row per input vector (index ``vector``, from 0), units in column names.

        Columns: ``i<j>_A``, then ``v_out<j>_V`` with a TIA, ``code<j>`` and ``adc<j>_V`` (or ``_A``)
        with an ADC (:func:`memspice.core.units.column_name`).
        """
        import pandas as pd

        k = self.currents.shape[1]
        blocks = [(self.currents, "i", "A")]
        if self.v_out is not None:
            blocks.append((self.v_out, "v_out", "V"))
        if self.codes is not None and self.levels is not None:
            blocks += [(self.codes, "code", ""), (self.levels, "adc", self.adc_unit)]
        data = {column_name(f"{stem}{j}", unit): values[:, j] for values, stem, unit in blocks for j in range(k)}
        return pd.DataFrame(data, index=pd.RangeIndex(len(self.currents), name="vector"))

    def figure(self, ax=None):
        """The outputs against the ideal ones and per output (:func:`memspice.analysis.plots.read_outputs`)."""
        from .plots import read_outputs

        return read_outputs(self.currents, self.ideal, ax=ax)


def array_outputs(xbar, inputs, backend="auto", mode="batch", timeout: float = DEFAULT_TIMEOUT):
    """Column currents (p, n) A of ``xbar`` for ``inputs`` (p, m) V, the backend used and why.

    The one call ``memspice read`` makes into the simulators: :func:`memspice.simulate.read_outputs`, which
    never builds per-cell arrays, so any batch whose outputs fit in memory runs.
    """
    from ..simulate import read_outputs

    v = np.atleast_2d(np.asarray(inputs, float))  # (p, m), vectors first like the solver API
    return read_outputs(xbar, v, backend, mode, timeout)


def read_crossbar(
    xbar,
    inputs,
    mapping=None,
    chain: ReadChain | None = None,
    backend="auto",
    mode="batch",
    timeout: float = DEFAULT_TIMEOUT,
) -> ReadResult:
    """Read ``xbar`` for every input vector through the periphery ``chain``.

    Parameters
    ----------
    xbar : Crossbar
        The array (e.g. from :meth:`memspice.circuits.array_options.ArrayOptions.crossbar`).
    inputs : array_like (p, m)
        Input vectors, V (one row per vector).
    mapping : WeightMapping, optional
        How weights became conductances; signed weights' column pairs are combined into ``I+ - I-``.
    chain : ReadChain, optional
        DAC, TIA and ADC (default none of them).
    backend : {"auto", "sparse", "ngspice"}
        Where to read (:func:`memspice.simulate.choose_backend`).
    mode : {"batch", "shared"}
        ngspice driver.
    timeout : float
        Seconds per ngspice run (default :data:`memspice.spice.DEFAULT_TIMEOUT`).
    """
    chain = chain or ReadChain()
    notes = []
    applied, full = chain.dac(inputs)
    if full is not None:
        notes.append(f"DAC: {chain.dac_bits} bits over +-{full:.4g} V (sign-magnitude)")
    currents, used, reason = array_outputs(xbar, applied, backend, mode, timeout)
    outputs = mapping.outputs(currents) if mapping else currents
    ideal = None
    if xbar.cell.data == "conductances":
        ideal = xbar.ideal_outputs(applied)
        ideal = mapping.outputs(ideal) if mapping else ideal
    result = ReadResult(np.atleast_2d(applied), outputs, ideal, used, reason, notes=notes)
    if mapping:
        notes.append(mapping.describe())
    sense, stage = chain.sense(), outputs
    if sense is not None:
        result.v_out = stage = sense.dc_output(outputs)
        result.adc_unit = "V"
    if chain.adc_bits:
        full_scale = chain.adc_full_scale or float(np.max(np.abs(stage))) or 1.0
        signed = bool(np.any(stage < 0))
        result.codes, result.levels = adc_quantize(stage, chain.adc_bits, full_scale, signed=signed)
        notes.append(
            f"ADC: {chain.adc_bits} bits, {'signed' if signed else 'unsigned'}, full scale {full_scale:.4g} "
            f"{result.adc_unit}" + ("" if chain.adc_full_scale else " (the largest output)")
        )
    return result
