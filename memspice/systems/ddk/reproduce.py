"""Reproductions of Shi et al., Nat. Commun. 16 (2025) (DDK): ``ddk``, ``ddk-pulses`` and ``ddk-network``.

``memspice reproduce ddk-pulses -o DIR``; ``memspice reproduce ddk-network --dataset NAME --seeds 5 -o DIR``.
"""

from __future__ import annotations

import contextlib
import time

import numpy as np
import pandas as pd

from ...analysis import plots
from ...analysis.reproduction import Reproduction

AMPLITUDES_V = (2.0, 2.5, 3.0)


def _single_thread():
    """BLAS on one thread: the small matrices here run far slower multi-threaded on a busy machine (measured:
    logistic regression on ACSF1, 100 x 1460, 496 s with 2 OpenBLAS threads under load, 2.2 s with 1)."""
    try:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(1)
    except ImportError:  # pragma: no cover - a dependency of scikit-learn
        return contextlib.nullcontext()


def ddk_features(quick: bool = False, seed: int = 0) -> Reproduction:
    """DDK feature map of a synthetic call on the calibrated device, and alpha/beta fits per utterance.

    An 8-utterance call (:func:`memspice.analysis.ddk.synthetic_call`: Shi et al. use a recorded whale
    sound, which memspice does not ship), average-pooled to 100 (quick: 40) features per utterance, mapped
    to 2-3 V pulses of 100 ns on the device calibrated by ``memspice fit``; each row fitted by the
    normalised DDK law.
    """
    import matplotlib.pyplot as plt

    from ...analysis.ddk import feature_map, fit_ddk, normalise, pooled_features, pulse_amplitudes, synthetic_call
    from .device import ddk_memristor, g_range

    utterances, features = 8, 40 if quick else 100
    model = ddk_memristor()
    amps = pulse_amplitudes(pooled_features(synthetic_call(seed=seed), utterances, features))
    fmap = feature_map(amps, model)
    fits = pd.DataFrame(
        [{"utterance": k, **fit_ddk(amps[k], normalise(fmap[k]), seed=seed)} for k in range(utterances)]
    )
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    plots.crossbar_heatmap(fmap * 1e6, "DDK feature map (calibrated device)", "conductance (uS)", ax=axes[0])
    axes[0].set_xlabel("pulse (feature)")
    axes[0].set_ylabel("utterance")
    axes[1].plot(fmap.T * 1e6, lw=0.8)
    g_min, g_max = g_range(model)
    axes[1].axhline(g_min * 1e6, color="0.5", ls=":", lw=0.8)
    axes[1].set_xlabel("pulse number")
    axes[1].set_ylabel("conductance (uS)")
    axes[1].set_title("rows; dotted: the fitted range floor", fontsize=9)
    axes[2].bar(fits.utterance, fits.rms, color="tab:red")
    axes[2].set_xlabel("utterance")
    axes[2].set_ylabel("RMS misfit of the DDK law (normalised)")
    axes[2].set_title("where the normalised law fits worst", fontsize=9)
    fig.tight_layout()
    spread = float(np.max(np.ptp(fmap, axis=0)) / np.mean(fmap))
    return Reproduction(
        fig,
        {
            "utterances": int(fmap.shape[0]),
            "features": int(fmap.shape[1]),
            "alpha_range": [float(fits.alpha.min()), float(fits.alpha.max())],
            "beta_range": [float(fits.beta.min()), float(fits.beta.max())],
            "rms_range": [float(fits.rms.min()), float(fits.rms.max())],
            "max_row_spread_rel": spread,
            "g_min_uS": g_min * 1e6,
            "g_max_uS": g_max * 1e6,
        },
        fits,
        {"feature_map_uS": pd.DataFrame(fmap * 1e6)},
    )


def _estimates(result) -> dict:
    return {
        r["name"]: {k: r[k] for k in ("value", "ci_low", "ci_high", "unit", "at_bound", "determined")}
        for r in result.table
    }


