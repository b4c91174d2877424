"""``memspice reproduce snn``: unsupervised STDP learning of handwritten digits (or your data) on memristor synapses.

Source: review "Spiking networks with memristors" (Chip 3, 100093, 2024): threshold-switch LIF
neurons, memristor synapse crossbars, STDP through overlapping pulses, lateral inhibition.  Data:
scikit-learn's bundled 8x8 digits (1797 images, no download), intensities / 16, a stratified
held-out quarter for testing; or a user's file (``data``: :mod:`.data`), scaled to [0, 1] on the training set
and the network sized by :mod:`.rule` (no per-data-set tuning).  Neurons are labelled by the class they respond
to most on the training images; an image's class is the label of its most responsive neuron.  Baselines: the
same network with its synapses never trained, logistic regression on the same scaled features, and the
majority class.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ...analysis.plots import confusion_matrix
from ...analysis.reproduction import Reproduction
from . import rule
from .data import Dataset, MinMax, Scaling, bundled_digits, complement_code, load_data
from .network import NetworkConfig, SpikingNetwork
from .stdp import SynapseVariation


def digits(seed: int = 0, test_size: float = 0.25):
    """(x_train, x_test, y_train, y_test): digits as intensities (pixels / 16), stratified split seeded by ``seed``."""
    from sklearn.datasets import load_digits

    from .data import split

    d = load_digits()
    ds = split("digits", d.data, d.target, seed, test_size)
    scale = MinMax.fit(ds.x_train, Scaling.GLOBAL)
    return scale(ds.x_train), scale(ds.x_test), ds.y_train, ds.y_test


SWEEPS = {
    "d2d": (0.1, 0.3, 0.5),
    "c2c": (0.25, 0.5, 1.0),
    "read_noise": (0.05, 0.1, 0.2, 0.5),
    "r_wire": (0.0, 10.0, 30.0, 100.0, 300.0),
}
QUICK_SWEEPS = {"d2d": (0.3,), "c2c": (0.5,), "read_noise": (0.2,), "r_wire": (100.0,)}


def _config(quick: bool, size: dict | None = None, **kw) -> NetworkConfig:
    """The run's configuration; ``size``: the fields :func:`.rule.sized` derived from the data."""
    variation = SynapseVariation(kw.pop("d2d", 0.0), kw.pop("c2c", 0.0), kw.pop("read_noise", 0.0))
    if quick:
        kw.update(eval_steps=60)
    return NetworkConfig(variation=variation, **kw, **(size or {}))


def _baselines(x_train, y_train, x_test, y_test, seed: int) -> dict:
    """Accuracy of logistic regression on the same scaled features and of the training set's majority class."""
    from sklearn.linear_model import LogisticRegression

    logistic = LogisticRegression(max_iter=5000, random_state=seed).fit(x_train, y_train)
    majority = np.bincount(y_train).argmax()
    return {
        "accuracy_raw_logistic": float(logistic.score(x_test, y_test)),
        "accuracy_majority": float(np.mean(y_test == majority)),
    }


def _run(cfg: NetworkConfig, seed: int, data, lif, train: bool = True) -> dict:
    x_train, y_train, x_test, y_test = data
    net = SpikingNetwork(cfg, seed=seed, lif=lif)
    t0 = time.perf_counter()
    if train:
        net.train(x_train)
    t_train = time.perf_counter() - t0
    net.label(x_train, y_train)
    pred = net.predict(x_test)
    g = net.conductances * cfg.synapse.v_read
    atten = net.transfer / g
    return {
        "net": net,
        "pred": pred,
        "accuracy": float(np.mean(pred == y_test)),
        "train_seconds": t_train,
        "staleness_max": float(np.max(net.staleness)) if net.staleness else 0.0,
        "staleness_mean": float(np.mean(net.staleness)) if net.staleness else 0.0,
        "attenuation_mean": float(np.mean(atten)),
        "attenuation_min": float(np.min(atten)),
    }


def confusion(y_true, y_pred, classes: int = 10) -> np.ndarray:
    """Row-normalised confusion matrix: [true, predicted] fraction of each true class."""
    m = np.zeros((classes, classes))
    for t, p in zip(y_true, y_pred):
        m[int(t), int(p)] += 1
    rows = m.sum(axis=1, keepdims=True)
    return np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)


