"""DACs, TIAs and ADCs around a crossbar."""

import numpy as np
import pytest

from memspice.circuits.crossbar import Crossbar
from memspice.circuits.periphery import (
    IdealTIA,
    OpAmpTIA,
    adc_quantize,
    amplitude_encoding,
    dac_levels,
    pulse_width_encoding,
)
from memspice.netlists import crossbar_netlist
from memspice.spice import run

from .conftest import needs_ngspice


def test_dac_and_adc_quantisation():
    assert np.allclose(dac_levels([0, 0.5, 1.0], 2, 0.3), [0, 0.2, 0.3])
    codes, rec = adc_quantize([-2.0, -0.26, 0.0, 0.26, 0.9], 3, 1.0)
    assert list(codes) == [-3, -1, 0, 1, 3]
    assert np.allclose(rec, codes / 3)
    codes, _ = adc_quantize([0.5], 8, 1.0, signed=False)
    assert codes[0] == 128
    with pytest.raises(ValueError, match="bits"):
        adc_quantize([0.1], 0, 1.0)
    with pytest.raises(ValueError, match="full_scale"):
        adc_quantize([0.1], 4, -1.0)


@needs_ngspice
@pytest.mark.parametrize("tia", [IdealTIA(r_f=5e3), OpAmpTIA(r_f=5e3, gain=1e4, gbw=50e6, v_sat=2.0)])
def test_tia_outputs_match_ideal_mvm(tia):
    rng = np.random.default_rng(2)
    g = rng.uniform(1e-6, 1e-4, (8, 8))
    v = rng.uniform(0, 0.2, 8)
    xbar = Crossbar(g)
    w = run(crossbar_netlist(xbar, v, sense=tia)).waveforms
    out = np.array([w[f"v(out{j})"][0] for j in range(8)])
    expected = tia.dc_output(xbar.ideal_outputs(v)[0])
    # finite gain: the bit line sits at -v_out/A, which the ideal formula ignores (error ~ 1/A)
    assert np.max(np.abs(out - expected)) / np.max(np.abs(expected)) < (1e-9 if isinstance(tia, IdealTIA) else 1e-3)


@needs_ngspice
def test_opamp_tia_saturates_at_its_swing():
    xbar = Crossbar(np.full((4, 2), 1e-3))
    w = run(crossbar_netlist(xbar, np.full(4, 1.0), sense=OpAmpTIA(r_f=10e3, v_sat=1.2))).waveforms
    assert abs(w["v(out0)"][0] + 1.2) < 0.01  # clipped at the swing
    assert w["v(s0)"][0] > 0.5  # so the bit line loses its virtual ground


@needs_ngspice
def test_pulse_width_encoding_charge_is_proportional_to_mvm():
    rng = np.random.default_rng(3)
    g = rng.uniform(1e-6, 1e-4, (4, 3))
    x = np.array([0.25, 0.5, 0.75, 1.0])
    t_max = 1e-6
    sources = pulse_width_encoding(x, 0.2, t_max, bits=8)
    xbar = Crossbar(g)
    text = crossbar_netlist(xbar, [s.spice() for s in sources], analysis=f".tran {t_max / 2000} {1.2 * t_max}")
    w = run(text).waveforms
    charge = np.array([np.trapezoid(w[f"i(vsense{j})"], w.time) for j in range(3)])
    rise = t_max / 200
    expected = g.T @ (0.2 * (np.round(x * 255) / 255 * t_max + rise))  # flat top + two half edges
    np.testing.assert_allclose(charge, expected, rtol=2e-3)
    amp = amplitude_encoding(x, 0.3, 1e-6, bits=4)
    assert np.isclose(max(amp[3].values), 0.3) and np.isclose(max(amp[0].values), 0.3 * round(0.25 * 15) / 15)
