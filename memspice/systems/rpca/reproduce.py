"""Reproductions of seed 000 (Jeong et al., Nat. Electron. 8, 168-178, 2025).

* ``rpca``: online RPCA video foreground/background separation on the
  simulated 32 x 32 TiOx array with every non-ideality on, against the ideal
  floating-point run of the same algorithm and the batch principal component
  pursuit reference; ablation with each non-ideality alone.  The paper reports
  an average PSNR of 30.49 dB and SSIM 0.81 on hardware, "similar to" the
  ideal simulation.
* ``tiox_pulses``: conductance vs pulse number (potentiation then depression)
  of the array's cells under identical pulses.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...analysis.reproduction import Reproduction
from .algorithm import FloatBasis, RPCAConfig, run_online_rpca
from .array import ArrayConfig, NonIdealities, TiOxArray
from .pcp import principal_component_pursuit
from .video import surveillance_clip


def _single_thread():
    """BLAS on one thread: the small matrices here run much slower multi-threaded on a busy machine."""
    try:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(1)
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()


def frame_scores(truth, estimate):
    """PSNR (dB) and SSIM per frame (skimage.metrics, data range 1)."""
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    psnr = np.array([peak_signal_noise_ratio(t, e, data_range=1.0) for t, e in zip(truth, estimate)])
    ssim = np.array([structural_similarity(t, e, data_range=1.0) for t, e in zip(truth, estimate)])
    return psnr, ssim


def mask_f1(truth, mask):
    """F1 score of a foreground mask per frame (nan where neither has foreground)."""
    tp = np.sum(truth & mask, axis=(1, 2))
    denom = np.sum(truth, axis=(1, 2)) + np.sum(mask, axis=(1, 2))
    return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), np.nan)


def solver_check(array: TiOxArray, column, planes: int = 6) -> float:
    """Max relative difference of one forward read (every bit plane of ``column``) between the
    array's batched line solver and :func:`memspice.solver.solve_dc` on the same Crossbar."""
    from ...solver import solve_dc
    from ...solver.tiox_lines import solve_lines

    ni, c = array.nonideal, array.config
    xbar = array.crossbar(0)
    r_tia = xbar.r_sense
    bits = 6
    codes = np.round(np.clip(column, 0, 1) * (2**bits - 1)).astype(int)
    v = (((codes[None, :] >> np.arange(bits - 1, -1, -1)[:, None]) & 1) * c.v_read)[:planes]  # (planes, m), MSB first
    bits = v.shape[0]
    ref = solve_dc(xbar, v).output_currents
    _, i = solve_lines(array.law, array.state[0], v, np.zeros((bits, xbar.n)), ni.r_wire, ni.r_wire, 0.0, r_tia)
    return float(np.max(np.abs(i.sum(axis=-2) - ref)) / np.max(np.abs(ref)))


@dataclass
class _Run:
    """What a run hands back (picklable, for the worker processes)."""

    background: np.ndarray
    foreground: np.ndarray
    coefficients: np.ndarray
    seconds: float
    state: np.ndarray | None = None
    pulses: int = 0
    extra: dict | None = None


def _nonideal(name: str) -> NonIdealities:
    if name == "all":
        return NonIdealities()
    return NonIdealities.ideal() if name == "none" else NonIdealities.only(name)


def _job(kind: str, name: str, frames: np.ndarray, seed: int) -> _Run:
    """One run of the study: the float algorithm, the array with non-idealities ``name``, or batch PCP."""
    with _single_thread():
        if kind == "pcp":
            t0 = time.perf_counter()
            pcp = principal_component_pursuit(frames.reshape(frames.shape[0], -1).T)
            low = np.clip(pcp.low_rank.T.reshape(frames.shape), 0, 1)
            mask = np.abs(pcp.sparse.T.reshape(frames.shape)) > RPCAConfig().tau_min
            return _Run(
                low,
                mask,
                np.ones((frames.shape[0], 1)),
                time.perf_counter() - t0,
                extra={"iterations": pcp.iterations, "rank": pcp.rank},
            )
        store = FloatBasis(1) if kind == "float" else TiOxArray(1, nonideal=_nonideal(name), seed=seed)
        res = run_online_rpca(frames, store, RPCAConfig())
        return _Run(
            res.background,
            res.foreground,
            res.coefficients,
            res.seconds,
            None if kind == "float" else store.state.copy(),
            getattr(store, "pulses_applied", 0),
        )


