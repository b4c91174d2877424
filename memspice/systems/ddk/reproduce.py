"""Reproductions of Shi et al. 2025 (DDK): ``ddk-pulses`` and ``ddk-network``.

``memspice reproduce ddk-pulses -o DIR`` and ``memspice reproduce ddk-network -o DIR``.
"""

from __future__ import annotations

import copy
import dataclasses
import time

import numpy as np
import pandas as pd

from ...analysis import plots
from ...analysis.reproduction import Reproduction

AMPLITUDES_V = (2.0, 2.5, 3.0)


def ddk_pulses(quick: bool = False, seed: int = 0) -> Reproduction:
    """Conductance vs pulse number of the calibrated device: reset then set, 100 pulses each of 2, 2.5, 3 V.

    100 ns pulses from the 5 kOhm initial state (Shi et al. 2025, Fig. 2).
    Headline: the conductance range reached over all curves, the nonlinearity
    of each direction (largest over the amplitudes, see
    :func:`~memspice.systems.ddk.device.nonlinearity`) and the first reset step
    over the mean reset step at 2 V (the calibration amplitude, which never
    saturates within the 100 pulses).  The figure adds a whale-style feature map
    (:mod:`memspice.analysis.ddk`, synthetic call of ``seed``) on the calibrated device.
    """
    import matplotlib.pyplot as plt

    from ...analysis import ddk as ddk_maps
    from .device import G_MAX, G_MIN, N_CAL, conductance_of, ddk_memristor, nonlinearity, pulse_states

    model = ddk_memristor()
    n = N_CAL
    amps = np.array([np.r_[np.full(n, -v), np.full(n, v)] for v in AMPLITUDES_V])
    g = conductance_of(pulse_states(model, amps)) * 1e6
    g0 = float(conductance_of(model.params.x0) * 1e6)
    rows, nl = [], []
    for v, curve in zip(AMPLITUDES_V, g):
        reset, set_ = curve[:n], curve[n:]
        steps = np.diff(np.r_[g0, reset])
        nl.append(
            {
                "amplitude_V": v,
                "nonlinearity_reset": nonlinearity(np.r_[g0, reset]),
                "nonlinearity_set": nonlinearity(np.r_[reset[-1], set_]),
                "first_step_over_mean_reset": float(steps[0] / steps.mean()),
                "g_min_uS": float(curve.min()),
                "g_max_uS": float(curve.max()),
            }
        )
        for k in range(n):
            rows.append({"amplitude_V": v, "pulse": k + 1, "direction": "reset", "g_uS": reset[k]})
        for k in range(n):
            rows.append({"amplitude_V": v, "pulse": n + k + 1, "direction": "set", "g_uS": set_[k]})
    table = pd.DataFrame(rows)
    per_amp = pd.DataFrame(nl)

    utter, feats = (4, 40) if quick else (8, 100)
    signal = ddk_maps.synthetic_call(seed=seed, utterances=utter)
    pulse_amps = ddk_maps.pulse_amplitudes(ddk_maps.pooled_features(signal, utter, feats))
    fmap = ddk_maps.feature_map(pulse_amps, model) * 1e6

    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    for v, curve in zip(AMPLITUDES_V, g):
        axes[0].plot(np.arange(1, 2 * n + 1), curve, lw=1.2, label=f"{v:g} V")
    axes[0].axhline(G_MIN * 1e6, color="0.6", ls=":", lw=0.8)
    axes[0].axhline(G_MAX * 1e6, color="0.6", ls=":", lw=0.8)
    axes[0].set_xlabel("pulse number (reset, then set; 100 ns)")
    axes[0].set_ylabel("conductance (uS)")
    axes[0].set_title("calibrated DDK device")
    axes[0].legend(frameon=False)
    plots.crossbar_heatmap(fmap, "feature map (synthetic call)", "conductance (uS)", ax=axes[1])
    axes[1].set_xlabel("pulse (feature)")
    axes[1].set_ylabel("utterance")
    axes[2].plot(fmap.T, lw=0.9)
    axes[2].set_xlabel("pulse number")
    axes[2].set_ylabel("conductance (uS)")
    axes[2].set_title("feature-map rows")
    fig.tight_layout()
    p = model.params
    headline = {
        "g_min_uS": float(g.min()),
        "g_max_uS": float(g.max()),
        "g_initial_uS": g0,
        "nonlinearity_set": float(per_amp.nonlinearity_set.max()),
        "nonlinearity_reset": float(per_amp.nonlinearity_reset.max()),
        "first_step_over_mean_reset": float(per_amp.first_step_over_mean_reset.iloc[0]),  # at 2 V
        "pulses_per_direction": n,
        "pulse_width_s": 100e-9,
        "mobility_m2_per_Vs": p.mobility,
        "diffusion_m2_per_s": p.diffusion,
        "window_p": p.window_p,
        "feature_map_row_spread_uS": float(np.max(np.ptp(fmap, axis=0))),
    }
    return Reproduction(
        figure=fig, headline=headline, table=table, tables={"amplitudes": per_amp, "feature_map": pd.DataFrame(fmap)}
    )


