"""DDK network: DDK feature layer (2 trainable parameters per channel) + MLP head, trained aware of imprecision.

Shi et al. 2025: raw data -> DDK feature maps -> MLP; alpha and beta are
learned by back-propagation under hardware constraints, and training sees the
device's imprecision (limited conductance range, output noise, alpha/beta
noise, device failure); deployment on chip is a hybrid of off-chip
pre-training and on-chip fine-tuning of the classifier.

Here every input channel drives one DDK channel (one RESET device per channel
and utterance); the feature maps feed a one-hidden-layer MLP.  Gradients for
alpha and beta come from the analytic adjoint
(:func:`~memspice.systems.ddk.kinetics.software_backward`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .device import G_MAX, ddk_memristor
from .kinetics import ConductanceRange, DeviceMapping, Polarity, device_forward, software_backward, software_forward
from .mlp import MLP, Adam, softmax_cross_entropy


@dataclass(frozen=True)
class Imprecision:
    """Device imprecision seen in training and applied to the device form.

    Parameters
    ----------
    read_noise : float
        Std of the Gaussian output (read) noise on each conductance (S).  The
        paper studies 0-2.5 uS; 1 uS is assumed as the operating point.
    device_variation : float
        Relative std of alpha and beta from device to device, fixed for a chip
        (the paper studies Gaussian alpha/beta noise up to 0.5; 0.1 assumed).
    cycle_variation : float
        Relative std of alpha and beta from one programming sequence (utterance)
        to the next on the same device (assumed 0.03).
    failure_rate : float
        Probability that a DDK device is stuck at G_min or G_max (assumed 2%).
    weight_noise : float
        Relative std of the MLP weights (crossbar conductance noise; assumed 2%).
    """

    read_noise: float = 1e-6
    device_variation: float = 0.1
    cycle_variation: float = 0.03
    failure_rate: float = 0.02
    weight_noise: float = 0.02

    def __post_init__(self):
        for name in ("read_noise", "device_variation", "cycle_variation", "weight_noise"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"Imprecision.{name} must be >= 0, got {getattr(self, name)!r}")
        if not 0 <= self.failure_rate < 1:
            raise ValueError(f"Imprecision.failure_rate must lie in [0, 1), got {self.failure_rate!r}")

    @classmethod
    def ideal(cls) -> "Imprecision":
        return cls(0.0, 0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Chip:
    """One drawn chip: per DDK channel (one device each) its alpha/beta factors and stuck state.

    ``stuck`` holds the normalised conductance a failed device is pinned at, NaN for working devices.
    """

    alpha_factor: np.ndarray
    beta_factor: np.ndarray
    stuck: np.ndarray

    @classmethod
    def draw(cls, channels: int, imp: "Imprecision", crange: ConductanceRange, rng) -> "Chip":
        af = np.maximum(1 + imp.device_variation * rng.normal(size=channels), 0.0)
        bf = np.maximum(1 + imp.device_variation * rng.normal(size=channels), 0.0)
        dead = rng.random(channels) < imp.failure_rate
        level = np.where(rng.random(channels) < 0.5, crange.y_min, crange.y_max)
        return cls(af, bf, np.where(dead, level, np.nan))

    @property
    def n_failed(self) -> int:
        return int(np.sum(np.isfinite(self.stuck)))


@dataclass
class TrainConfig:
    """Training settings (assumed; chosen on the training split only)."""

    hidden: int = 64
    epochs: int = 150
    batch: int = 32
    lr: float = 3e-3
    lr_kinetics: float = 1e-3
    weight_decay: float = 1e-4
    finetune_epochs: int = 60
    alpha_init: float = 1e-3
    beta_init: float = 0.03


def _sample_factors(imp: Imprecision, shape, rng):
    """Per (utterance, channel) alpha/beta factors of a random device and cycle (training)."""
    sd = np.sqrt((1 + imp.device_variation**2) * (1 + imp.cycle_variation**2) - 1)
    if sd == 0:
        return np.ones(shape), np.ones(shape)
    return (np.maximum(1 + sd * rng.normal(size=shape), 0.0), np.maximum(1 + sd * rng.normal(size=shape), 0.0))


def _fail(y, rate, crange, rng):
    """Stuck devices (training): whole trajectories pinned at y_min or y_max.  Returns (y, alive mask)."""
    if rate == 0:
        return y, np.ones(y.shape[:2])
    dead = rng.random(y.shape[:2]) < rate
    stuck = np.where(rng.random(y.shape[:2]) < 0.5, crange.y_min, crange.y_max)
    return np.where(dead[:, :, None], stuck[:, :, None], y), (~dead).astype(float)


def _to_inputs(y):
    """MLP inputs from normalised conductances (fixed affine map: [0, 1] -> [-1, 1])."""
    return (2 * y - 1).reshape(y.shape[0], -1)


@dataclass
class DDKNetwork:
    """DDK layer (alpha, beta per channel) and MLP head."""

    alpha: np.ndarray
    beta: np.ndarray
    mlp: MLP
    polarity: Polarity = Polarity.RESET
    crange: ConductanceRange = field(default_factory=ConductanceRange)

    @property
    def n_trainable_ddk(self) -> int:
        return int(self.alpha.size + self.beta.size)

    def software_features(self, x, imp: Imprecision = Imprecision.ideal(), rng=None):
        """Software-form feature maps (batch, channels, steps); ``imp`` drawn afresh per utterance."""
        rng = rng or np.random.default_rng(0)
        fa, fb = _sample_factors(imp, x.shape[:2], rng)
        y, _ = software_forward(x, self.alpha * fa, self.beta * fb, self.polarity, self.crange)
        y = y + imp.read_noise / G_MAX * rng.normal(size=y.shape)
        return _fail(y, imp.failure_rate, self.crange, rng)[0]

    def device_features(
        self,
        x,
        imp: Imprecision = Imprecision.ideal(),
        rng=None,
        chip: Chip | None = None,
        model=None,
        mapping: DeviceMapping = DeviceMapping(),
    ):
        """Device-form feature maps: the calibrated memristor under the pulse programme of (alpha, beta).

        One device per channel (``chip``, drawn from ``imp`` if not given)
        processes every utterance: its device-to-device factors and stuck state
        are fixed, the cycle-to-cycle factors and read noise are drawn per
        utterance and read.  Variation of drift and diffusion is applied as the
        equivalent change of pulse width and gap.
        """
        rng = rng or np.random.default_rng(0)
        b, c, _ = x.shape
        chip = chip or Chip.draw(c, imp, self.crange, rng)
        cyc = lambda: np.maximum(1 + imp.cycle_variation * rng.normal(size=(b, c)), 0.0)  # noqa: E731
        a_eff = self.alpha * chip.alpha_factor * cyc()
        b_eff = self.beta * chip.beta_factor * cyc()
        y = device_forward(x, a_eff, b_eff, self.polarity, model or ddk_memristor(), mapping)
        y = y + imp.read_noise / G_MAX * rng.normal(size=y.shape)
        dead = np.isfinite(chip.stuck)
        y[:, dead, :] = chip.stuck[dead][None, :, None]
        return y

    def accuracy(self, features, labels) -> float:
        return float(np.mean(self.mlp.predict(_to_inputs(features)) == labels))


def train_ddk(
    x,
    labels,
    n_classes: int,
    cfg: TrainConfig = TrainConfig(),
    imp: Imprecision = Imprecision(),
    seed: int = 0,
    polarity: Polarity = Polarity.RESET,
    log: list | None = None,
) -> DDKNetwork:
    """Train alpha, beta (per channel) and the MLP jointly on software-form features under ``imp``.

    Each mini-batch draws fresh alpha/beta noise, read noise, stuck devices and
    MLP weight noise; gradients flow through the noise to the nominal values.
    alpha and beta are projected onto [0, 1] (the paper's bounds) after each step.
    """
    rng = np.random.default_rng(seed)
    n, c, t = x.shape
    crange = ConductanceRange()
    net = DDKNetwork(
        np.full(c, cfg.alpha_init), np.full(c, cfg.beta_init), MLP(c * t, cfg.hidden, n_classes, rng), polarity, crange
    )
    params = dict(net.mlp.params, alpha=net.alpha, beta=net.beta)
    opt = Adam(params, cfg.lr, weight_decay=cfg.weight_decay)
    scale = {"alpha": cfg.lr_kinetics / cfg.lr, "beta": cfg.lr_kinetics / cfg.lr}
    for epoch in range(cfg.epochs):
        order = rng.permutation(n)
        total = 0.0
        for start in range(0, n, cfg.batch):
            idx = order[start : start + cfg.batch]
            xb = x[idx]
            shape = xb.shape[:2]
            fa, fb = _sample_factors(imp, shape, rng)
            a, b = net.alpha * fa, net.beta * fb
            y, cache = software_forward(xb, a, b, polarity, crange)
            y = y + imp.read_noise / G_MAX * rng.normal(size=y.shape)
            y, alive = _fail(y, imp.failure_rate, crange, rng)
            logits, mcache = net.mlp.forward(_to_inputs(y), imp.weight_noise, rng)
            loss, dlogits = softmax_cross_entropy(logits, labels[idx])
            grads, dx = net.mlp.backward(dlogits, mcache)
            dy = 2 * dx.reshape(y.shape) * alive[:, :, None]
            da, db = software_backward(dy, cache)
            grads["alpha"] = np.sum(da * fa, axis=0)
            grads["beta"] = np.sum(db * fb, axis=0)
            opt.step(grads, scale)
            np.clip(net.alpha, 0.0, 1.0, out=net.alpha)
            np.clip(net.beta, 1e-4, 1.0, out=net.beta)
            total += loss * idx.size
        if log is not None:
            log.append(
                {
                    "epoch": epoch,
                    "loss": total / n,
                    "alpha_mean": float(net.alpha.mean()),
                    "beta_mean": float(net.beta.mean()),
                }
            )
    return net


def finetune_head(
    net: DDKNetwork, features, labels, cfg: TrainConfig = TrainConfig(), imp: Imprecision = Imprecision(), seed: int = 0
) -> DDKNetwork:
    """On-chip fine-tuning: retrain the MLP head (alpha, beta fixed) on measured device feature maps."""
    rng = np.random.default_rng(seed)
    opt = Adam(net.mlp.params, cfg.lr, weight_decay=cfg.weight_decay)
    inputs = _to_inputs(features)
    n = inputs.shape[0]
    for _ in range(cfg.finetune_epochs):
        order = rng.permutation(n)
        for start in range(0, n, cfg.batch):
            idx = order[start : start + cfg.batch]
            logits, cache = net.mlp.forward(inputs[idx], imp.weight_noise, rng)
            _, dlogits = softmax_cross_entropy(logits, labels[idx])
            grads, _ = net.mlp.backward(dlogits, cache)
            opt.step(grads)
    return net


def train_baseline(x, labels, n_classes: int, cfg: TrainConfig = TrainConfig(), seed: int = 0) -> MLP:
    """The same MLP trained on the raw resampled input (x in [0, 1] mapped to [-1, 1])."""
    rng = np.random.default_rng(seed)
    mlp = MLP(x[0].size, cfg.hidden, n_classes, rng)
    opt = Adam(mlp.params, cfg.lr, weight_decay=cfg.weight_decay)
    inputs = _to_inputs(x)
    n = inputs.shape[0]
    for _ in range(cfg.epochs):
        order = rng.permutation(n)
        for start in range(0, n, cfg.batch):
            idx = order[start : start + cfg.batch]
            logits, cache = mlp.forward(inputs[idx])
            _, dlogits = softmax_cross_entropy(logits, labels[idx])
            grads, _ = mlp.backward(dlogits, cache)
            opt.step(grads)
    return mlp
