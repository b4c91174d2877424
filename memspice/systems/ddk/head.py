"""The classification layer on simulated crossbars: weights programmed through the device, read with wires.

The DDK network's MLP head (Shi et al., Nat. Commun. 16, 2025: DDK feature maps -> MLP, 8-bit ADC/DAC in
their benchmark) is deployed as memristor crossbars:

* every weight matrix W (m, k) becomes differential column pairs G+ - G- (Bao et al. 2022;
  :func:`memspice.circuits.weights.differential_pair`) in the calibrated device's range, tiled onto
  arrays of at most ``tile_rows`` x ``tile_cols`` cells (partial sums added digitally);
* programming (:func:`program`) runs write-verify on every cell through the calibrated device model
  (:func:`memspice.models.drive.pulse_states`): from the reset state, each round reads the cell (with read
  noise), applies one set or reset pulse whose width the nominal device model says closes the gap, and
  repeats; each cell has its own mobility (device-to-device variation, log-normal), so pulses over- or
  undershoot and the verify loop, limited by the 10 ns minimum width and the read noise, leaves an error;
* reading (:meth:`CrossbarLayer.__call__`) quantises the inputs (DAC) to read voltages, solves every tile
  with word- and bit-line resistance through memspice's solver
  (:func:`memspice.solver.read_many`, exact transfer matrix of the linear 1R array), subtracts the column
  pairs and quantises each tile's partial sums (ADC, full scale set on the training set);
* biases, the input offset and the ReLU are digital.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...circuits.crossbar import Crossbar
from ...circuits.weights import differential_outputs, differential_pair
from ...models.drive import ParameterBatch, pulse_states
from ...solver import read_many
from .device import PULSE_RISE, conductance_of, g_range, state_of


@dataclass(frozen=True)
class ArraySpec:
    """Crossbar and periphery of the head (values assumed unless noted).

    Parameters
    ----------
    tile_rows, tile_cols : int
        Largest array (cells); 64 x 64 assumed (the paper does not give its own): with cells up to 202 uS
        the IR drop of 128 rows of 1 Ohm segments would cost ~14% of a dot product, of 64 rows of 0.5 Ohm ~4%.
    r_wire : float
        Word- and bit-line resistance per cell segment (Ohm), assumed 0.5 Ohm (a 180 nm metal line over one
        cell pitch).
    v_read : float
        Read voltage of a full-scale input (V), assumed 0.2 V: far below the paper's ~1.4 V set threshold.
    dac_bits, adc_bits : int
        Input and output resolution: 8 bits, the paper's benchmark.
    variation : float
        Log-normal sigma of each cell's mobility (device-to-device), assumed 0.1.
    read_noise : float
        Std of a verify read (S), assumed 1 uS (the paper studies 0-2.5 uS of conductance noise).
    rounds : int
        Write-verify rounds, assumed 6.
    v_program : float
        Programming pulse amplitude (V): 2 V, the bottom of the paper's pulse range.
    min_width, max_width : float
        Programming pulse widths (s): 10 ns (the paper's single operation) to 10 us (assumed).
    """

    tile_rows: int = 64
    tile_cols: int = 64
    r_wire: float = 0.5
    v_read: float = 0.2
    dac_bits: int = 8
    adc_bits: int = 8
    variation: float = 0.1
    read_noise: float = 1e-6
    rounds: int = 6
    v_program: float = 2.0
    min_width: float = 10e-9
    max_width: float = 10e-6

    def __post_init__(self):
        if self.tile_rows < 1 or self.tile_cols < 2:
            raise ValueError("ArraySpec needs tile_rows >= 1 and tile_cols >= 2 (one column pair)")
        for name in ("r_wire", "variation", "read_noise"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"ArraySpec.{name} must be >= 0, got {getattr(self, name)!r}")
        for name in ("v_read", "v_program", "min_width", "max_width"):
            if not getattr(self, name) > 0:
                raise ValueError(f"ArraySpec.{name} must be > 0, got {getattr(self, name)!r}")


def program(model, targets, spec: ArraySpec, rng) -> np.ndarray:
    """Conductances (S) reached by write-verify towards ``targets`` (S, any shape) on the device ``model``.

    Every cell starts reset (x = 0) and has mobility = nominal x exp(N(0, spec.variation)).
    """
    targets = np.asarray(targets, float)
    flat = targets.ravel()
    n = flat.size
    g_min, g_max = g_range(model)
    names = model.param_names
    values = np.repeat(np.array(model.param_values)[None, :], n, axis=0)
    values[:, names.index("mobility")] *= np.exp(spec.variation * rng.normal(size=n))
    batch = ParameterBatch(model, values)
    p = model.params
    per_second = p.mobility / p.length**2 * spec.v_program  # nominal state change per second of pulse
    x = np.zeros(n)
    want = np.clip(state_of(model, flat), 0.0, 1.0)
    for _ in range(spec.rounds):
        read = conductance_of(model, x) + spec.read_noise * rng.normal(size=n)
        gap = want - state_of(model, read)
        width = np.abs(gap) / per_second - PULSE_RISE
        act = width >= spec.min_width / 2
        if not act.any():
            break
        width = np.where(act, np.clip(width, spec.min_width, spec.max_width), 0.0)
        amp = np.where(act, np.sign(gap) * spec.v_program, 0.0)
        x = pulse_states(batch, amp[:, None], width, 0.0, np.where(act, PULSE_RISE, 0.0), x0=x)[:, 0]
    return conductance_of(model, x).reshape(targets.shape)


def _quantise(values, bits: int, full_scale: float, signed: bool) -> np.ndarray:
    levels = 2 ** (bits - 1) - 1 if signed else 2**bits - 1
    step = full_scale / levels if full_scale > 0 else 1.0
    lo = -levels if signed else 0
    return np.clip(np.round(np.asarray(values) / step), lo, levels) * step


class CrossbarLayer:
    """y = W^T a for inputs a in [-1, 1] (p, m) (read voltages +-v_read), on programmed, tiled crossbars with wires."""

    def __init__(self, weights, model, spec: ArraySpec, rng, calibration_inputs):
        w = np.asarray(weights, float)
        if w.ndim != 2:
            raise ValueError(f"weights must be (inputs, outputs), got shape {w.shape}")
        self.spec, self.shape = spec, w.shape
        g_min, g_max = g_range(model)
        g, self.scale = differential_pair(w, g_min, g_max)
        self.programmed = program(model, g, spec, rng)
        self.target = g
        m, k = w.shape
        per = spec.tile_cols // 2
        self.rows = [slice(i, min(i + spec.tile_rows, m)) for i in range(0, m, spec.tile_rows)]
        self.cols = [slice(j, min(j + per, k)) for j in range(0, k, per)]
        self.tiles = {}
        for a, rs in enumerate(self.rows):
            for b, cs in enumerate(self.cols):
                cells = self.programmed[rs, 2 * cs.start : 2 * cs.stop]
                xbar = Crossbar(conductances=cells, r_word=spec.r_wire, r_bit=spec.r_wire)
                self.tiles[a, b] = xbar
        # ADC full scale of every tile: the largest ideal partial sum on the calibration (training) inputs
        cal = np.clip(np.asarray(calibration_inputs, float), -1.0, 1.0)
        self.full_scale = {
            (a, b): 1.05 * float(np.max(np.abs(cal[:, rs] @ w[rs, cs])) or 1.0)
            for a, rs in enumerate(self.rows)
            for b, cs in enumerate(self.cols)
        }
        self._transfer: dict = {}

    def programming_error(self) -> float:
        """RMS of programmed - target conductance (S)."""
        return float(np.sqrt(np.mean((self.programmed - self.target) ** 2)))

    def __call__(self, inputs) -> np.ndarray:
        a = _quantise(np.clip(np.asarray(inputs, float), -1.0, 1.0), self.spec.dac_bits, 1.0, signed=True)
        out = np.zeros((a.shape[0], self.shape[1]))
        unit = self.scale * self.spec.v_read  # A per unit of weight x input
        for (i, j), xbar in self.tiles.items():
            rs, cs = self.rows[i], self.cols[j]
            currents = read_many(xbar, self.spec.v_read * a[:, rs])
            partial = differential_outputs(currents) / unit
            out[:, cs] += _quantise(partial, self.spec.adc_bits, self.full_scale[i, j], signed=True)
        return out


class CrossbarMLP:
    """The trained MLP head on crossbars: h = ReLU(s W1^T a + b1), logits = W2^T h + b2.

    Inputs a in [-1, 1] are the head's standardised inputs divided by ``input_scale`` (the DAC's range);
    the hidden activations are scaled to [0, 1] by their largest value on the training (calibration) set.
    """

    def __init__(self, mlp, model, spec: ArraySpec, rng, train_inputs, input_scale: float = 3.0):
        p = mlp.params
        self.p, self.input_scale = p, float(input_scale)
        a = np.clip(np.asarray(train_inputs, float), -1.0, 1.0)
        self.layer1 = CrossbarLayer(p["W1"], model, spec, rng, a)
        h = np.maximum(self.input_scale * a @ p["W1"] + p["b1"], 0.0)
        self.h_scale = float(np.max(h)) or 1.0
        self.layer2 = CrossbarLayer(p["W2"], model, spec, rng, h / self.h_scale)

    def logits(self, inputs) -> np.ndarray:
        h = np.maximum(self.input_scale * self.layer1(inputs) + self.p["b1"], 0.0)
        return self.h_scale * self.layer2(np.clip(h / self.h_scale, 0.0, 1.0)) + self.p["b2"]

    def predict(self, inputs) -> np.ndarray:
        return np.argmax(self.logits(inputs), axis=1)

    def programming_error(self) -> float:
        """RMS programming error over both layers' cells (S)."""
        e1, e2 = self.layer1.programmed - self.layer1.target, self.layer2.programmed - self.layer2.target
        return float(np.sqrt((np.sum(e1**2) + np.sum(e2**2)) / (e1.size + e2.size)))