def ddk_network(quick: bool = False, seed: int = 0) -> Reproduction:
    """DDK network on JapaneseVowels (9 speakers): software, device and raw-input MLP accuracies.

    Trains alpha, beta (one DDK channel per input channel) and an MLP head on
    software-form feature maps under imprecision; tests the software form
    (ideal), the device form on ``chips`` seeded chips (device-to-device and
    cycle variation, read noise, stuck devices) after on-chip fine-tuning of
    the head, and the same MLP on the raw resampled input.  ``quick`` uses a
    stratified subset and fewer epochs (seconds).
    """
    import matplotlib.pyplot as plt

    from .data import japanese_vowels
    from .network import Chip, Imprecision, TrainConfig, finetune_head, train_baseline, train_ddk

    t0 = time.perf_counter()
    if quick:
        data = japanese_vowels(steps=12, subset=90, seed=seed)
        cfg = TrainConfig(epochs=40, finetune_epochs=20, hidden=32)
        n_chips = 1
    else:
        data = japanese_vowels(steps=20)
        cfg = TrainConfig()
        n_chips = 5
    imp = Imprecision()
    k = data.n_classes
    base = train_baseline(data.x_train, data.y_train, k, cfg, seed=seed)
    acc_base = float(np.mean(base.predict(2 * data.x_test.reshape(len(data.x_test), -1) - 1) == data.y_test))
    log: list[dict[str, float]] = []
    net = train_ddk(data.x_train, data.y_train, k, cfg, imp, seed=seed, log=log)
    # ablation: the same network with alpha, beta frozen at their initial values (kinetics not learned)
    frozen = train_ddk(data.x_train, data.y_train, k, dataclasses.replace(cfg, lr_kinetics=0.0), imp, seed=seed)
    acc_frozen = frozen.accuracy(frozen.software_features(data.x_test), data.y_test)
    f_sw = net.software_features(data.x_test)
    acc_sw = net.accuracy(f_sw, data.y_test)
    acc_sw_noisy = net.accuracy(net.software_features(data.x_test, imp, np.random.default_rng(seed + 1)), data.y_test)
    f_dev_ideal = net.device_features(data.x_test)
    acc_dev_ideal = net.accuracy(f_dev_ideal, data.y_test)
    chips, confusion, example_dev = [], None, None
    for c in range(n_chips):
        rng = np.random.default_rng(seed * 1000 + 100 + c)
        chip = Chip.draw(data.x_train.shape[1], imp, net.crange, rng)
        deployed = copy.deepcopy(net)
        f_test = deployed.device_features(data.x_test, imp, rng, chip)
        transfer = deployed.accuracy(f_test, data.y_test)
        f_train = deployed.device_features(data.x_train, imp, rng, chip)
        finetune_head(deployed, f_train, data.y_train, cfg, imp, seed=seed + c)
        pred = deployed.mlp.predict(2 * f_test.reshape(len(f_test), -1) - 1)
        chips.append(
            {
                "chip": c,
                "failed_devices": chip.n_failed,
                "accuracy_transfer": transfer,
                "accuracy_finetuned": float(np.mean(pred == data.y_test)),
            }
        )
        if c == 0:
            confusion = np.zeros((k, k), int)
            np.add.at(confusion, (data.y_test, pred), 1)
            example_dev = f_test
    if confusion is None or example_dev is None:
        raise RuntimeError(f"no chip was simulated (n_chips = {n_chips})")
    chips = pd.DataFrame(chips)
    seconds = time.perf_counter() - t0

    fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))
    i = int(np.flatnonzero(data.y_test == data.y_test[0])[0])
    for ax, arr, title in (
        (axes[0], data.x_test[i], "input (scaled)"),
        (axes[1], f_sw[i], "software DDK feature map"),
        (axes[2], example_dev[i], "device DDK feature map (chip 0)"),
    ):
        im = ax.imshow(arr, aspect="auto", interpolation="nearest", cmap="viridis")
        fig.colorbar(im, ax=ax)
        ax.set_xlabel("frame / pulse")
        ax.set_ylabel("channel")
        ax.set_title(f"{title}, speaker {data.y_test[i] + 1}", fontsize=9)
    im = axes[3].imshow(confusion, cmap="Blues")
    fig.colorbar(im, ax=axes[3])
    axes[3].set_xlabel("predicted speaker")
    axes[3].set_ylabel("true speaker")
    axes[3].set_xticks(range(k), [str(j + 1) for j in range(k)])
    axes[3].set_yticks(range(k), [str(j + 1) for j in range(k)])
    axes[3].set_title(f"device form, chip 0 (acc {chips.accuracy_finetuned[0]:.3f})", fontsize=9)
    fig.tight_layout()

    headline = {
        "accuracy_software": acc_sw,
        "accuracy_device": float(chips.accuracy_finetuned.mean()),
        "accuracy_device_min": float(chips.accuracy_finetuned.min()),
        "accuracy_device_transfer": float(chips.accuracy_transfer.mean()),
        "accuracy_device_ideal": acc_dev_ideal,
        "accuracy_software_noisy": acc_sw_noisy,
        "accuracy_baseline": acc_base,
        "accuracy_software_frozen_kinetics": acc_frozen,
        "n_trainable_ddk": net.n_trainable_ddk,
        "n_ddk_channels": int(net.alpha.size),
        "device_vs_software_max_dy": float(np.max(np.abs(f_dev_ideal - f_sw))),
        "chips": n_chips,
        "n_train": int(len(data.y_train)),
        "n_test": int(len(data.y_test)),
        "steps": int(data.x_train.shape[2]),
        "seconds": seconds,
    }
    params = pd.DataFrame({"channel": np.arange(net.alpha.size), "alpha": net.alpha, "beta": net.beta})
    return Reproduction(
        figure=fig,
        headline=headline,
        table=chips,
        tables={"kinetics": params, "training": pd.DataFrame(log), "confusion": pd.DataFrame(confusion)},
    )
