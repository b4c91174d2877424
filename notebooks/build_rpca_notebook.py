"""Regenerate notebooks/rpca_video.ipynb, executed: python notebooks/build_rpca_notebook.py (from the repository root)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from notebook_tools import nb, save_executed  # noqa: E402

rpca = nb(
    [
        (
            "md",
            "# Video foreground/background separation on a simulated TiOx array\n\n"
            "Jeong et al. (Nat. Electron. 8, 168-178, 2025) ran robust PCA on a selector-less 32 x 32 array of "
            "self-rectifying interface-type TiOx memristors and separated video foreground from background at an "
            "average PSNR of 30.49 dB (SSIM 0.81), learning on the array with no compensation step. Here the same "
            "kind of system runs in simulation: the background basis lives in the states of a 32 x 32 TiOx array, "
            "reads go through the wire resistance, the TIA and the ADC, and every update is a train of programming "
            "pulses whose effect is the TiOx state equation. How many dB do the array's non-idealities cost?\n\n"
            "A short clip keeps this notebook to about a minute; `memspice reproduce rpca` runs the full 200-frame study.",
        ),
        (
            "code",
            "import numpy as np\nimport matplotlib.pyplot as plt\nfrom memspice.systems.rpca.video import surveillance_clip\n"
            "from memspice.systems.rpca.algorithm import run_online_rpca, FloatBasis\n"
            "from memspice.systems.rpca.array import TiOxArray, NonIdealities\n"
            "from memspice.systems.rpca.reproduce import frame_scores\n"
            "clip = surveillance_clip(70, 32, 32, seed=0)\nburn = 35",
        ),
        ("md", "## The clip: a photograph, drifting light, moving occluders, sensor noise (ground truth known)"),
        (
            "code",
            "fig, ax = plt.subplots(2, 4, figsize=(8, 4))\nfor k, f in enumerate([0, 20, 40, 60]):\n"
            "    ax[0, k].imshow(clip.frames[f], cmap='gray', vmin=0, vmax=1); ax[0, k].set_title(f'frame {f}')\n"
            "    ax[1, k].imshow(clip.foreground[f], cmap='gray')\nfor a in ax.ravel(): a.axis('off')\n"
            "ax[0, 0].set_ylabel('input'); plt.tight_layout()",
        ),
        ("md", "## The array's cells: identical pulses give nonlinear, state-dependent steps"),
        (
            "code",
            "from memspice.systems.rpca.reproduce import tiox_pulses\npulses = tiox_pulses(quick=True)\npulses.figure",
        ),
        (
            "md",
            "## Online RPCA: ideal floating point vs the TiOx array with every non-ideality on\n\n"
            "Each frame: a transposed read gives the basis, a forward read projects the frame (bit-serial DAC, "
            "one read per column), the thresholded residual is the foreground, and the background pixels' residual "
            "becomes SET/RESET pulses (V/2 scheme, row by row).",
        ),
        (
            "code",
            "ideal = run_online_rpca(clip.frames, FloatBasis(1))\narray = TiOxArray(1, nonideal=NonIdealities(), seed=0)\n"
            "hw = run_online_rpca(clip.frames, array)\n"
            "p_i, s_i = frame_scores(clip.background, ideal.background)\np_a, s_a = frame_scores(clip.background, hw.background)\n"
            "print(f'after {burn} frames: ideal {p_i[burn:].mean():.2f} dB / SSIM {s_i[burn:].mean():.3f};  '\n"
            "      f'array {p_a[burn:].mean():.2f} dB / SSIM {s_a[burn:].mean():.3f};  {array.pulses_applied} pulses')",
        ),
        ("code", "assert p_a[burn:].mean() > 30.49 and s_a[burn:].mean() > 0.81"),
        (
            "code",
            "fig, ax = plt.subplots(4, 4, figsize=(8, 8))\nrows = [('true background', clip.background), "
            "('ideal', ideal.background), ('TiOx array', hw.background), ('array foreground', hw.foreground)]\n"
            "for r, (name, data) in enumerate(rows):\n    for k, f in enumerate([40, 50, 60, 69]):\n"
            "        ax[r, k].imshow(data[f], cmap='gray', vmin=0, vmax=1); ax[r, k].set_xticks([]); ax[r, k].set_yticks([])\n"
            "    ax[r, 0].set_ylabel(name)\nplt.tight_layout()",
        ),
        (
            "code",
            "plt.figure(figsize=(7, 3))\nplt.plot(p_i, label='ideal float'); plt.plot(p_a, label='TiOx array')\n"
            "plt.axvspan(0, burn, color='0.9', label='burn-in'); plt.axhline(30.49, ls='--', c='k', lw=0.8, label='paper')\n"
            "plt.xlabel('frame'); plt.ylabel('background PSNR (dB)'); plt.ylim(10, None); plt.legend(fontsize=7);",
        ),
        ("md", "## What the array learned: its states are the (self-calibrated) background image"),
        (
            "code",
            "fig, ax = plt.subplots(1, 2, figsize=(6, 3))\nax[0].imshow(array.state[0], cmap='gray', vmin=0, vmax=1); "
            "ax[0].set_title('cell states x')\nax[1].imshow(clip.background[-1], cmap='gray', vmin=0, vmax=1); "
            "ax[1].set_title('true background')\nfor a in ax: a.axis('off')",
        ),
        ("md", "## Which non-ideality costs what? (each alone, first 50 frames of the clip)"),
        (
            "code",
            "rows = []\nfor name in ('none',) + NonIdealities.SWITCHES:\n"
            "    ni = NonIdealities.ideal() if name == 'none' else NonIdealities.only(name)\n"
            "    res = run_online_rpca(clip.frames[:50], TiOxArray(1, nonideal=ni, seed=0))\n"
            "    rows.append((name, frame_scores(clip.background[burn:50], res.background[burn:])[0].mean()))\n"
            "for name, p in rows:\n    print(f'{name:15s} {p:6.2f} dB')",
        ),
        (
            "md",
            "## Circuit-level check: the learned array in ngspice\n\nThe forward read of one frame column "
            "through the full ngspice netlist of the learned array (TiOx behavioural face, wire resistance, TIA input "
            "resistance) agrees with memspice's sparse solver.",
        ),
        (
            "code",
            "from memspice.spice.capabilities import ngspice_info\nfrom memspice.simulate import simulate_crossbar\n"
            "xbar = array.crossbar(0)\nv = (np.round(clip.frames[-1][:, 3] * 63).astype(int) >> 5) & 1  # the MSB plane\n"
            "sparse = simulate_crossbar(xbar, v * 1.0, backend='sparse').output_currents\n"
            "if ngspice_info().executable:\n    spice = simulate_crossbar(xbar, v * 1.0, backend='ngspice').output_currents\n"
            "    err = np.max(np.abs(spice - sparse)) / np.max(np.abs(spice))\n    print(f'ngspice vs sparse: {err:.1e}')\n"
            "    assert err < 1e-6",
        ),
    ]
)

if __name__ == "__main__":
    save_executed(rpca, Path(__file__).parent / "rpca_video.ipynb")