def _tile_shape(m: int) -> tuple[int, int]:
    """(height, width) to draw m inputs as an image: square when m is, else rows of ceil(sqrt(m)) inputs."""
    width = int(np.ceil(np.sqrt(m)))
    return int(np.ceil(m / width)), width


def _figure(net: SpikingNetwork, ds: Dataset, x_test, curve: pd.DataFrame, conf, sweeps: dict, scores: dict):
    import matplotlib.pyplot as plt

    cfg = net.config
    order = np.argsort(net.labels, kind="stable")
    cols = int(np.ceil(np.sqrt(cfg.n_neurons)))
    rows = int(np.ceil(cfg.n_neurons / cols))
    h, w = _tile_shape(cfg.n_inputs)
    tile = np.full((rows * (h + 1), cols * (w + 1)), np.nan)
    g = net.conductances * 1e6
    for k, j in enumerate(order):
        r, c = divmod(k, cols)
        cell = np.full(h * w, np.nan)
        cell[: cfg.n_inputs] = g[:, j]
        tile[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = cell.reshape(h, w)
    chance, frozen = 1 / ds.n_classes, scores["accuracy_frozen"]
    fig, grid = plt.subplots(2, 3, figsize=(15, 9), gridspec_kw={"width_ratios": [1.2, 1.4, 1]})
    axes = grid[0]
    im = axes[0].imshow(tile, cmap="viridis")
    layout = "" if h * w == cfg.n_inputs else f"\n(inputs in rows of {w})"
    axes[0].set_title("learned conductances (by label)" + layout)
    axes[0].axis("off")
    fig.colorbar(im, ax=axes[0], fraction=0.046, label="G (uS)")
    res = net.present(net.encode(x_test[:1], cfg.eval_steps))
    for _, j, t in res.spikes:
        axes[1].vlines(t * 1e6, j - 0.4, j + 0.4, lw=1.2)
    axes[1].set_xlim(0, cfg.eval_steps * cfg.dt * 1e6)
    axes[1].set_ylim(-1, cfg.n_neurons)
    axes[1].set_xlabel("time (us)")
    axes[1].set_ylabel("neuron")
    truth, guess = ds.classes[ds.y_test[0]], ds.classes[net.labels[np.argmax(res.score[0])]]
    axes[1].set_title(f"raster, first test {ds.name} sample (class {truth}; predicted {guess})")
    axes[2].plot(curve.dt_us, curve.dx, "o-")
    axes[2].axhline(0, color="k", lw=0.5)
    axes[2].set_xlabel("t_post - t_pre (us)")
    axes[2].set_ylabel("state change per post pulse")
    axes[2].set_title("device STDP window (x = 0.5)")
    ax = grid[1, 0]
    title = (
        f"{ds.name}: SNN {scores['accuracy']:.3f}, frozen synapses {frozen:.3f}\nlogistic regression "
        f"{scores['accuracy_raw_logistic']:.3f}, majority class {scores['accuracy_majority']:.3f}\n"
        "confusion (% of the true class, fixed 0..1 scale)"
    )
    confusion_matrix(conf, labels=ds.classes, title=title, ax=ax)
    ax = grid[1, 1]
    for name, marker in (("d2d", "o"), ("c2c", "s"), ("read_noise", "^")):
        rows = sweeps.get(name, [])
        if rows:
            lv = [0.0] + [r["level"] for r in rows]
            ax.plot(np.array(lv) * 100, [sweeps["ideal"]["accuracy"]] + [r["accuracy"] for r in rows], marker + "-",
                    label=f"{name} (trained)")  # fmt: skip
            ax.plot(np.array(lv) * 100, [frozen] + [r["accuracy_frozen"] for r in rows], marker + ":", alpha=0.5,
                    label=f"{name} (frozen random synapses)")  # fmt: skip
    ax.axhline(chance, color="gray", lw=0.6)
    ax.set_xlabel("relative sigma (%)")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1)
    ax.set_title("device variation and read noise")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=6)
    else:
        ax.text(0.5, 0.5, "not run (sweeps false)\ngray: chance", ha="center", va="center", transform=ax.transAxes)
    ax = grid[1, 2]
    rows = sweeps.get("r_wire", [])
    if rows:
        rw = np.array([r["level"] for r in rows])
        x = np.where(rw > 0, rw, 0.1)
        ax.semilogx(x, [r["accuracy"] for r in rows], "o-", label="trained")
        ax.semilogx(x, [r["accuracy_frozen"] for r in rows], "o:", alpha=0.5, label="frozen random synapses")
        ax2 = ax.twinx()
        ax2.semilogx(x, [r["attenuation_mean"] for r in rows], "k--", lw=0.8)
        ax2.set_ylabel("mean IR attenuation of a cell's read (dashed)")
        ax2.set_ylim(0, 1.05)
    ax.axhline(chance, color="gray", lw=0.6)
    ax.set_ylim(0, 1)
    ax.set_xlabel("wire resistance per segment (Ohm; 0 plotted at 0.1)")
    ax.set_ylabel("test accuracy")
    ax.set_title("IR drop (linear cells, exact wires)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    else:
        ax.text(0.5, 0.5, "not run (sweeps false)", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    return fig


def snn(
    quick: bool = False,
    seed: int = 0,
    d2d: float = 0.0,
    c2c: float = 0.0,
    read_noise: float = 0.0,
    r_wire: float = 1.0,
    refresh: int = 1,
    sweeps: bool = True,
    data: Path | None = None,
    scale: str | None = None,
    complement: bool = False,
) -> Reproduction:
    """Train, label and test the network; json: accuracy, accuracy_frozen (same network, synapses never
    trained), accuracy_raw_logistic (logistic regression on the same scaled features), accuracy_majority (the
    training set's most frequent class), data, n_inputs, n_classes, n_train, n_test, the derived sizing (mirror
    gain, drive), confusion, IR-drop attenuation and staleness, the read-law check, and the sweeps (``sweeps``:
    device-to-device, cycle-to-cycle, read noise and wire resistance, each with its frozen-synapse baseline).
    Options: ``data`` (your .npz with x, y or x_train, y_train, x_test, y_test, or a .csv whose label is the
    column named label/class/y, else the last; default the bundled 8x8 digits), ``scale`` (feature: min-max
    per feature, the default for a file; global: one min-max for all features, the default for the digits'
    pixels), ``complement`` (true: each scaled feature drives two inputs, q and 1 - q:
    :func:`.data.complement_code`), ``d2d``, ``c2c``, ``read_noise`` (relative sigmas,
    :class:`~.stdp.SynapseVariation`), ``r_wire`` (Ohm per segment), ``refresh`` (images between exact IR
    solves), ``sweeps`` (false: the main run only)."""
    from .read_check import read_law_error

    t0 = time.perf_counter()
    ds = bundled_digits(seed) if data is None else load_data(data, seed)
    scaling = Scaling.parse(scale) if scale is not None else (Scaling.GLOBAL if data is None else Scaling.FEATURE)
    if quick:
        ds = ds.head(200, 100)
    n_train, n_test = len(ds.x_train), len(ds.x_test)
    to_unit = MinMax.fit(ds.x_train, scaling)  # the training set only; test samples are clipped to its range
    x_train, x_test, y_train, y_test = to_unit(ds.x_train), to_unit(ds.x_test), ds.y_train, ds.y_test
    baselines = _baselines(x_train, y_train, x_test, y_test, seed)  # on the scaled features, before any code
    if complement:
        x_train, x_test = complement_code(x_train), complement_code(x_test)
    data_arrays = (x_train, y_train, x_test, y_test)
    base = _config(quick, d2d=d2d, c2c=c2c, read_noise=read_noise, r_wire=r_wire, refresh=refresh)
    lif = SpikingNetwork(dataclasses.replace(base, n_neurons=1), seed=seed).lif  # calibrate the neuron once
    sized = rule.sized(base, lif, x_train, ds.n_classes, quick)
    size = {"n_inputs": sized.n_inputs, "n_neurons": sized.n_neurons, "neuron": sized.neuron}
    cfg = _config(quick, size, d2d=d2d, c2c=c2c, read_noise=read_noise, r_wire=r_wire, refresh=refresh)
    main = _run(cfg, seed, data_arrays, lif)
    net, pred, accuracy = main["net"], main["pred"], main["accuracy"]
    frozen = _run(cfg, seed, data_arrays, lif, train=False)
    seconds = time.perf_counter() - t0
    sweep_rows: dict = {"ideal": {"accuracy": accuracy}}
    if sweeps:
        for name, levels in (QUICK_SWEEPS if quick else SWEEPS).items():
            rows = []
            for level in levels:
                kw = {"d2d": d2d, "c2c": c2c, "read_noise": read_noise, "r_wire": r_wire, "refresh": refresh}
                kw[name] = level
                c = _config(quick, size, **kw)
                tr, fr = _run(c, seed, data_arrays, lif), _run(c, seed, data_arrays, lif, train=False)
                rows.append(
                    {
                        "level": level,
                        "accuracy": tr["accuracy"],
                        "accuracy_frozen": fr["accuracy"],
                        "attenuation_mean": tr["attenuation_mean"],
                        "staleness_max": tr["staleness_max"],
                    }
                )
            if name == "r_wire" and r_wire not in levels:  # the main run is a point of the wire sweep
                point = {"level": r_wire, "accuracy": accuracy, "accuracy_frozen": frozen["accuracy"]}
                point.update({k: main[k] for k in ("attenuation_mean", "staleness_max")})
                rows.append(point)
                rows.sort(key=lambda r: r["level"])
            sweep_rows[name] = rows
        stale = _run(dataclasses.replace(cfg, refresh=200), seed, data_arrays, lif)
    else:
        stale = None
    sample = net.encode(x_test[:4], 10)
    checks = [read_law_error(net, sample, max_patterns=2 if quick else 8)]
    if not quick:
        low = SpikingNetwork(dataclasses.replace(cfg, r_wire=0.1), seed=seed, lif=lif)
        low.state = net.state.copy()
        low.refresh()
        checks.append(read_law_error(low, sample, max_patterns=4))
    dts = np.array([-4, -1, 0, 0.5, 1, 2, 3, 4, 6, 8, 12, 16]) * 1e-6
    curve = pd.DataFrame({"dt_us": dts * 1e6, "dx": cfg.pulses.curve(cfg.synapse, dts)})
    k = ds.n_classes
    per_class = pd.DataFrame(
        {
            "class": [str(c) for c in ds.classes],
            "neurons": [int(np.sum(net.labels == c)) for c in range(k)],
            "test_images": [int(np.sum(y_test == c)) for c in range(k)],
            "accuracy": [float(np.mean(pred[y_test == c] == c)) if np.any(y_test == c) else np.nan for c in range(k)],
        }
    )
    conf = confusion(y_test, pred, classes=k)
    g = net.conductances
    headline = {
        "accuracy": accuracy,
        "accuracy_frozen": frozen["accuracy"],
        **baselines,
        "data": ds.name,
        "n_inputs": ds.n_inputs,
        "n_classes": k,
        "n_train": int(n_train),
        "n_test": int(n_test),
        "classes": [str(c) for c in ds.classes],
        "scaling": scaling.value,
        "complement": complement,
        "mirror_gain": cfg.neuron.mirror_gain,
        "drive": rule.drive(cfg, lif, x_train),
        "neurons": cfg.n_neurons,
        "train_images": int(n_train),
        "test_images": int(n_test),
        "seconds": seconds,
        "train_seconds": main["train_seconds"],
        "chance": 1 / k,
        "quick": quick,
        "seed": seed,
        "inputs": cfg.n_inputs,
        "cell": "1R",
        "r_wire_ohm": cfg.r_wire,
        "variation": {"d2d": d2d, "c2c": c2c, "read_noise": read_noise},
        "coding": cfg.coding.value,
        "solver_refreshes": net.solves,
        "ir": {
            "refresh_images": refresh,
            "attenuation_mean": main["attenuation_mean"],
            "attenuation_min": main["attenuation_min"],
            "staleness_max": main["staleness_max"],
            "staleness_mean": main["staleness_mean"],
            "refresh_200": None
            if stale is None
            else {k: stale[k] for k in ("accuracy", "staleness_max", "staleness_mean")},
        },
        "read_law_check": checks,
        "confusion": conf,
        "sweeps": {k: v for k, v in sweep_rows.items() if k != "ideal"},
        "conductance_range_S": [float(g.min()), float(g.max())],
        "neuron_threshold_V": net.lif.v_th,
        "neuron_dead_time_s": net.lif.t_dead,
        "stdp_dx_pre_before_post": float(curve.dx[curve.dt_us == 0.5].iloc[0]),
        "stdp_dx_post_before_pre": float(curve.dx[curve.dt_us == -1].iloc[0]),
    }
    headline["seconds_total"] = time.perf_counter() - t0
    tables = {"stdp": curve}
    for name, rows in headline["sweeps"].items():
        tables[f"sweep_{name}"] = pd.DataFrame(rows)
    fig = _figure(net, ds, x_test, curve, conf, sweep_rows, headline)
    return Reproduction(fig, headline, per_class, tables)
