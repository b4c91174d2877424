"""``memspice reproduce snn``: unsupervised STDP learning of handwritten digits on memristor synapses.

Source: review "Spiking networks with memristors" (Chip 3, 100093, 2024): threshold-switch LIF
neurons, memristor synapse crossbars, STDP through overlapping pulses, lateral inhibition.  Data:
scikit-learn's bundled 8x8 digits (1797 images, no download), intensities / 16, a stratified
held-out quarter for testing.  Neurons are labelled by the class they respond to most on the
training images; an image's class is the label of its most responsive neuron.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ...analysis.reproduction import Reproduction
from .network import NetworkConfig, SpikingNetwork


def digits(seed: int = 0, test_size: float = 0.25):
    """(x_train, x_test, y_train, y_test): digits scaled to [0, 1], stratified split seeded by ``seed``."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    return train_test_split(d.data / 16.0, d.target, test_size=test_size, random_state=seed, stratify=d.target)


def _figure(net: SpikingNetwork, x_test, y_test, curve: pd.DataFrame):
    import matplotlib.pyplot as plt

    cfg = net.config
    order = np.argsort(net.labels, kind="stable")
    cols = int(np.ceil(np.sqrt(cfg.n_neurons)))
    rows = int(np.ceil(cfg.n_neurons / cols))
    side = int(round(np.sqrt(cfg.n_inputs)))
    tile = np.full((rows * (side + 1), cols * (side + 1)), np.nan)
    g = net.conductances * 1e6
    for k, j in enumerate(order):
        r, c = divmod(k, cols)
        tile[r * (side + 1) : r * (side + 1) + side, c * (side + 1) : c * (side + 1) + side] = g[:, j].reshape(
            side, side
        )
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.4), gridspec_kw={"width_ratios": [1.2, 1.4, 1]})
    im = axes[0].imshow(tile, cmap="viridis")
    axes[0].set_title("learned conductances (by label)")
    axes[0].axis("off")
    fig.colorbar(im, ax=axes[0], fraction=0.046, label="G (uS)")
    res = net.present(net.encode(x_test[:1], cfg.eval_steps))
    for _, j, t in res.spikes:
        axes[1].vlines(t * 1e6, j - 0.4, j + 0.4, lw=1.2)
    axes[1].set_xlim(0, cfg.eval_steps * cfg.dt * 1e6)
    axes[1].set_ylim(-1, cfg.n_neurons)
    axes[1].set_xlabel("time (us)")
    axes[1].set_ylabel("neuron")
    axes[1].set_title(f"raster, first test image (a {y_test[0]}; predicted {net.labels[np.argmax(res.score[0])]})")
    axes[2].plot(curve.dt_us, curve.dx, "o-")
    axes[2].axhline(0, color="k", lw=0.5)
    axes[2].set_xlabel("t_post - t_pre (us)")
    axes[2].set_ylabel("state change per post pulse")
    axes[2].set_title("device STDP window (x = 0.5)")
    fig.tight_layout()
    return fig


def snn(quick: bool = False, seed: int = 0) -> Reproduction:
    """Train, label and test the network; json: accuracy, neurons, train_images, seconds and more."""
    t0 = time.perf_counter()
    x_train, x_test, y_train, y_test = digits(seed)
    if quick:
        cfg, n_train, n_test = NetworkConfig(n_neurons=20, eval_steps=60), 200, 100
    else:
        cfg, n_train, n_test = NetworkConfig(), len(x_train), len(x_test)
    x_train, y_train, x_test, y_test = x_train[:n_train], y_train[:n_train], x_test[:n_test], y_test[:n_test]
    net = SpikingNetwork(cfg, seed=seed)
    t_train = time.perf_counter()
    net.train(x_train)
    t_train = time.perf_counter() - t_train
    net.label(x_train, y_train)
    pred = net.predict(x_test)
    accuracy = float(np.mean(pred == y_test))
    seconds = time.perf_counter() - t0
    dts = np.array([-4, -1, 0, 0.5, 1, 2, 3, 4, 6, 8, 12, 16]) * 1e-6
    curve = pd.DataFrame({"dt_us": dts * 1e6, "dx": cfg.pulses.curve(cfg.synapse, dts)})
    per_class = pd.DataFrame(
        {
            "class": np.arange(10),
            "neurons": [int(np.sum(net.labels == c)) for c in range(10)],
            "test_images": [int(np.sum(y_test == c)) for c in range(10)],
            "accuracy": [float(np.mean(pred[y_test == c] == c)) if np.any(y_test == c) else np.nan for c in range(10)],
        }
    )
    g = net.conductances
    headline = {
        "accuracy": accuracy,
        "neurons": cfg.n_neurons,
        "train_images": int(n_train),
        "test_images": int(n_test),
        "seconds": seconds,
        "train_seconds": t_train,
        "chance": 0.1,
        "quick": quick,
        "seed": seed,
        "inputs": cfg.n_inputs,
        "cell": "1R",
        "r_wire_ohm": cfg.r_wire,
        "coding": cfg.coding.value,
        "solver_refreshes": net.solves,
        "conductance_range_S": [float(g.min()), float(g.max())],
        "neuron_threshold_V": net.lif.v_th,
        "neuron_dead_time_s": net.lif.t_dead,
        "stdp_dx_pre_before_post": float(curve.dx[curve.dt_us == 0.5].iloc[0]),
        "stdp_dx_post_before_pre": float(curve.dx[curve.dt_us == -1].iloc[0]),
    }
    return Reproduction(_figure(net, x_test, y_test, curve), headline, per_class, {"stdp": curve})