def _run_jobs(jobs, workers: int):
    """Run ``jobs`` ((kind, name, frames, seed) tuples) here or on ``workers`` processes; results in order."""
    if workers <= 1:
        return [_job(*j) for j in jobs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
        futures = [pool.submit(_job, *j) for j in jobs]
        return [f.result() for f in futures]


def rpca(quick: bool = False, seed: int = 0, frames: int | None = None, workers: int | None = None) -> Reproduction:
    """Online RPCA on the TiOx array vs ideal floating point vs batch PCP (see the module docstring).

    Full: 200 frames of 32 x 32, burn-in 50 frames (the warm-up from a pristine
    array plus the relearning of its ghosts); quick: 24 frames, burn-in 16,
    ablation on the first 11 frames only (a smoke test, not a measurement).
    ``workers``: processes for the independent runs (default: 2 for the full
    study, where available; 1, in this process, for quick).  Every run is
    seeded, so the numbers do not depend on ``workers``.
    """
    start = time.perf_counter()
    n_frames = frames or (24 if quick else 200)
    burn = 16 if quick else 50
    n_ablation = 11 if quick else n_frames
    if n_frames <= burn:
        raise ValueError(f"frames must exceed the burn-in of {burn} frames, got {n_frames!r}")
    if workers is None:
        workers = 1 if quick else min(2, os.cpu_count() or 1)
    clip = surveillance_clip(n_frames, 32, 32, seed=seed)
    if clip.background is None:
        raise RuntimeError("surveillance_clip gave no ground-truth background")
    names = ("none",) + NonIdealities.SWITCHES
    # slowest first (line solves), so two workers finish together
    jobs = [
        ("array", "all", clip.frames, seed),
        ("array", "r_wire", clip.frames[:n_ablation], seed),
        ("array", "tia", clip.frames[:n_ablation], seed),
        ("float", "", clip.frames, seed),
        ("pcp", "", clip.frames, seed),
    ]
    jobs += [("array", n, clip.frames[:n_ablation], seed) for n in names if n not in ("r_wire", "tia")]
    results = dict(zip([(k, n) for k, n, _, _ in jobs], _run_jobs(jobs, workers)))
    hw, ideal, pcp = results[("array", "all")], results[("float", "")], results[("pcp", "")]
    ablation = []
    first = min(burn, n_ablation - 2)
    for name in names:
        res = results[("array", name)]
        p, s = frame_scores(clip.background[first:n_ablation], res.background[first:])
        setting = "off" if name == "none" else repr(getattr(_nonideal(name), name))
        ablation.append(
            {"nonideality": name, "setting": setting, "psnr_db": p.mean(), "ssim": s.mean(), "seconds": res.seconds}
        )
    array = TiOxArray(1, nonideal=NonIdealities(), seed=seed)
    array.state = hw.state
    with _single_thread():
        check = solver_check(array, clip.frames[-1][:, 0], planes=2 if quick else 6)
    pcp_bg = pcp.background
    p_i, s_i = frame_scores(clip.background, ideal.background)
    p_a, s_a = frame_scores(clip.background, hw.background)
    p_p, s_p = frame_scores(clip.background, pcp_bg)
    f1_i, f1_a = mask_f1(clip.foreground, ideal.foreground), mask_f1(clip.foreground, hw.foreground)
    f1_p = mask_f1(clip.foreground, pcp.foreground)
    table = pd.DataFrame(
        {
            "frame": np.arange(n_frames),
            "after_burn_in": np.arange(n_frames) >= burn,
            "illumination": clip.illumination,
            "psnr_ideal_db": p_i,
            "psnr_array_db": p_a,
            "psnr_pcp_db": p_p,
            "ssim_ideal": s_i,
            "ssim_array": s_a,
            "ssim_pcp": s_p,
            "f1_ideal": f1_i,
            "f1_array": f1_a,
            "f1_pcp": f1_p,
            "w_ideal": ideal.coefficients[:, 0],
            "w_array": hw.coefficients[:, 0],
        }
    )
    after = slice(burn, None)
    headline = {
        "psnr_ideal_db": float(p_i[after].mean()),
        "psnr_array_db": float(p_a[after].mean()),
        "ssim_ideal": float(s_i[after].mean()),
        "ssim_array": float(s_a[after].mean()),
        "psnr_pcp_db": float(p_p[after].mean()),
        "ssim_pcp": float(s_p[after].mean()),
        "psnr_gap_db": float(p_i[after].mean() - p_a[after].mean()),
        "f1_ideal": float(np.nanmean(f1_i[after])),
        "f1_array": float(np.nanmean(f1_a[after])),
        "f1_pcp": float(np.nanmean(f1_p[after])),
        "frames": int(n_frames),
        "burn_in_frames": int(burn),
        "frame_size": [32, 32],
        "paper_psnr_db": 30.49,
        "paper_ssim": 0.81,
        "array_pulses": int(hw.pulses),
        "array_seconds": float(hw.seconds),
        "pcp_iterations": int(pcp.extra["iterations"]),
        "pcp_rank": int(pcp.extra["rank"]),
        "workers": int(workers),
        "line_solver_vs_solve_dc_rel": check,
        "seconds": float(time.perf_counter() - start),
        "seed": int(seed),
    }
    fig = _figure(clip, ideal, hw, pcp_bg, table, burn, 2 if quick else 4)
    return Reproduction(figure=fig, headline=headline, table=table, tables={"ablation": pd.DataFrame(ablation)})


def _figure(clip, ideal, hw, pcp_bg, table, burn, columns=4):
    import matplotlib.pyplot as plt

    n = clip.n_frames
    picks = np.unique(np.linspace(burn, n - 1, columns).astype(int))
    rows = [
        ("input", clip.frames),
        ("true background", clip.background),
        ("ideal (float)", ideal.background),
        ("TiOx array", hw.background),
        ("PCP (batch)", pcp_bg),
        ("true foreground", clip.foreground),
        ("array foreground", hw.foreground),
    ]
    fig = plt.figure(figsize=(2.0 * len(picks) + 1, 2.0 * len(rows) + 3.2))
    gs = fig.add_gridspec(len(rows) + 2, len(picks), height_ratios=[1] * len(rows) + [0.25, 1.6])
    for r, (label, data) in enumerate(rows):
        for c, f in enumerate(picks):
            ax = fig.add_subplot(gs[r, c])
            ax.imshow(data[f], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(label, fontsize=8)
            if r == 0:
                ax.set_title(f"frame {f}", fontsize=8)
    ax = fig.add_subplot(gs[-1, :])
    t = table["frame"]
    ax.plot(t, table["psnr_ideal_db"], label="ideal floating point")
    ax.plot(t, table["psnr_array_db"], label="TiOx array, all non-idealities")
    ax.plot(t, table["psnr_pcp_db"], label="PCP (batch, inexact ALM)", alpha=0.7)
    ax.axvspan(0, burn, color="0.9", label="burn-in")
    ax.axhline(30.49, color="k", ls="--", lw=0.8, label="Jeong et al. 2025: 30.49 dB")
    ax.set_xlabel("frame")
    ax.set_ylabel("background PSNR (dB)")
    ax.set_ylim(10, None)
    ax.legend(fontsize=7, loc="lower right")
    fig.suptitle("Online RPCA on a simulated 32x32 self-rectifying TiOx array", fontsize=10)
    fig.subplots_adjust(top=0.95, bottom=0.04, hspace=0.25)
    return fig


def tiox_pulses(quick: bool = False, seed: int = 0) -> Reproduction:
    """Conductance vs pulse number: identical SET pulses then identical RESET pulses.

    Every cell of a 32 x 32 array (d2d and c2c update variation on at the
    defaults of :class:`~.array.NonIdealities`, nothing else) receives
    ``n`` pulses at +v_write, then ``n`` at -v_write (1 us, V/2 scheme, all
    columns of each row selected), starting pristine (x = 0).  Read
    conductance i(v_read, x)/v_read after each pulse.  The nominal device
    (no variation) is integrated the same way and checked against the TiOx
    reference ODE (:meth:`memspice.models.TiOx.simulate`) over the first pulses.
    """
    import matplotlib.pyplot as plt

    from ...circuits.sources import pulse_train

    start = time.perf_counter()
    n = 20 if quick else 100
    ni = NonIdealities(
        read_noise=0.0, window_spread=0.0, stuck_fraction=0.0, r_wire=0.0, dac_bits=None, adc_bits=None, tia=None
    )
    cfg = ArrayConfig(pulse_width=1e-6)
    arr = TiOxArray(1, nonideal=ni, config=cfg, seed=seed)
    nominal = TiOxArray(1, shape=(1, 1), nonideal=NonIdealities.ideal(), config=cfg, seed=seed)
    v_read = cfg.v_read
    g = lambda a: a.device.current(v_read, a.state) / v_read  # noqa: E731
    cell_trace, nom_trace = [g(arr).ravel()], [float(g(nominal).ravel()[0])]
    x_nom = [float(nominal.state.ravel()[0])]
    for k in range(2 * n):
        sign = 1 if k < n else -1
        arr.program(np.full(arr.shape, sign))
        nominal.program(np.full(nominal.shape, sign))
        cell_trace.append(g(arr).ravel())
        nom_trace.append(float(g(nominal).ravel()[0]))
        x_nom.append(float(nominal.state.ravel()[0]))
    cells, nom = np.array(cell_trace) * 1e6, np.array(nom_trace) * 1e6
    # reference ODE of the device model over the first pulses (rectangular pulses, 1 ns edges)
    k_ref = 2 if quick else 5
    src = pulse_train([cfg.v_write] * k_ref, cfg.pulse_width, 2 * cfg.pulse_width, rise=1e-9)
    ref = nominal.device.simulate(
        src,
        k_ref * 2 * cfg.pulse_width,
        t_eval=np.arange(k_ref + 1) * 2 * cfg.pulse_width,
        max_step=cfg.pulse_width / 20,
    )
    rk4_error = float(np.max(np.abs(ref["x"] - np.array(x_nom[: k_ref + 1]))))
    pulse = np.arange(2 * n + 1)
    table = pd.DataFrame(
        {
            "pulse": pulse,
            "phase": np.where(pulse <= n, "potentiation", "depression"),
            "g_nominal_us": nom,
            "g_mean_us": cells.mean(axis=1),
            "g_std_us": cells.std(axis=1),
            "g_p5_us": np.percentile(cells, 5, axis=1),
            "g_p95_us": np.percentile(cells, 95, axis=1),
        }
    )
    pot, dep = nom[: n + 1], nom[n:]

    def nonlinearity(curve):
        lin = np.linspace(curve[0], curve[-1], curve.size)
        return float(np.max(np.abs(curve - lin)) / abs(curve[-1] - curve[0]))

    steps = np.diff(nom)
    headline = {
        "g_min_us": float(nom.min()),
        "g_max_us": float(nom.max()),
        "on_off_ratio": float(nom.max() / nom.min()),
        "pulses_each_phase": int(n),
        "pulse_width_s": cfg.pulse_width,
        "v_write_v": cfg.v_write,
        "nonlinearity_potentiation": nonlinearity(pot),
        "nonlinearity_depression": nonlinearity(dep),
        "first_step_set_us": float(steps[0]),
        "first_step_reset_us": float(steps[n]),
        "d2d_spread_rel_mid_potentiation": float(cells[n // 2].std() / cells[n // 2].mean()),
        "rk4_vs_reference_ode_max_dx": rk4_error,
        "seconds": float(time.perf_counter() - start),
    }
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.fill_between(
        pulse, table["g_p5_us"], table["g_p95_us"], color="C0", alpha=0.25, label="array cells, 5-95 % (d2d + c2c)"
    )
    ax.plot(pulse, table["g_mean_us"], color="C0", label="array mean")
    ax.plot(pulse, nom, "k--", lw=1, label="nominal TiOx cell")
    ax.axvline(n, color="0.5", lw=0.8)
    ax.set_xlabel("pulse number")
    ax.set_ylabel(f"read conductance at {v_read:g} V (uS)")
    ax.set_title(
        f"TiOx identical pulses: {n} x +{cfg.v_write:g} V then {n} x -{cfg.v_write:g} V, {cfg.pulse_width * 1e6:g} us",
        fontsize=9,
    )
    ax.legend(fontsize=7)
    fig.tight_layout()
    return Reproduction(figure=fig, headline=headline, table=table)
