"""Regenerate the notebooks, executed: python notebooks/build_notebooks.py [NAME ...] (from the repository root).

Notebooks are committed with their outputs (figures show on a code host); the tests execute them again.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from notebook_tools import nb, save_executed  # noqa: E402

quick = nb(
    [
        (
            "md",
            "# memspice quick start\n\nOne device model, three faces; one crossbar, two backends. Runs in under a minute.",
        ),
        (
            "code",
            "import numpy as np\nfrom memspice.models import DriftDiffusion\nfrom memspice.circuits import Sine\nfrom memspice.analysis import plots\n\nm = DriftDiffusion()            # Shi et al. 2025 (DDK) Fig. 1b/c defaults\nm.describe()[:4]",
        ),
        ("md", "## Python reference: a pinched hysteresis loop (v0 = 1 V, w0 = 10 rad/s)"),
        (
            "code",
            "src = Sine(1.0, 10 / (2 * np.pi))\nref = m.simulate(src, 2 * np.pi / 10)\nplots.iv_loop(ref, 'drift-diffusion memristor');",
        ),
        ("md", "## The same equations in ngspice (behavioural subcircuit, and Verilog-A through OSDI where available)"),
        (
            "code",
            "from memspice.spice.capabilities import ngspice_info\nfrom memspice.spice.device_bench import compare_faces\ninfo = ngspice_info()\nfaces = ('behavioural', 'veriloga') if info.osdi else ('behavioural',)\nerrors = compare_faces(m, src, 2 * np.pi / 10, faces=faces) if info.executable else {}\nerrors",
        ),
        ("code", "assert all(e <= 1e-3 for face in errors.values() for e in face.values())"),
        ("md", "## A crossbar read: ngspice and the sparse solver agree"),
        (
            "code",
            "from memspice.circuits.crossbar import Crossbar\nfrom memspice.simulate import simulate_crossbar\nrng = np.random.default_rng(0)\nxbar = Crossbar(rng.uniform(1e-6, 1e-4, (16, 16)), cell='1S1R', r_word=2.0, r_bit=2.0)\nv = rng.uniform(0, xbar.cell.read_voltage, 16)           # up to the cell kind's read voltage\nsparse = simulate_crossbar(xbar, v, backend='sparse')\nprint(sparse.backend, sparse.info.backend_reason)\nif info.executable:\n    spice = simulate_crossbar(xbar, v, backend='ngspice')\n    err = np.max(np.abs(sparse.output_currents - spice.output_currents)) / np.max(np.abs(spice.output_currents))\n    print(f'max relative difference {err:.1e}')\n    assert err < 1e-6",
        ),
    ]
)

irdrop = nb(
    [
        (
            "md",
            "# Crossbar IR-drop study\n\nHow wire resistance and array size degrade an analogue matrix-vector multiply, for 1R, 1S1R and self-rectifying TiOx arrays (sparse solver).",
        ),
        (
            "code",
            "import numpy as np\nfrom memspice.analysis import reproductions, plots, metrics\nfrom memspice.circuits.crossbar import Crossbar\nfrom memspice.circuits.weights import conductance_map\nfrom memspice.solver import solve_dc",
        ),
        ("md", "## IR-drop map of one 64 x 64 array (1 Ohm segments)"),
        (
            "code",
            "rng = np.random.default_rng(0)\ng = conductance_map(rng.uniform(0, 1, (64, 64)))\nv = np.full(64, 0.2)\nxbar = Crossbar(g, r_word=1.0, r_bit=1.0)\nsol = solve_dc(xbar, v)\ndrop = metrics.ir_drop_map(sol)\nplots.crossbar_heatmap(drop * 1e3, 'read-voltage loss', 'mV');\nprint('worst cell loses', round(drop.max() * 1e3, 1), 'mV of', v[0] * 1e3, 'mV')",
        ),
        ("md", "## MVM error against segment resistance and array size"),
        (
            "code",
            "table, fig = reproductions.mvm_error(sizes=(16, 32, 64, 128), r_wires=(0.1, 1.0, 5.0))\ntable.pivot_table(index=['cell', 'n'], columns='r_wire_ohm', values='rms_rel_error')",
        ),
        (
            "code",
            "for cell, sub in table.groupby('cell'):\n    grid = sub.pivot(index='n', columns='r_wire_ohm', values='rms_rel_error').to_numpy()\n    assert np.all(np.diff(grid, axis=0) > 0) and np.all(np.diff(grid, axis=1) > 0)",
        ),
        ("md", "## Device variation: a seeded Monte Carlo through Dask"),
        (
            "code",
            "from memspice.analysis.sweeps import monte_carlo_crossbar\nmc = monte_carlo_crossbar(samples=20, n=32, sigma=0.1, seed=3, progress=False, scheduler='threads')\nmc[['sample', 'mvm_rms_rel_error']].describe()",
        ),
    ]
)

spiking = nb(
    [
        (
            "md",
            "# Spiking-neuron study\n\nA leaky integrate-and-fire neuron built on the volatile threshold switch: f-I curve, ngspice vs Python spike times, and neurons driven by crossbar columns.",
        ),
        (
            "code",
            "import numpy as np\nfrom memspice.circuits.lif import LIFNeuron\nfrom memspice.analysis import metrics, plots\nneuron = LIFNeuron()\nprint('threshold current', neuron.threshold_current, 'A')",
        ),
        (
            "code",
            "w = neuron.simulate(30e-6, 20e-6)\nplots.state_vs_time(w, 'v_mem');\nspikes = metrics.spike_times(w.time, w['v_spk'], neuron.spike_level)\nprint(len(spikes), 'spikes, rate', round(metrics.firing_rate(spikes, 20e-6) / 1e3, 1), 'kHz')",
        ),
        ("md", "## f-I curve"),
        (
            "code",
            "currents = neuron.threshold_current * np.array([0.5, 1.5, 3, 5])\nrates = [metrics.firing_rate(metrics.spike_times(*(lambda r: (r.time, r['v_spk']))(neuron.simulate(i, 20e-6)), neuron.spike_level), 20e-6) for i in currents]\nplots.xy(currents * 1e6, {'TS neuron': np.array(rates) / 1e3}, 'input (µA)', 'rate (kHz)');\nassert rates[0] == 0 and all(a < b for a, b in zip(rates, rates[1:]))",
        ),
        ("md", "## ngspice agrees on spike times"),
        (
            "code",
            "from memspice.spice import run\nfrom memspice.spice.capabilities import ngspice_info\nif ngspice_info().executable:\n    ws = run(neuron.netlist(30e-6, 20e-6, 5e-9)).waveforms\n    s2 = metrics.spike_times(ws.time, ws['v(spk0)'], neuron.spike_level)\n    print('max spike-time difference', np.max(np.abs(s2 - spikes)), 's (time step 5e-9 s)')\n    assert len(s2) == len(spikes) and np.max(np.abs(s2 - spikes)) <= 5e-9",
        ),
        ("md", "## Neurons on crossbar columns: raster"),
        (
            "code",
            "from memspice.circuits.crossbar import Crossbar\nfrom memspice.netlists import crossbar_netlist\nif ngspice_info().executable:\n    g = np.array([[1.0e-5, 1.5e-5, 2.0e-5, 3.0e-5]] * 3)\n    text = crossbar_netlist(Crossbar(g, r_word=1.0, r_bit=1.0), np.full(3, 1.0), sense=neuron, analysis='.tran 5e-9 20e-6 0 5e-9 uic')\n    wc = run(text).waveforms\n    trains = [metrics.spike_times(wc.time, wc[f'v(spk{j})'], neuron.spike_level) for j in range(4)]\n    plots.raster(trains, 20e-6);\n    print([len(t) for t in trains])",
        ),
    ]
)

own_weights = nb(
    [
        (
            "md",
            "# Your own weights on a 1T1R array: ngspice and the sparse solver\n\n"
            "A layer's weights from a file (`data/layer_weights.csv`: 16 inputs x 8 outputs, signed, with a header "
            "row), mapped onto a 1T1R array (signed weights: G+/G- column pairs), read with ngspice and with the "
            "sparse solver; then the IR drop of one read, its energy and its latency.",
        ),
        (
            "code",
            "import numpy as np\nimport memspice as ms\nfrom memspice.analysis import plots\nfrom memspice.analysis.read_cost import read_energy, read_latency\nfrom memspice.analysis.readout import read_crossbar\nfrom memspice.circuits.array_options import ArrayOptions\nfrom memspice.circuits.datafiles import load_matrix\nfrom memspice.spice.capabilities import ngspice_info\n\nweights = load_matrix('data/layer_weights.csv', 'weights')   # (16 word lines, 8 outputs)\noptions = ArrayOptions(cell='1T1R', r_word=2.0, r_bit=2.0)     # 2 Ohm per wire segment\nxbar, mapping = options.crossbar(weights)\nprint(weights.shape, '->', xbar.shape, '|', mapping.describe())",
        ),
        (
            "md",
            "The warning says the default access transistor takes a third of the read current of the most "
            "conductive cells. Size it for this conductance range (at most 5 % of the current, the default "
            "`max_loss`) and build the array again:",
        ),
        (
            "code",
            "from memspice.circuits.cells import TransistorResistor\n\nsized = TransistorResistor.sized_for(g_max=options.g_max, v_gate=1.5)\noptions = options.replace(cell=sized)\nxbar, mapping = options.crossbar(weights)\nxbar.c_word = xbar.c_bit = 2e-15                               # F per line node, for the latency\nprint('transistor W/L', round(sized.transistor.w_over_l, 1))",
        ),
        ("md", "## Read 20 input vectors on both backends"),
        (
            "code",
            "rng = np.random.default_rng(0)\ninputs = rng.uniform(0, 0.2, (20, xbar.m))                      # V, one row per vector\nsparse = read_crossbar(xbar, inputs, mapping, backend='sparse')\nprint('sparse:', sparse.reason, '| max error vs ideal', f'{sparse.max_relative_error:.2e}')\nsparse.figure();\nif ngspice_info().executable:\n    spice = read_crossbar(xbar, inputs, mapping, backend='ngspice')\n    diff = np.max(np.abs(spice.currents - sparse.currents)) / np.max(np.abs(spice.currents))\n    print(f'ngspice vs sparse solver: max relative difference {diff:.1e}')\n    assert diff < 1e-6\nsparse.table().head()",
        ),
        ("md", "## IR drop of one read"),
        (
            "code",
            "v = inputs[0]\nsol = ms.simulate_crossbar(xbar, v, backend='sparse')\ndrop = ms.ir_drop_map(sol)                                     # V per cell (m, n)\nplots.crossbar_heatmap(drop * 1e3, 'read-voltage loss per cell', 'mV');\nprint(f'worst cell loses {drop.max() * 1e3:.2f} mV of {v.max() * 1e3:.0f} mV')\nassert np.all(drop >= -1e-12) and drop.max() > 0",
        ),
        ("md", "## Latency (ngspice transient of a step) and energy"),
        (
            "code",
            "if ngspice_info().executable:\n    lat = read_latency(xbar, v)\n    t_read = lat['latency_s']\n    print(f\"settles within 1 % in {t_read * 1e12:.0f} ps (slowest column)\")\nelse:\n    t_read = 1e-9                                               # assumed 1 ns read without ngspice\ncost = read_energy(sol, t_read=max(t_read, 1e-9))\nparts = {k: cost.as_dict()[k] for k in ('cells_J', 'wires_J', 'drivers_J', 'sense_J')}\nplots.xy(np.arange(4), {'energy': np.array(list(parts.values())) * 1e15}, 'component: cells, wires, DACs, sense', 'energy (fJ)', logy=True);\nprint({k: f'{val * 1e15:.3g} fJ' for k, val in parts.items()})\nassert cost.total_J > 0 and cost.wires_J > 0",
        ),
    ]
)

NOTEBOOKS = {
    "quickstart.ipynb": quick,
    "crossbar_ir_drop.ipynb": irdrop,
    "spiking_neuron.ipynb": spiking,
    "own_weights_1t1r.ipynb": own_weights,
}

if __name__ == "__main__":
    out = Path(__file__).parent
    for name in sys.argv[1:] or NOTEBOOKS:
        save_executed(NOTEBOOKS[name], out / name)
        print("wrote", out / name)
