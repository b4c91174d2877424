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
            "self-rectifying interface-type TiOx memristors and separated the foreground of real video from its "
            "background at an average PSNR of 30.49 dB (SSIM 0.81), learning on the array with no compensation "
            "step. Here the same kind of system runs in simulation: the background image lives in the states of "
            "a 32 x 32 TiOx array per frame tile, reads go through the wire resistance, the TIA and the ADC, and "
            "every update is a train of programming pulses whose effect is the TiOx state equation.\n\n"
            "A short synthetic clip (ground truth known) keeps this notebook to a minute or two; "
            "`memspice reproduce rpca` runs the full study, `--frames FILE` runs it on your own video.",
        ),
        (
            "code",
            "import numpy as np\nimport matplotlib.pyplot as plt\nfrom memspice.systems.rpca.scenes import named_clip\n"
            "from memspice.systems.rpca.algorithm import run_online_rpca, FloatBasis\n"
            "from memspice.systems.rpca.array import TiOxArray, NonIdealities\n"
            "from memspice.systems.rpca.reproduce import frame_scores, median_background\n"
            "clip = named_clip('package', 60)\nburn = len(clip.frames) // 10  # scores cover every frame after it",
        ),
        ("md", "## The clip: a photograph, drifting light, moving occluders, sensor noise"),
        (
            "code",
            "fig, ax = plt.subplots(2, 4, figsize=(8, 4))\nfor k, f in enumerate([0, 20, 40, 59]):\n"
            "    ax[0, k].imshow(clip.frames[f], cmap='gray', vmin=0, vmax=1); ax[0, k].set_title(f'frame {f}')\n"
            "    ax[1, k].imshow(clip.foreground[f], cmap='gray')\nfor a in ax.ravel(): a.axis('off')\n"
            "plt.tight_layout()",
        ),
        ("md", "## The array's cells: identical pulses give nonlinear, state-dependent steps"),
        (
            "code",
            "from memspice.systems.rpca.reproduce import tiox_pulses\npulses = tiox_pulses(quick=True)\npulses.figure",
        ),
        (
            "md",
            "## Online RPCA: ideal floating point vs the TiOx array with every non-ideality on\n\n"
            "Each frame: a transposed read gives the stored background image u, forward reads project the frame on "
            "u times four illumination polynomials (a robust fit), the thresholded residual is the foreground, "
            "and the inliers' residual becomes SET/RESET pulses with a step size that adapts (Kesten's rule).",
        ),
        (
            "code",
            "ideal = run_online_rpca(clip.frames, FloatBasis(1))\narray = TiOxArray(1, nonideal=NonIdealities(), seed=0)\n"
            "hw = run_online_rpca(clip.frames, array)\n"
            "score = lambda bg: [x[burn:].mean() for x in frame_scores(clip.background, bg)]\n"
            "rows = {'ideal (float)': ideal.background, 'TiOx array': hw.background, "
            "'median of 25 frames': median_background(clip.frames), 'input frame': clip.frames}\n"
            "scores = {k: score(v) for k, v in rows.items()}\n"
            "for k, (p, s) in scores.items():\n    print(f'{k:20s} {p:6.2f} dB  SSIM {s:.3f}')\n"
            "print(f'{array.pulses_applied} pulses')",
        ),
        (
            "code",
            "assert scores['TiOx array'][0] > scores['input frame'][0] + 6\n"
            "assert scores['TiOx array'][0] > scores['ideal (float)'][0] - 3",
        ),
        (
            "code",
            "fig, ax = plt.subplots(4, 4, figsize=(8, 8))\nrows = [('true background', clip.background), "
            "('ideal', ideal.background), ('TiOx array', hw.background), ('array error', hw.background - clip.background)]\n"
            "for r, (name, data) in enumerate(rows):\n    for k, f in enumerate([15, 30, 45, 59]):\n"
            "        kw = dict(cmap='RdBu', vmin=-0.1, vmax=0.1) if r == 3 else dict(cmap='gray', vmin=0, vmax=1)\n"
            "        ax[r, k].imshow(data[f], **kw); ax[r, k].set_xticks([]); ax[r, k].set_yticks([])\n"
            "    ax[r, 0].set_ylabel(name)\nplt.tight_layout()",
        ),
        (
            "code",
            "p_i = frame_scores(clip.background, ideal.background)[0]; p_a = frame_scores(clip.background, hw.background)[0]\n"
            "plt.figure(figsize=(7, 3))\nplt.plot(p_i, label='ideal float'); plt.plot(p_a, label='TiOx array')\n"
            "plt.axvspan(0, burn, color='0.9', label='burn-in')\n"
            "plt.xlabel('frame'); plt.ylabel('background PSNR (dB)'); plt.legend(fontsize=7);",
        ),
        ("md", "## What adapted: the step size (Kesten's rule) and the persistence"),
        (
            "code",
            "fig, ax = plt.subplots(1, 2, figsize=(8, 3))\nax[0].plot(hw.eta[:, 0]); ax[0].set_title('step size eta')\n"
            "ax[1].plot(hw.persistence[:, 0]); ax[1].set_title('persistence P (frames)')\nfor a in ax: a.set_xlabel('frame')",
        ),
        (
            "md",
            "## Circuit-level check: the programmed array in ngspice\n\nForward reads of one frame column (every DAC "
            "plane) through the full ngspice netlist of the programmed array (TiOx behavioural face, wire resistance, "
            "TIA input resistance) against the array's own batched line solver.",
        ),
        (
            "code",
            "from memspice.spice.capabilities import ngspice_info\nfrom memspice.systems.rpca.reproduce import ngspice_read_check\n"
            "if ngspice_info().executable:\n"
            "    err, detail = ngspice_read_check({58: array.state}, clip.frames, NonIdealities())\n"
            "    print(f'ngspice vs line solver: {err:.1e}')\n    assert err < 1e-6",
        ),
    ]
)

if __name__ == "__main__":
    save_executed(rpca, Path(__file__).parent / "rpca_video.ipynb")