def ddk_pulses(quick: bool = False, seed: int = 0, starts: int = 4) -> Reproduction:
    """Calibration of the drift-diffusion device to the paper's pulsed conductance by ``memspice fit``.

    Fits the points of ``memspice/systems/ddk/data/shi2025_pulses.csv`` (labelled: the stated 6.1 and
    202.1 uS end points, the straight line between them the text states, 20 pulses past each end; 100
    pulses of 2 V, 100 ns assumed) with the paper's series law (Eq. 1) and with the parallel law, each from
    ``starts`` initial guesses (quick: 1 guess, at most 20 evaluations; the parallel fit then starts from
    the stored calibration).  Reports the fitted parameters with 95% intervals beside Fig. 1's illustration
    values, the fit quality of both laws, and the calibrated device's conductance against pulse number at
    2, 2.5 and 3 V.
    """
    import matplotlib.pyplot as plt

    from ...analysis.fit import PulseResponse
    from .device import (
        BOUNDS,
        FIG1,
        POINTS,
        Conduction,
        calibrate,
        calibrated_params,
        conductance_curves,
        g_range,
        nonlinearity,
    )

    t0 = time.perf_counter()
    nfev = 20 if quick else 200
    starts = 1 if quick else starts
    fits = {}
    with _single_thread():
        for law in Conduction:
            fits[law] = calibrate(law, starts=starts, seed=seed, max_nfev=nfev)
    if quick:  # the short run's parallel fit starts where the stored calibration ended
        from ...analysis.fit import fit

        stored = Conduction.PARALLEL.model_class(calibrated_params())
        fits[Conduction.PARALLEL] = fit(
            stored,
            PulseResponse.read(POINTS),
            list(fits[Conduction.PARALLEL].free),
            bounds=BOUNDS,
            starts=1,
            max_nfev=nfev,
        )
    par, ser = fits[Conduction.PARALLEL], fits[Conduction.SERIES]
    model = par.model()
    g_min, g_max = g_range(model)

    rows = []
    for law, result in fits.items():
        for r in result.table:
            fig1 = FIG1.get(r["name"])
            rows.append({"law": law.value, **r, "fig1": fig1})
        p = result.params
        rows.append(
            {
                "law": law.value,
                "name": "r_off_over_r_on",
                "value": p.r_off / p.r_on,
                "unit": "1",
                "fig1": FIG1["r_off_over_r_on"],
            }
        )
    rows.append({"law": "fixed", "name": "length", "value": par.params.length, "unit": "m", "fig1": FIG1["length"]})
    table = pd.DataFrame(rows)

    data = par.data[0]
    x_axis, _ = data.axis
    notes = pd.read_csv(POINTS, comment="#")["note"].astype(str)
    stated = notes.str.startswith("stated").to_numpy()
    n = 100
    amps = np.array(AMPLITUDES_V)
    curves = {v: conductance_curves(model, v, n) for v in amps}
    per_amp = pd.DataFrame(
        [
            {
                "amplitude_V": v,
                "nonlinearity_reset": nonlinearity(np.r_[g_max, r]),
                "nonlinearity_set": nonlinearity(np.r_[r[-1], s]),
                "g_lowest_uS": float(r.min() * 1e6),
                "g_highest_uS": float(s.max() * 1e6),
            }
            for v, (r, s) in curves.items()
        ]
    )

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))
    ax = axes[0]
    ax.plot(
        x_axis[~stated], data.observed[~stated] * 1e6, ".", ms=3, color="0.6", label="constructed (linear, range ends)"
    )
    ax.plot(x_axis[stated], data.observed[stated] * 1e6, "k*", ms=9, label="stated (6.1, 202.1 uS)")
    ax.plot(
        x_axis,
        par.predicted[0] * 1e6,
        "-",
        color="tab:blue",
        lw=1.2,
        label=f"parallel fit, RMS {par.rms()[0] * 1e6:.2g} uS",
    )
    ax.plot(
        x_axis,
        ser.predicted[0] * 1e6,
        "-",
        color="tab:red",
        lw=1.2,
        label=f"series (Eq. 1) fit, RMS {ser.rms()[0] * 1e6:.2g} uS",
    )
    ax.set_xlabel("pulse number (2 V, 100 ns: reset, then set)")
    ax.set_ylabel("conductance (uS)")
    ax.set_title("calibration points and fits", fontsize=9)
    ax.legend(frameon=False, fontsize=7)
    ax = axes[1]
    ax.axhline(0, color="0.5", lw=0.8)
    ax.plot(x_axis, (par.predicted[0] - data.observed) * 1e6, ".", ms=3, color="tab:blue", label="parallel")
    ax.plot(x_axis, (ser.predicted[0] - data.observed) * 1e6, ".", ms=3, color="tab:red", label="series (Eq. 1)")
    ax.set_xlabel("pulse number")
    ax.set_ylabel("fit - point (uS)")
    ax.set_title("residuals: where each law fails", fontsize=9)
    ax.legend(frameon=False, fontsize=8)
    ax = axes[2]
    for v, (r, s) in curves.items():
        ax.plot(np.arange(1, 2 * n + 1), np.r_[r, s] * 1e6, lw=1.1, label=f"{v:g} V")
    for g in (g_min, g_max):
        ax.axhline(g * 1e6, color="0.6", ls=":", lw=0.8)
    ax.set_xlabel("pulse number (100 ns; reset, then set)")
    ax.set_ylabel("conductance (uS)")
    ax.set_title("calibrated device (parallel law); dotted: fitted range", fontsize=9)
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()

    headline = {
        "law_used": "parallel",
        "points": str(POINTS.name),
        "points_stated": int(stated.sum()),
        "points_constructed": int((~stated).sum()),
        "g_min_uS": g_min * 1e6,
        "g_max_uS": g_max * 1e6,
        "rms_uS_parallel": par.rms()[0] * 1e6,
        "rms_uS_series": ser.rms()[0] * 1e6,
        "relative_rms_parallel": par.relative_rms()[0],
        "relative_rms_series": ser.relative_rms()[0],
        "calibration_parallel": _estimates(par),
        "calibration_series": _estimates(ser),
        "fig1": FIG1,
        "nonlinearity_set": float(per_amp.nonlinearity_set.max()),
        "nonlinearity_reset": float(per_amp.nonlinearity_reset.max()),
        "starts": starts,
        "confidence_note": "95% linearised intervals (s^2 (J^T J)^-1): they measure how well the points "
        "fix each parameter given the model; the constructed points carry no measurement noise",
        "seconds": time.perf_counter() - t0,
    }
    return Reproduction(
        figure=fig,
        headline=headline,
        table=table,
        tables={
            "amplitudes": per_amp,
            "fit_points": pd.DataFrame(
                {
                    "pulse": x_axis,
                    "g_uS": data.observed * 1e6,
                    "note": notes,
                    "parallel_uS": par.predicted[0] * 1e6,
                    "series_uS": ser.predicted[0] * 1e6,
                }
            ),
        },  # fmt: skip
    )


