"""One seed of the DDK network on one data set: the trained network in both forms and the baselines."""

from __future__ import annotations

import numpy as np

from .data import Prepared, Standardiser
from .device import ddk_memristor
from .head import ArraySpec, CrossbarMLP
from .network import (
    Z_CLIP,
    Chip,
    Imprecision,
    TrainConfig,
    finetune_head,
    logistic_regression,
    train_ddk,
    train_mlp,
)


def confusion(y_true, y_pred, k: int) -> np.ndarray:
    out = np.zeros((k, k), int)
    np.add.at(out, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return out


def run_seed(
    prep: Prepared,
    seed: int,
    cfg: TrainConfig = TrainConfig(),
    imp: Imprecision = Imprecision(),
    spec: ArraySpec = ArraySpec(),
    logreg: bool = True,
) -> dict:
    """Accuracies of one seed (software, device, device with an ideal DDK layer, baselines) and its confusions.

    The seed sets the network's initialisation and mini-batches, the chip drawn for the device form and the
    crossbar programming; the baselines (the same MLP, same epochs) use it too.  Logistic regression is
    deterministic (computed when ``logreg``).
    """
    k = prep.n_classes
    if not 0 <= cfg.finetune_epochs <= cfg.epochs:
        raise ValueError(f"finetune_epochs must lie in [0, epochs], got {cfg.finetune_epochs!r}")
    log: list[dict] = []
    shared = cfg.epochs - cfg.finetune_epochs
    pre = train_ddk(prep.pulses_train, prep.y_train, k, cfg, imp, seed=seed, log=log, epochs=shared)
    # software form: the remaining epochs of joint training
    net = train_ddk(
        prep.pulses_train, prep.y_train, k, cfg, imp, seed=seed + 1, log=log, epochs=cfg.finetune_epochs, start=pre
    )
    f_sw_test = net.software_features(prep.pulses_test)
    pred_sw = net.mlp.predict(net.inputs(f_sw_test))

    # device form: one chip; the remaining epochs train the head with the chip in the loop
    rng = np.random.default_rng(10_000 + seed)
    model = ddk_memristor()
    chip = Chip.draw(prep.channels * prep.utterances, imp, pre.crange, rng)
    dev = finetune_head(pre, prep.pulses_train, prep.y_train, chip, imp, cfg.finetune_epochs, cfg, seed + 2, model)
    f_dev_test = dev.device_features(prep.pulses_test, chip, imp, rng, model)
    f_dev_train = dev.device_features(prep.pulses_train, chip, imp, rng, model)
    head = CrossbarMLP(dev.mlp, model, spec, rng, dev.inputs(f_dev_train) / Z_CLIP)
    pred_dev = head.predict(dev.inputs(f_dev_test) / Z_CLIP)
    # apart: the chip's DDK layer with the float head; the software network deployed with only the read-out
    # calibration (no chip-in-the-loop epochs); the software form under the device's noise
    pred_dev_layer = dev.mlp.predict(dev.inputs(f_dev_test))
    transfer = finetune_head(net, prep.pulses_train, prep.y_train, chip, imp, 0, cfg, seed + 3, model)
    pred_transfer = transfer.mlp.predict(
        transfer.inputs(transfer.device_features(prep.pulses_test, chip, imp, rng, model))
    )
    pred_sw_noisy = net.mlp.predict(net.inputs(net.software_features(prep.pulses_test, imp, rng)))

    base = train_mlp(prep.raw_train, prep.y_train, k, cfg, seed=seed)
    pred_base = base.predict(prep.raw_test)
    std = Standardiser.fit(prep.pooled_train)
    pooled = train_mlp(std(prep.pooled_train), prep.y_train, k, cfg, seed=seed)
    pred_pooled = pooled.predict(std(prep.pooled_test))
    out = {
        "seed": seed,
        "accuracy_software": float(np.mean(pred_sw == prep.y_test)),
        "accuracy_device": float(np.mean(pred_dev == prep.y_test)),
        "accuracy_device_float_head": float(np.mean(pred_dev_layer == prep.y_test)),
        "accuracy_device_transfer": float(np.mean(pred_transfer == prep.y_test)),
        "accuracy_software_noisy": float(np.mean(pred_sw_noisy == prep.y_test)),
        "accuracy_baseline": float(np.mean(pred_base == prep.y_test)),
        "accuracy_pooled_baseline": float(np.mean(pred_pooled == prep.y_test)),
        "failed_ddk_devices": chip.n_failed,
        "head_programming_error_uS": head.programming_error() * 1e6,
        "alpha_mean": float(net.alpha.mean()),
        "beta_mean": float(net.beta.mean()),
        "final_loss": log[-1]["loss"] if log else float("nan"),
        "confusion_software": confusion(prep.y_test, pred_sw, k),
        "confusion_device": confusion(prep.y_test, pred_dev, k),
        "predicted_device": pred_dev,
        "features_software": f_sw_test,
        "features_device": f_dev_test,
        "training": log,
        "alpha": net.alpha.copy(),
        "beta": net.beta.copy(),
    }
    if logreg:
        pred_lr, c = logistic_regression(prep.raw_train, prep.y_train, prep.raw_test)
        out["accuracy_logreg"] = float(np.mean(pred_lr == prep.y_test))
        out["logreg_C"] = c
    return out
