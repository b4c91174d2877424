"""The 32 x 32 self-rectifying TiOx array that stores the RPCA background basis.

Mapping (one array per 32 x 32 frame tile)
-------------------------------------------
The background basis of a tile is one non-negative 32 x 32 image ``u`` (rank 1:
see :mod:`.algorithm`), stored cell by cell: ``u[i, j]`` is the state of
cell (i, j).  A TiOx cell's read current at ``v_read`` is affine in its state,
``i(v_read, x) = i_off + x (i_on - i_off)`` (:class:`memspice.models.TiOx`), so
the controller maps currents back to basis values with a *digital reference*:
``u = (i - i_off sum(v)/v_read) / (i_on - i_off)``, where ``i_off`` and ``i_on``
are the nominal OFF/ON read currents and ``sum(v)`` is the known input (a
virtual reference column: no array column is spent on it).  Background
intensities are non-negative, so no differential pair is needed for the
basis; signed *updates* are SET (positive) or RESET (negative) pulses.

Reads (only forward-biased cells)
---------------------------------
* forward read (projection): a frame column ``y`` (32 pixels) drives the word
  lines as binary pulse planes (bit-serial DAC, ``dac_bits`` planes at
  ``v_read``, shift-and-add after the ADC); bit lines sit at the virtual ground
  of their TIAs, so every cell is forward-biased (word line >= bit line) or
  at 0 V.  Read k applies column k of the tile; TIA k gives u[:, k] . y.
* transposed read (reconstruction): bit line j is driven to ``-v_read`` and
  the word lines are held at the virtual ground of row TIAs, so the cells of
  column j are again forward-biased; row i's TIA gives cell (i, j)'s current.
  One read per column (32 per frame).  Transposed reads use a programmable
  TIA gain ``recon_gain`` (one cell's current instead of a column's, assumed).

Both reads solve the whole network with its wire resistance
(:func:`.lines.solve_lines`, the Crossbar geometry of
:class:`memspice.circuits.crossbar.Crossbar`).

Writes (V/2 or V/3, row-parallel)
---------------------------------
A frame's update asks cell (i, j) for ``n_ij`` identical pulses (positive:
SET at ``+v_write``, negative: RESET at ``-v_write``).  The controller
programs row by row; in round k of row i every column with ``|n_ij| >= k``
is selected (0 V; other bit lines at V/2, or 2V/3 under V/3), the row is at
``v_write`` and the other rows at V/2 (V/3).  Every cell's state then follows
the TiOx state equation (:meth:`memspice.models.TiOx.rate`), integrated per
cell (RK4): first the sub-threshold half-select disturb pulses it received,
then its own pulses (the TiOx state equation is autonomous, so a run of
pulses of equal amplitude is one pulse of the summed width).  With wire
resistance the selected cells' voltage comes from a DC solve of each row's
first round (all its selected columns at once, the largest IR drop).
Updates are therefore nonlinear (windowed), state-dependent and asymmetric
(SET slows near x = 1, RESET near x = 0), as the device makes them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from ...circuits.periphery import OpAmpTIA, adc_quantize
from ...models import TiOx
from ...solver.tiox_lines import TiOxLaw, solve_lines

SCHEMES = ("V/2", "V/3")
ROUNDING = ("accumulate", "stochastic", "nearest")
#: bit planes standing in for an ideal DAC (quantisation 0.4 %, well below the clip's 2 % sensor noise)
IDEAL_DAC_PLANES = 8


@dataclass(frozen=True)
class NonIdealities:
    """Switchable, seeded non-idealities of the array and its periphery.

    Every default is an assumption (Jeong et al., Nat. Electron. 2025 give no
    device statistics in the available text): chosen as typical literature
    magnitudes for analogue oxide arrays, with the reason given per field.

    Parameters
    ----------
    d2d_update : float
        Device-to-device spread of the update rate: each cell's k_set and
        k_reset are scaled by independent lognormal factors of this sigma
        (log units).  Assumed 0.10: ~10 % rate spread across an array.
    c2c_update : float
        Cycle-to-cycle spread: relative sigma of each pulse's state change
        (independent per pulse).  Assumed 0.05: a few percent per pulse.
    read_noise : float
        Relative sigma of each cell's read current, drawn once per read
        operation (held over its bit planes).  Assumed 0.01 (1/f + RTN).
    window_spread : float
        Finite conductance window: each cell's reachable state range is
        [|N(0, s)|, 1 - |N(0, s)|] instead of [0, 1], on top of the device's
        own finite ON/OFF ratio.  Assumed s = 0.03.
    stuck_fraction : float
        Fraction of cells stuck (half at OFF x = 0, half at ON x = 1).
        Assumed 0.002 (~2 cells of 1024; the paper stresses high yield).
    r_wire : float
        Word- and bit-line segment resistance (Ohm).  Assumed 2.5 Ohm per
        cell pitch for a micro-scale Pt/Ti line.
    dac_bits : int or None
        Bit planes of the bit-serial input DAC; ``None``: ideal (8 planes).
        Assumed 6 bits.
    adc_bits : int or None
        ADC resolution of every TIA output; ``None``: ideal.  Assumed 8 bits
        (Bao et al. 2022: 6-8 bit periphery typical).
    tia : OpAmpTIA or None
        Op-amp TIA (finite gain: input resistance r_f/(1+A) in series with
        the line, gain error, output swing limit); ``None``: ideal TIA.
        Assumed gain 1e3, r_f 40 kOhm, swing 1.5 V (a low-power amplifier).
    """

    d2d_update: float = 0.10
    c2c_update: float = 0.05
    read_noise: float = 0.01
    window_spread: float = 0.03
    stuck_fraction: float = 0.002
    r_wire: float = 2.5
    dac_bits: int | None = 6
    adc_bits: int | None = 8
    tia: OpAmpTIA | None = field(default_factory=lambda: OpAmpTIA(r_f=40e3, gain=1e3, v_sat=1.5))

    #: names of the switches, in the order of the ablation table
    SWITCHES = (
        "d2d_update",
        "c2c_update",
        "read_noise",
        "window_spread",
        "stuck_fraction",
        "r_wire",
        "dac_bits",
        "adc_bits",
        "tia",
    )

    def __post_init__(self):
        for name in ("d2d_update", "c2c_update", "read_noise", "window_spread", "r_wire"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
        if not 0 <= self.stuck_fraction <= 1:
            raise ValueError(f"stuck_fraction must be in [0, 1], got {self.stuck_fraction!r}")
        if self.window_spread >= 0.5:
            raise ValueError(f"window_spread must be < 0.5 (the window would close), got {self.window_spread!r}")
        for name in ("dac_bits", "adc_bits"):
            b = getattr(self, name)
            if b is not None and not (isinstance(b, int) and 1 <= b <= 16):
                raise ValueError(f"{name} must be None (ideal) or an integer in 1..16, got {b!r}")
        if self.tia is not None and not isinstance(self.tia, OpAmpTIA):
            raise ValueError(f"tia must be an OpAmpTIA or None, got {type(self.tia).__name__}")

    @classmethod
    def ideal(cls) -> "NonIdealities":
        """Every non-ideality off (the array is still a TiOx array: nonlinear pulses, finite ON/OFF)."""
        return cls(
            d2d_update=0.0,
            c2c_update=0.0,
            read_noise=0.0,
            window_spread=0.0,
            stuck_fraction=0.0,
            r_wire=0.0,
            dac_bits=None,
            adc_bits=None,
            tia=None,
        )

    @classmethod
    def only(cls, name: str, **value) -> "NonIdealities":
        """:meth:`ideal` with the switch ``name`` on at its default (or at ``value``)."""
        if name not in cls.SWITCHES:
            raise ValueError(f"name must be one of {cls.SWITCHES}, got {name!r}")
        setting = value.get(name, getattr(cls(), name))
        return dataclasses.replace(cls.ideal(), **{name: setting})


@dataclass(frozen=True)
class ArrayConfig:
    """Operating point of the array (voltages, pulses); every default is assumed.

        ``v_read`` is the device model's read voltage (below the 1.6 V switching
        thresholds of :class:`memspice.models.TiOx`, so reads do not disturb).
        ``v_write`` = 2 V and ``pulse_width`` = 0.25 us give ~0.4 % of the state
        range per pulse at mid-range (fine analogue steps, assumed); half-selected
        cells see 1 V (V/2) or 0.67 V (V/3), far below threshold.  ``max_pulses``
        caps the pulses per cell per frame (assumed 32: 8 us per row round).
    ``recon_gain``: TIA gain step of the transposed (one-cell-per-row) read
    relative to the forward read (assumed 32, the cells per column).
    ``recon_reads``: transposed reads averaged per frame, to beat read noise down
    (assumed 4; 4 x 32 short reads per frame).  ``rk4_steps``: RK4 steps per
    pulse train when integrating the state equation.
    ``rounding``: how the controller turns a wanted state change into a whole
    number of pulses.  ``"accumulate"`` (default): a digital residue per cell
    carries what was not programmed to the next frame, and a pulse fires
    when the sum reaches half a pulse (the mixed-precision scheme of
    Nandakumar et al., Front. Neurosci. 14, 406, 2020: small updates add up
    instead of being lost).  ``"stochastic"``: round up with probability equal
    to the fraction (Gupta et al., ICML 2015): right on average, but every
    frame adds up to a pulse of noise.  ``"nearest"``: changes below half a
    pulse are lost, so the learning stalls once its steps fall below the
    update resolution.
    """

    v_read: float = 1.0
    v_write: float = 2.0
    pulse_width: float = 0.25e-6
    scheme: str = "V/2"
    max_pulses: int = 32
    recon_gain: float = 32.0
    recon_reads: int = 4
    rk4_steps: int = 6
    rounding: str = "accumulate"

    def __post_init__(self):
        if self.rounding not in ROUNDING:
            raise ValueError(f"rounding must be one of {ROUNDING}, got {self.rounding!r}")
        if self.scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {SCHEMES}, got {self.scheme!r}")
        for name in ("v_read", "v_write", "pulse_width", "recon_gain"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
        if not (isinstance(self.max_pulses, int) and self.max_pulses >= 1):
            raise ValueError(f"max_pulses must be an integer >= 1, got {self.max_pulses!r}")
        for name in ("rk4_steps", "recon_reads"):
            v = getattr(self, name)
            if not (isinstance(v, int) and v >= 1):
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")


class TiOxRate:
    """The TiOx state equation (:meth:`memspice.models.TiOx.rate`) in a form fast enough for 10^5 cell updates.

    dx/dt = a(v) (1 - x^(2p)) - b(v) (1 - (1 - x)^(2p)) + (x0 - x)/tau_ret, with
    a(v) = k_set s softplus((v - v_set)/s) and b(v) = k_reset s softplus((-v - v_reset)/s):
    the drives depend on the voltage only, so they are evaluated once per
    pulse and RK4 only evaluates the polynomial windows.  The constructor
    checks this form against ``TiOx.rate`` on a grid and refuses to run if the
    model's equations have changed.
    """

    def __init__(self, model: TiOx):
        self.model = model
        v = np.linspace(-3.0, 3.0, 61)
        x = np.linspace(0.0, 1.0, 11)
        vv, xx = np.meshgrid(v, x)
        ref = model.rate(xx, vv)
        a, b = self.drives(vv)
        err = np.max(np.abs(self.rate(xx, a, b) - ref)) / np.max(np.abs(ref))
        if not err < 1e-9:
            from ...solver.tiox_lines import ModelMismatch

            raise ModelMismatch(f"closed-form TiOx rate differs from TiOx.rate by {err:.2e} (relative)")

    def drives(self, v):
        p = self.model.params
        s = p.v_smooth
        sp = lambda z: np.logaddexp(0.0, z)  # noqa: E731
        v = np.asarray(v, float)
        return p.k_set * s * sp((v - p.v_set) / s), p.k_reset * s * sp((-v - p.v_reset) / s)

    def rate(self, x, a, b):
        p = self.model.params
        two_p = 2 * p.window_p
        return a * (1 - np.abs(x) ** two_p) - b * (1 - np.abs(1 - x) ** two_p) + (p.x0 - x) / p.tau_ret


def integrate_state(model: TiOx, x, v, duration, steps: int = 6, rate: TiOxRate | None = None):
    """Integrate dx/dt = model.rate(x, v) per cell over ``duration`` (s) at constant ``v`` (V), classic RK4.

    ``x``, ``v``, ``duration`` broadcast together; cells with zero duration do not move.
    ``rate``: a prebuilt :class:`TiOxRate` of ``model`` (built here otherwise).
    """
    rate = TiOxRate(model) if rate is None else rate
    x = np.array(x, dtype=float)
    v = np.broadcast_to(np.asarray(v, float), x.shape)
    h = np.broadcast_to(np.asarray(duration, float), x.shape) / steps
    active = h > 0
    if not np.any(active):
        return x
    xa, ha = x[active], h[active]
    a, b = rate.drives(v[active])
    f = lambda z: rate.rate(z, a, b)  # noqa: E731
    for _ in range(steps):
        k1 = f(xa)
        k2 = f(xa + 0.5 * ha * k1)
        k3 = f(xa + 0.5 * ha * k2)
        k4 = f(xa + ha * k3)
        xa = xa + ha / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    x[active] = xa
    return x


class TiOxArray:
    """A stack of simulated 32 x 32 TiOx arrays (one per frame tile) with periphery and non-idealities.

    Parameters
    ----------
    tiles : int
        Number of arrays (frame tiles).
    shape : (int, int)
        Array size (rows, columns); 32 x 32 as in Jeong et al. 2025.
    nonideal : NonIdealities
        Switches and magnitudes.
    config : ArrayConfig
        Voltages and pulses.
    device : TiOx
        Cell model (defaults of :class:`memspice.models.TiOx`).
    seed : int
        Seeds every random draw (variation maps, stuck cells, noise).
    use_solve_dc : bool
        Solve every read and write through :func:`memspice.solver.solve_dc`
        (one Newton solve per vector: ~100x slower) instead of the batched line
        solver of :mod:`.lines`; both solve the same network (the tests check
        they agree).  Read noise then scales the solved cell currents instead
        of entering the network solve (a second-order difference).
    """

    def __init__(
        self,
        tiles: int = 1,
        shape=(32, 32),
        nonideal: NonIdealities | None = None,
        config: ArrayConfig | None = None,
        device: TiOx | None = None,
        seed: int = 0,
        use_solve_dc: bool = False,
    ):
        if not (isinstance(tiles, int) and tiles >= 1):
            raise ValueError(f"tiles must be an integer >= 1, got {tiles!r}")
        m, n = shape
        if not (m >= 1 and n >= 1):
            raise ValueError(f"shape must be two positive sizes, got {shape!r}")
        self.nonideal = NonIdealities() if nonideal is None else nonideal
        self.config = ArrayConfig() if config is None else config
        self.device = TiOx() if device is None else device
        self.law = TiOxLaw(self.device)
        self.rate = TiOxRate(self.device)
        self.rng = np.random.default_rng(seed)
        self.shape = (tiles, m, n)
        ni, rng = self.nonideal, self.rng
        # static variation maps (drawn in a fixed order so each switch keeps its own stream)
        maps = np.random.default_rng([seed, 1])
        self.k_set_factor = np.exp(ni.d2d_update * maps.standard_normal(self.shape))
        self.k_reset_factor = np.exp(ni.d2d_update * maps.standard_normal(self.shape))
        self.x_lo = np.abs(ni.window_spread * maps.standard_normal(self.shape))
        self.x_hi = 1.0 - np.abs(ni.window_spread * maps.standard_normal(self.shape))
        stuck_draw = maps.uniform(size=self.shape)
        self.stuck = stuck_draw < ni.stuck_fraction
        self.stuck_value = (stuck_draw < ni.stuck_fraction / 2).astype(float)
        self.state = np.where(self.stuck, self.stuck_value, self.x_lo)  # pristine: OFF (forming-free)
        self.rng = rng
        dev = self.device
        self.i_off = float(dev.current(self.config.v_read, 0.0))
        self.i_on = float(dev.current(self.config.v_read, 1.0))
        #: nominal state change of one pulse at mid-range (the controller's step size), for SET and RESET
        c = self.config
        self.step_set = float(integrate_state(dev, 0.5, c.v_write, c.pulse_width, rate=self.rate) - 0.5)
        self.step_reset = float(0.5 - integrate_state(dev, 0.5, -c.v_write, c.pulse_width, rate=self.rate))
        self.pulses_applied = 0
        #: the largest state change one update can make (max_pulses of the smaller nominal step)
        self.max_step = self.config.max_pulses * min(self.step_set, self.step_reset)
        self.write_rng = np.random.default_rng([seed, 2])  # the controller's rounding stream
        self.residue = np.zeros(self.shape)  # un-programmed part of past updates, in pulses (rounding="accumulate")
        self.use_solve_dc = bool(use_solve_dc)

    # -- periphery ----------------------------------------------------------------------------
    @property
    def tiles(self) -> int:
        return self.shape[0]

    def _ends(self):
        ni = self.nonideal
        r_tia = ni.tia.r_f / (1 + ni.tia.gain) if ni.tia is not None else 0.0  # virtual-ground error
        return ni.r_wire, r_tia

    def _sense(self, current, gain: float = 1.0):
        """TIA (feedback ``r_f`` times ``gain``) then ADC: the current (A) the controller infers from the code.

        The controller converts with the nominal feedback resistance, so a finite
        op-amp gain shows up as a gain error; the output swing clips.
        """
        ni = self.nonideal
        tia = ni.tia if ni.tia is not None else OpAmpTIA(r_f=40e3, v_sat=1.5)
        r_f = tia.r_f * gain
        if ni.tia is not None:
            v = np.clip(dataclasses.replace(tia, r_f=r_f).dc_output(current), -tia.v_sat, tia.v_sat)
        else:
            v = -r_f * np.asarray(current)
        if ni.adc_bits is not None:
            v = -adc_quantize(-v, ni.adc_bits, tia.v_sat, signed=False)[1]
        return -v / r_f

    def _gain(self, shape):
        s = self.nonideal.read_noise
        return None if s == 0 else 1.0 + s * self.rng.standard_normal(shape)

    def _solve(self, e_word, e_bit, r_word_end, r_bit_end, gain=None, tol=1e-9):
        """Cell voltages and currents (tiles, p, m, n) for line-end drives, on the chosen solver."""
        r = self.nonideal.r_wire
        if not self.use_solve_dc:
            return solve_lines(self.law, self.state, e_word, e_bit, r, r, r_word_end, r_bit_end, gain=gain, tol=tol)
        from ...solver import solve_dc

        T, m, n = self.shape
        p = e_word.shape[1]
        u, i = np.empty((T, p, m, n)), np.empty((T, p, m, n))
        for t in range(T):
            for k in range(p):
                vw, vb = e_word[t, k], e_bit[t, k]
                if np.all(vw == 0) and np.any(vb < 0):
                    # transposed read (bit lines driven, word lines at virtual ground): negating every voltage,
                    # it is the transposed, flipped crossbar driven at -vb, cells in the same orientation
                    # (cell voltage and current wl -> bl of the original equal those of the flipped one)
                    xbar = self.crossbar(
                        t, state=self.state[t][::-1, ::-1].T.copy(), r_source=r_bit_end, r_sense=r_word_end
                    )
                    sol = solve_dc(xbar, -vb[::-1])
                    u[t, k] = (sol.word_line_voltages - sol.bit_line_voltages)[0].T[::-1, ::-1]
                    i[t, k] = sol.device_currents[0].T[::-1, ::-1]
                else:
                    xbar = self.crossbar(t, r_source=r_word_end, r_sense=r_bit_end, bit_bias=vb)
                    sol = solve_dc(xbar, vw)
                    u[t, k] = (sol.word_line_voltages - sol.bit_line_voltages)[0]
                    i[t, k] = sol.device_currents[0]
        return u, (i * gain if gain is not None else i)

    # -- reads --------------------------------------------------------------------------------
    def forward(self, y) -> np.ndarray:
        """Projection read: ``P[t, k] = sum_i u[t, i, k] y[t, i, k]`` for every tile t and column k.

        ``y``: (tiles, m, n) inputs in [0, 1] (a frame tile).  Bit-serial DAC, one
        read per column and bit plane, TIA and ADC on every plane, shift-and-add.
        """
        y = np.asarray(y, float)
        T, m, n = self.shape
        if y.shape != self.shape:
            raise ValueError(f"y must have shape {self.shape}, got {y.shape}")
        ni, c = self.nonideal, self.config
        bits = ni.dac_bits if ni.dac_bits is not None else IDEAL_DAC_PLANES
        top = 2**bits - 1
        codes = np.round(np.clip(y, 0, 1) * top).astype(np.int64)  # (T, m, n)
        planes = (codes[..., None] >> np.arange(bits - 1, -1, -1)) & 1  # (T, m, n, B): MSB first
        weights = 2.0 ** np.arange(bits - 1, -1, -1) / top
        # read vector (k, b): column k of the tile, plane b, on the word lines
        e_word = np.transpose(planes, (0, 2, 3, 1)).reshape(T, n * bits, m) * c.v_read
        e_bit = np.zeros((T, n * bits, n))
        r_wire, r_tia = self._ends()
        gain = self._gain((T, n, 1, m, n))
        if gain is not None:  # one noise draw per read operation (column k), held over its planes
            gain = np.broadcast_to(gain, (T, n, bits, m, n)).reshape(T, n * bits, m, n)
        _, i = self._solve(e_word, e_bit, 0.0, r_tia, gain=gain)
        out = i.sum(axis=-2).reshape(T, n, bits, n)  # (T, read k, plane, column)
        own = out[:, np.arange(n), :, np.arange(n)]  # (n, T, B): TIA k in read k
        own = np.transpose(own, (1, 0, 2))
        meas = self._sense(own) @ weights  # (T, n) shift-and-add
        y_q = codes.sum(axis=1) / top  # (T, n): known input sums
        return (meas - self.i_off * y_q) / (self.i_on - self.i_off)

    def basis(self) -> np.ndarray:
        """Reconstruction read: the stored basis ``u`` (tiles, m, n) from transposed, forward-biased reads."""
        T, m, n = self.shape
        ni, c = self.nonideal, self.config
        reads = c.recon_reads if ni.read_noise > 0 else 1  # repeats only matter with noise
        return np.mean([self._basis_once() for _ in range(reads)], axis=0)

    def _basis_once(self) -> np.ndarray:
        T, m, n = self.shape
        ni, c = self.nonideal, self.config
        # transposed geometry: bit line j driven at -v_read (bottom end), word lines at row-TIA ground (left end)
        e_bit = -c.v_read * np.broadcast_to(np.eye(n), (T, n, n))
        e_word = np.zeros((T, n, m))
        r_wire, r_tia = self._ends()
        r_row = ni.tia.r_f * c.recon_gain / (1 + ni.tia.gain) if ni.tia is not None else 0.0
        gain = self._gain((T, n, m, n))
        _, i = self._solve(e_word, e_bit, r_row, 0.0, gain=gain)
        rows = i.sum(axis=-1)  # (T, read j, row i)
        meas = np.transpose(self._sense(rows, c.recon_gain), (0, 2, 1))  # (T, i, j)
        return (meas - self.i_off) / (self.i_on - self.i_off)

    def crossbar(self, tile: int = 0, **overrides):
        """The :class:`~memspice.circuits.crossbar.Crossbar` of one tile as read forward: its states, wire
        resistance and the TIA's input resistance as ``r_sense`` (for ``solve_dc`` and the ngspice netlist)."""
        from ...circuits.crossbar import Crossbar

        ni = self.nonideal
        kw = dict(state=self.state[tile], r_word=ni.r_wire, r_bit=ni.r_wire, r_sense=self._ends()[1])
        kw["state"] = np.clip(kw["state"], 0.0, 1.0)
        kw.update(overrides)
        if self.device.params == TiOx().params:
            return Crossbar(cell="tiox", **kw)
        # a non-default device: the cell object of memspice.circuits.cells
        from ...circuits.cells import tiox

        return Crossbar(cell=tiox(self.device), **kw)

    def true_basis(self) -> np.ndarray:
        """Basis values the states encode, read ideally (for diagnostics, not used by the algorithm)."""
        return self.state.copy()

    # -- writes -------------------------------------------------------------------------------
    def pulses_for(self, delta) -> np.ndarray:
        """Pulse counts (positive SET, negative RESET) the controller uses for a wanted basis change."""
        d = np.asarray(delta, float)
        n = np.where(d >= 0, d / self.step_set, d / self.step_reset)
        mode = self.config.rounding
        if mode == "accumulate":
            n = n + self.residue
        if mode == "stochastic":
            n = np.floor(n + self.write_rng.uniform(size=n.shape))
        else:
            n_int = np.clip(np.round(n), -self.config.max_pulses, self.config.max_pulses)
            if mode == "accumulate":
                self.residue = np.clip(n - n_int, -0.5, 0.5)  # what is left of the wish, in pulses
            n = n_int
        return np.clip(n, -self.config.max_pulses, self.config.max_pulses).astype(int)

    def update(self, delta) -> np.ndarray:
        """Program the wanted change ``delta`` (tiles, m, n) of the basis; returns the pulse counts used."""
        n = self.pulses_for(delta)
        self.program(n)
        return n

    def program(self, pulses) -> None:
        """Apply ``pulses`` (tiles, m, n; +: SET, -: RESET) with the V/2 or V/3 scheme, SET phase then RESET."""
        pulses = np.asarray(pulses)
        if pulses.shape != self.shape:
            raise ValueError(f"pulses must have shape {self.shape}, got {pulses.shape}")
        for sign in (1, -1):
            own = np.maximum(sign * pulses, 0)
            if np.any(own):
                self._phase(own, sign)
        self.pulses_applied += int(np.abs(pulses).sum())

    def _phase(self, own, sign):
        c, ni = self.config, self.nonideal
        T, m, n = self.shape
        v = sign * c.v_write
        k_rows = own.max(axis=2, keepdims=True)  # rounds per row (T, m, 1)
        col_total = own.sum(axis=1, keepdims=True)  # pulses per column (T, 1, n)
        # half-selected: own row's other rounds + other rows' rounds that select this column
        half = (k_rows - own) + (col_total - own)
        frac = 0.5 if c.scheme == "V/2" else 1.0 / 3.0
        x = self.state
        factor = self.k_set_factor if sign > 0 else self.k_reset_factor
        x = integrate_state(self.device, x, frac * v, half * c.pulse_width * factor, steps=1, rate=self.rate)
        if c.scheme == "V/3":  # unselected cells: row at V/3, column at 2V/3 -> -V/3
            rounds_other = k_rows.sum(axis=1, keepdims=True) - k_rows
            unsel = rounds_other - (col_total - own)
            x = integrate_state(
                self.device, x, -frac * v, np.maximum(unsel, 0) * c.pulse_width * factor, steps=1, rate=self.rate
            )
        v_own = np.full(self.shape, v)
        if ni.r_wire > 0:
            v_own = self._write_voltages(own, v, frac)
        width = own.astype(float)
        if ni.c2c_update > 0:
            width = np.maximum(width + ni.c2c_update * np.sqrt(width) * self.rng.standard_normal(self.shape), 0.0)
        x = integrate_state(self.device, x, v_own, width * c.pulse_width * factor, steps=c.rk4_steps, rate=self.rate)
        x = np.clip(x, self.x_lo, self.x_hi)
        self.state = np.where(self.stuck, self.stuck_value, x)

    def _write_voltages(self, own, v, frac):
        """Selected-cell voltages (V) of each row's first write round, from a DC solve with wire resistance."""
        T, m, n = self.shape
        sel = own > 0  # (T, m, n)
        e_word = np.where(np.eye(m, dtype=bool), v, frac * v)  # (m vectors, m rows)
        e_word = np.broadcast_to(e_word, (T, m, m))
        other = frac * v if self.config.scheme == "V/2" else 2 * frac * v
        e_bit = np.where(sel, 0.0, other)  # vector i: row i's selection
        u, _ = self._solve(e_word, e_bit, 0.0, 0.0)
        return np.einsum("tiij->tij", u)