#: the statistic by which a device-above-software difference counts as noise: 2 standard errors
NOISE_SE = 2.0


def _summary(per_seed: pd.DataFrame, key: str) -> tuple[float, float]:
    values = per_seed[key].to_numpy(float)
    return float(values.mean()), float(values.std(ddof=1)) if values.size > 1 else 0.0


def ddk_network(
    quick: bool = False,
    seed: int = 0,
    dataset: str = "JapaneseVowels",
    seeds: int | None = None,
    read_noise: float | None = None,
) -> Reproduction:
    """DDK network on an aeon-bundled classification set: software and device forms beside raw-input baselines.

    The paper's recipe (Shi et al. 2025, Fig. 3): the raw series of each channel, cut into utterances and
    average-pooled (:class:`~memspice.systems.ddk.data.Recipe`), each sample a 2-3 V, 100 ns pulse, the
    conductance after each pulse a feature.  One training budget for both forms
    (:func:`~memspice.systems.ddk.experiment.run_seed`); the device form runs the DDK layer on the
    calibrated device with variation and its classification layer on crossbars programmed through the
    device model and read through memspice's solver with wire resistance.  Baselines on the raw series:
    the same MLP (``accuracy_baseline``) and logistic regression (``accuracy_logreg``); on the pooled
    input: the same MLP (``accuracy_pooled_baseline``, the DDK layer's own input).  ``seeds`` runs (seeds
    ``seed`` .. ``seed + seeds - 1``; default 5), reported as mean and standard deviation.  ``quick``: 40
    training and 40 test samples, 30 epochs, one seed unless ``seeds`` says otherwise.  ``read_noise``
    (S) replaces the assumed 1 uS read noise of the DDK read-out (training and device form alike): how the
    device-software gap depends on it.
    """
    import matplotlib.pyplot as plt

    from .data import Recipe, load_dataset, prepare
    from .experiment import run_seed
    from .network import Imprecision, TrainConfig

    if seeds is None:
        seeds = 1 if quick else 5
    if not (isinstance(seeds, int) and seeds >= 1):
        raise ValueError(f"seeds must be an integer >= 1, got {seeds!r}")
    t0 = time.perf_counter()
    data = load_dataset(dataset)
    if quick:
        prep = prepare(data, Recipe(), subset=40, seed=seed)
        cfg = TrainConfig(epochs=30, finetune_epochs=10, hidden=32)
    else:
        prep = prepare(data, Recipe())
        cfg = TrainConfig()
    imp = Imprecision() if read_noise is None else Imprecision(read_noise=float(read_noise))
    with _single_thread():
        runs = [run_seed(prep, seed + s, cfg, imp, logreg=(s == 0)) for s in range(seeds)]
    scalar = [k for k, v in runs[0].items() if isinstance(v, (int, float)) and k not in ("accuracy_logreg", "logreg_C")]
    per_seed = pd.DataFrame([{k: r[k] for k in scalar} for r in runs])
    per_seed["device_minus_software"] = per_seed.accuracy_device - per_seed.accuracy_software
    acc_logreg = runs[0]["accuracy_logreg"]
    k = prep.n_classes

    headline: dict = {"dataset": prep.name, "seeds": [int(s) for s in per_seed.seed]}
    for key in (
        "accuracy_software",
        "accuracy_device",
        "accuracy_baseline",
        "accuracy_pooled_baseline",
        "accuracy_device_transfer",
        "accuracy_device_float_head",
        "accuracy_software_noisy",
        "device_minus_software",
    ):
        mean, sd = _summary(per_seed, key)
        headline[key] = mean
        headline[key + "_std"] = sd
    headline["accuracy_logreg"] = acc_logreg
    headline["logreg_C"] = runs[0]["logreg_C"]
    best = max(headline["accuracy_baseline"], acc_logreg)
    se = headline["device_minus_software_std"] / np.sqrt(seeds)
    headline.update(
        {
            "best_raw_baseline": best,
            "software_minus_best_baseline": headline["accuracy_software"] - best,
            "software_minus_pooled_baseline": headline["accuracy_software"] - headline["accuracy_pooled_baseline"],
            "software_within_5_points_of_best_baseline": bool(headline["accuracy_software"] >= best - 0.05),
            "device_within_4p1_points_of_software": bool(headline["device_minus_software"] >= -0.041),
            "device_above_software_beyond_noise": bool(headline["device_minus_software"] > NOISE_SE * se + 1e-12),
            "ddk_adds_over_raw_input": bool(headline["accuracy_software"] > best),
            "n_classes": k,
            "n_train": int(len(prep.y_train)),
            "n_test": int(len(prep.y_test)),
            "channels": prep.channels,
            "series_length": prep.length,
            "utterances": prep.utterances,
            "pulses_per_utterance": prep.per_utterance,
            "n_trainable_ddk": 2 * prep.channels,
            "epochs": cfg.epochs,
            "chip_in_the_loop_epochs": cfg.finetune_epochs,
            "head_programming_error_uS": float(per_seed.head_programming_error_uS.mean()),
            "beta_mean": float(per_seed.beta_mean.mean()),
            "alpha_mean": float(per_seed.alpha_mean.mean()),
            "read_noise_S": imp.read_noise,
            "quick": bool(quick),
            "seconds": time.perf_counter() - t0,
        }
    )

    first = runs[0]
    fig, axes = plt.subplots(1, 4, figsize=(19, 4.2))
    labels = [str(c) for c in prep.classes]
    for ax, key, title in (
        (axes[0], "confusion_software", "software form"),
        (axes[1], "confusion_device", "device form (chip, crossbar head)"),
    ):
        cm = first[key].astype(float)
        acc = float(np.trace(cm) / cm.sum())
        heading = f"{prep.name}: {title}, seed {first['seed']}, acc {acc:.3f} (% of the true class)"
        plots.confusion_matrix(cm, labels, heading, ax)
    ax = axes[2]
    methods = [
        ("logreg raw", [acc_logreg]),
        ("MLP raw", per_seed.accuracy_baseline),
        ("MLP pooled", per_seed.accuracy_pooled_baseline),
        ("DDK software", per_seed.accuracy_software),
        ("DDK sw + noise", per_seed.accuracy_software_noisy),
        ("DDK device", per_seed.accuracy_device),
        ("DDK transfer", per_seed.accuracy_device_transfer),
    ]
    for j, (name, vals) in enumerate(methods):
        vals = np.asarray(vals, float)
        ax.bar(j, vals.mean(), color="tab:gray" if "DDK" not in name else "tab:blue", alpha=0.6)
        ax.plot(np.full(vals.size, j), vals, "k.", ms=5)
    ax.axhline(best - 0.05, color="tab:red", ls=":", lw=1, label="best raw baseline - 5 points")
    ax.set_xticks(range(len(methods)), [m for m, _ in methods], rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("test accuracy (dots: seeds)")
    ax.set_ylim(max(0.0, min(np.min(np.asarray(v, float)) for _, v in methods) - 0.1), 1.0)
    ax.legend(frameon=False, fontsize=7)
    ax.set_title(f"{prep.name}: {seeds} seed(s)", fontsize=9)
    ax = axes[3]
    f_sw, f_dev = first["features_software"], first["features_device"]
    wrong = np.flatnonzero(first["predicted_device"] != prep.y_test)  # show a sample the device gets wrong
    i = int(wrong[0]) if wrong.size else 0
    ax.plot(f_sw[i].reshape(-1), "-", lw=1.2, label="software")
    ax.plot(f_dev[i].reshape(-1), ".", ms=3, label="device (noise, variation)")
    ax.set_xlabel("feature (channel x utterance x pulse)")
    ax.set_ylabel("normalised conductance y = G / G_max")
    ax.set_title(
        f"test sample {i}: class {labels[prep.y_test[i]]}, device says {labels[first['predicted_device'][i]]}",
        fontsize=8,
    )
    ax.legend(frameon=False, fontsize=7)
    fig.tight_layout()

    tables = {
        "summary": pd.DataFrame(
            [
                {"method": name, "mean": float(np.mean(v)), "std": float(np.std(v, ddof=1)) if len(v) > 1 else 0.0}
                for name, v in methods
            ]
        ),
        "confusion_software": pd.DataFrame(first["confusion_software"], index=labels, columns=labels),
        "confusion_device": pd.DataFrame(first["confusion_device"], index=labels, columns=labels),
        "kinetics": pd.DataFrame(
            {"channel": np.arange(first["alpha"].size), "alpha": first["alpha"], "beta": first["beta"]}
        ),
        "training": pd.DataFrame(first["training"]),
    }
    return Reproduction(figure=fig, headline=headline, table=per_seed, tables=tables)
