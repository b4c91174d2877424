"""Python reference vs behavioural SPICE vs Verilog-A/OSDI, under a sine and a pulse train.

Errors are max |SPICE - reference| over the run, relative to the reference's
full scale, for the current and the state; the target is 1e-3.
"""

import numpy as np
import pytest

from memspice.circuits import Sine, pulse_train
from memspice.models import DriftDiffusion, Selector, ThresholdSwitch, TiOx
from memspice.spice.device_bench import compare_faces

from .conftest import needs_ngspice, needs_osdi

TOLERANCE = 1e-3

DRIVES = {
    "drift_diffusion-sine": (DriftDiffusion, Sine(1.0, 10 / (2 * np.pi)), 4 * np.pi / 10),
    "drift_diffusion-pulses": (DriftDiffusion, pulse_train([1.0] * 3 + [-1.0] * 3, 0.05, 0.1), 0.6),
    "tiox-sine": (TiOx, Sine(2.2, 1e5), 2e-5),
    "tiox-pulses": (TiOx, pulse_train([2.0] * 5 + [-2.0] * 5, 1e-6, 3e-6), 30e-6),
    # the regenerative turn-on is stiff: finer SPICE steps for the threshold switch
    "threshold_switch-sine": (ThresholdSwitch, Sine(1.0, 1e5), 2e-5, 40000),
    "threshold_switch-pulses": (ThresholdSwitch, pulse_train([1.0, 0.5, 0.1], 1e-6, 5e-6), 15e-6, 30000),
    "selector-sine": (Selector, Sine(1.0, 1e3), 2e-3),
    "selector-pulses": (Selector, pulse_train([1.0, -0.5], 1e-4, 3e-4), 6e-4),
}


@needs_ngspice
@pytest.mark.parametrize("case", sorted(DRIVES))
@pytest.mark.parametrize("face", ["behavioural", pytest.param("veriloga", marks=needs_osdi)])
def test_spice_face_matches_python_reference(case, face):
    cls, source, t_stop, *steps = DRIVES[case]
    errors = compare_faces(cls(), source, t_stop, faces=(face,), n_steps=steps[0] if steps else 4000)[face]
    print(f"{case} {face}: " + ", ".join(f"{k} {v:.2e}" for k, v in errors.items()))
    for name, err in errors.items():
        assert err <= TOLERANCE, f"{case} {face}: max error of {name} is {err:.2e} of full scale"


@needs_ngspice
def test_shared_mode_gives_same_waveforms_as_batch():
    from memspice.spice.device_bench import simulate_spice

    model, src = DriftDiffusion(), Sine(1.0, 10 / (2 * np.pi))
    a = simulate_spice(model, src, 0.3, mode="batch", n_steps=600)
    b = simulate_spice(model, src, 0.3, mode="shared", n_steps=600)
    np.testing.assert_allclose(b["i"], a["i"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(b["x"], a["x"], rtol=0, atol=1e-12)
