"""DDK network: DDK feature layer (alpha, beta per input channel) + MLP head, trained aware of imprecision.

Shi et al., Nat. Commun. 16 (2025): raw data -> DDK feature maps -> MLP; alpha and beta are learned by
back-propagation under hardware constraints, and training sees the device's imprecision (limited
conductance range, output noise, alpha/beta noise, device failure).

Here each input channel is one DDK channel: its ``U`` utterances run on ``U`` devices (RESET, each from the
5 kOhm start), one pulse per pooled sample; the feature maps (channels x U x F conductances) feed a
one-hidden-layer MLP.  Gradients for alpha and beta come from the analytic adjoint
(:func:`~memspice.systems.ddk.kinetics.software_backward`); after every step they are projected onto what
the calibrated device can realise (:meth:`~memspice.systems.ddk.kinetics.DeviceMapping.box`).

One training run gives both forms, so they have the same training budget: the software form evaluates the
trained network on the ideal law with a float head; the device form deploys the same parameters on a
drawn chip (the calibrated device with variation, read noise and stuck devices for the DDK layer; the head
on crossbars programmed through the device model, :mod:`memspice.systems.ddk.head`).  Nothing is
retrained or fine-tuned for either form.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from .device import ddk_memristor, g_range
from .kinetics import ConductanceRange, DeviceMapping, Polarity, device_forward, software_backward, software_forward
from .mlp import MLP, Adam, softmax_cross_entropy


@dataclass(frozen=True)
class Imprecision:
    """Device imprecision seen in training and applied to the device form of the DDK layer.

    Parameters
    ----------
    read_noise : float
        Std of the Gaussian read (output) noise on each conductance (S); the paper studies 0-2.5 uS, 1 uS assumed.
    device_variation : float
        Relative std of a DDK device's drift and diffusion, fixed per chip (the paper studies alpha/beta
        noise up to 0.5; 0.1 assumed).  Training does not draw it: a fixed gain per device is removed at
        deployment by the read-out calibration (:class:`FeatureNorm` refitted on the chip's own maps).
    cycle_variation : float
        Relative std of each pulse's update, independent from pulse to pulse (0.05 assumed).
    failure_rate : float
        Probability that a DDK device is stuck at G_min or G_max (2% assumed).
    weight_noise : float
        Relative std of the MLP weights in training (crossbar programming error; 2% assumed).
    """

    read_noise: float = 1e-6
    device_variation: float = 0.1
    cycle_variation: float = 0.05
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
    """One drawn chip: per DDK device (channel x utterance) its drift/diffusion factors and stuck level (NaN: works)."""

    drift: np.ndarray
    diffusion: np.ndarray
    stuck: np.ndarray

    @classmethod
    def draw(cls, devices: int, imp: Imprecision, crange: ConductanceRange, rng) -> "Chip":
        drift = np.maximum(1 + imp.device_variation * rng.normal(size=devices), 0.0)
        diffusion = np.maximum(1 + imp.device_variation * rng.normal(size=devices), 0.0)
        dead = rng.random(devices) < imp.failure_rate
        level = np.where(rng.random(devices) < 0.5, crange.y_min, crange.y_max)
        return cls(drift, diffusion, np.where(dead, level, np.nan))

    @property
    def n_failed(self) -> int:
        return int(np.sum(np.isfinite(self.stuck)))


@dataclass(frozen=True)
class TrainConfig:
    """Training settings: one set for every data set (assumed, not tuned per data set).

    ``epochs`` is the whole budget of either form; the device form spends its last ``finetune_epochs`` of
    it training the head on the chip's own feature maps (the paper's hybrid off-chip pre-training plus
    on-chip fine-tuning), the software form spends them on joint training.  ``beta_init`` follows a shape
    rule: beta = beta_spread / F, so a RESET trajectory of F pulses of mean drive uses about half of the
    range whatever F is.
    """

    hidden: int = 64
    epochs: int = 200
    finetune_epochs: int = 50
    batch: int = 32
    lr: float = 3e-3
    lr_kinetics: float = 3e-3
    weight_decay: float = 1e-4
    alpha_init: float = 0.0
    beta_spread: float = 0.6


def _pulse_factors(imp: Imprecision, shape, rng):
    """Per-pulse update factors (cycle-to-cycle variation), shape (batch, devices, pulses); None if ideal."""
    if imp.cycle_variation == 0:
        return None
    return np.maximum(1 + imp.cycle_variation * rng.normal(size=shape), 0.0)


def _fail(y, rate, crange, rng):
    """Stuck devices (training): whole trajectories pinned at y_min or y_max.  Returns (y, alive mask)."""
    if rate == 0:
        return y, np.ones(y.shape[:2])
    dead = rng.random(y.shape[:2]) < rate
    stuck = np.where(rng.random(y.shape[:2]) < 0.5, crange.y_min, crange.y_max)
    return np.where(dead[:, :, None], stuck[:, :, None], y), (~dead).astype(float)


#: the head's inputs are standardised feature maps clipped to +-Z_CLIP standard deviations (the DAC's range)
Z_CLIP = 3.0


@dataclass(frozen=True)
class FeatureNorm:
    """Digital standardisation between the DDK read-out and the head: z = clip((y - mean) / std, +-Z_CLIP).

    The 2-3 V pulse encoding leaves the information in a small modulation of a large common conductance;
    standardising each feature (statistics of the training set's software-form maps, refreshed every epoch
    in training, frozen after) gives the head inputs of unit scale.
    """

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, features) -> "FeatureNorm":
        flat = np.asarray(features, float).reshape(len(features), -1)
        sd = flat.std(axis=0)
        return cls(flat.mean(axis=0), np.where(sd > 1e-9, sd, 1e-9))

    def __call__(self, features) -> np.ndarray:
        flat = np.asarray(features, float).reshape(len(features), -1)
        return np.clip((flat - self.mean) / self.std, -Z_CLIP, Z_CLIP)

    def grad(self, d_inputs, inputs) -> np.ndarray:
        """d loss / d features from d loss / d inputs (zero where the clip is active)."""
        return d_inputs * (np.abs(inputs) < Z_CLIP) / self.std


@dataclass
class DDKNetwork:
    """DDK layer (alpha, beta per input channel) and MLP head."""

    alpha: np.ndarray
    beta: np.ndarray
    mlp: MLP
    crange: ConductanceRange
    box: tuple
    r_on: float  # 1 / G_max of the device (Ohm): converts a conductance noise (S) to y units
    norm: FeatureNorm | None = None
    polarity: Polarity = Polarity.RESET
    mapping: DeviceMapping = field(default_factory=DeviceMapping)

    @property
    def n_trainable_ddk(self) -> int:
        return int(self.alpha.size + self.beta.size)

    def _per_device(self, values, utterances: int) -> np.ndarray:
        return np.repeat(np.asarray(values, float), utterances)

    def software_features(self, x, imp: Imprecision = Imprecision.ideal(), rng=None) -> np.ndarray:
        """Software-form feature maps (n, channels, U, F) of pulses ``x`` (n, channels, U, F)."""
        rng = rng or np.random.default_rng(0)
        n, c, u, f = x.shape
        a, b = self._per_device(self.alpha, u), self._per_device(self.beta, u)
        factor = _pulse_factors(imp, (n, c * u, f), rng)
        y, _ = software_forward(x.reshape(n, c * u, f), a, b, self.crange, self.polarity, factor)
        y = y + imp.read_noise * self.r_on * rng.normal(size=y.shape)
        return _fail(y, imp.failure_rate, self.crange, rng)[0].reshape(n, c, u, f)

    def device_features(self, x, chip: Chip, imp: Imprecision, rng, model=None) -> np.ndarray:
        """Device-form feature maps: the calibrated memristor under the pulse programme of (alpha, beta).

        One device per (channel, utterance) (``chip``) processes every sample: its drift/diffusion factors
        and stuck state are fixed; each pulse's update factor and each read's noise are drawn afresh.
        """
        n, c, u, f = x.shape
        y = device_forward(
            x.reshape(n, c * u, f),
            self._per_device(self.alpha, u),
            self._per_device(self.beta, u),
            self.polarity,
            model or ddk_memristor(),
            self.mapping,
            mobility_factor=chip.drift[None, :],
            diffusion_factor=chip.diffusion[None, :],
            crange=self.crange,
            pulse_factor=_pulse_factors(imp, (n, c * u, f), rng),
        )
        y = y + imp.read_noise * self.r_on * rng.normal(size=y.shape)
        dead = np.isfinite(chip.stuck)
        y[:, dead, :] = chip.stuck[dead][None, :, None]
        return y.reshape(n, c, u, f)

    def inputs(self, features) -> np.ndarray:
        """Head inputs (n, channels x U x F) of feature maps."""
        if self.norm is None:
            raise ValueError("the network has no feature normalisation yet (train it first)")
        return self.norm(features)

    def accuracy(self, features, labels) -> float:
        return float(np.mean(self.mlp.predict(self.inputs(features)) == labels))


def train_ddk(
    x,
    labels,
    n_classes: int,
    cfg: TrainConfig = TrainConfig(),
    imp: Imprecision = Imprecision(),
    seed: int = 0,
    polarity: Polarity = Polarity.RESET,
    log: list | None = None,
    epochs: int | None = None,
    start: DDKNetwork | None = None,
) -> DDKNetwork:
    """Train alpha, beta (per channel) and the MLP jointly on software-form features of pulses ``x`` (n, C, U, F).

    Each mini-batch draws fresh drift/diffusion noise, read noise, stuck devices and MLP weight noise;
    gradients flow through the noise to the nominal values, which are projected onto the device's box.
    ``epochs`` (default ``cfg.epochs``) more epochs, continuing from a copy of ``start`` if given.
    """
    rng = np.random.default_rng(seed)
    n, c, u, f = x.shape
    model = ddk_memristor()
    mapping = DeviceMapping()
    (a_lo, a_hi), (b_lo, b_hi) = mapping.box(model)
    crange = ConductanceRange.of(model)
    beta0 = float(np.clip(cfg.beta_spread / f, b_lo, b_hi))
    alpha0 = float(np.clip(cfg.alpha_init, a_lo, a_hi))
    if start is not None:
        net = copy.deepcopy(start)
    else:
        net = DDKNetwork(
            np.full(c, alpha0),
            np.full(c, beta0),
            MLP(c * u * f, cfg.hidden, n_classes, rng),
            crange,
            ((a_lo, a_hi), (b_lo, b_hi)),
            1.0 / g_range(model)[1],
            None,
            polarity,
            mapping,
        )
    params = dict(net.mlp.params, alpha=net.alpha, beta=net.beta)
    opt = Adam(params, cfg.lr, weight_decay=cfg.weight_decay)
    # alpha and beta move in their own units: the learning rate is relative to the width of their box
    scale = {
        "alpha": cfg.lr_kinetics * max(a_hi - a_lo, 1e-30) / cfg.lr,
        "beta": cfg.lr_kinetics * (b_hi - b_lo) / cfg.lr,
    }
    flat = x.reshape(n, c * u, f)
    for epoch in range(cfg.epochs if epochs is None else epochs):
        net.norm = FeatureNorm.fit(net.software_features(x))
        order = rng.permutation(n)
        total = 0.0
        for first in range(0, n, cfg.batch):
            idx = order[first : first + cfg.batch]
            xb = flat[idx]
            a, b = np.repeat(net.alpha, u), np.repeat(net.beta, u)
            y, cache = software_forward(xb, a, b, crange, polarity, _pulse_factors(imp, xb.shape, rng))
            y = y + imp.read_noise * net.r_on * rng.normal(size=y.shape)
            y, alive = _fail(y, imp.failure_rate, crange, rng)
            z = net.norm(y)
            logits, mcache = net.mlp.forward(z, imp.weight_noise, rng)
            loss, dlogits = softmax_cross_entropy(logits, labels[idx])
            grads, dz = net.mlp.backward(dlogits, mcache)
            dy = net.norm.grad(dz, z).reshape(y.shape) * alive[:, :, None]
            da, db = software_backward(dy, cache)
            grads["alpha"] = da.reshape(len(idx), c, u).sum(axis=(0, 2))
            grads["beta"] = db.reshape(len(idx), c, u).sum(axis=(0, 2))
            opt.step(grads, scale)
            np.clip(net.alpha, a_lo, a_hi, out=net.alpha)
            np.clip(net.beta, b_lo, b_hi, out=net.beta)
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
    net.norm = FeatureNorm.fit(net.software_features(x))
    return net


def finetune_head(
    net: DDKNetwork, x, labels, chip: Chip, imp: Imprecision, epochs: int, cfg: TrainConfig, seed: int = 0, model=None
):
    """Chip-in-the-loop head training on a copy of ``net`` (alpha, beta fixed).

    The chip maps the training pulses ``x`` (n, C, U, F) afresh every epoch (new update and read noise, as
    re-applying the inputs on chip does); the read-out calibration (:class:`FeatureNorm`) is fitted on the
    chip's first pass, before any training: with ``epochs`` = 0 that calibration is all that happens.
    """
    rng = np.random.default_rng(seed)
    model = model or ddk_memristor()
    out = copy.deepcopy(net)
    out.norm = FeatureNorm.fit(out.device_features(x, chip, imp, rng, model))
    opt = Adam(out.mlp.params, cfg.lr, weight_decay=cfg.weight_decay)
    n = x.shape[0]
    for _ in range(epochs):
        inputs = out.norm(out.device_features(x, chip, imp, rng, model))
        order = rng.permutation(n)
        for start in range(0, n, cfg.batch):
            idx = order[start : start + cfg.batch]
            logits, cache = out.mlp.forward(inputs[idx], imp.weight_noise, rng)
            _, dlogits = softmax_cross_entropy(logits, labels[idx])
            grads, _ = out.mlp.backward(dlogits, cache)
            opt.step(grads)
    return out


def train_mlp(inputs, labels, n_classes: int, cfg: TrainConfig = TrainConfig(), seed: int = 0) -> MLP:
    """The same MLP (hidden size, epochs, optimiser) trained on fixed ``inputs`` (n, features): the baselines."""
    rng = np.random.default_rng(seed)
    inputs = np.asarray(inputs, float)
    mlp = MLP(inputs.shape[1], cfg.hidden, n_classes, rng)
    opt = Adam(mlp.params, cfg.lr, weight_decay=cfg.weight_decay)
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


#: regularisation strengths the logistic-regression baseline chooses among by cross-validation
LOGREG_C = (0.01, 0.1, 1.0, 10.0, 100.0)


def logistic_regression(train, y_train, test) -> tuple[np.ndarray, float]:
    """Predictions of L2 logistic regression on ``test`` and the C it chose.

    C is chosen by stratified k-fold cross-validation on the training split only (k = min(5, smallest
    class count); with fewer than 2 samples in a class, C = 1): a data-independent rule, no test data used.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    k = int(min(5, np.bincount(y_train).min()))
    best_c = 1.0
    if k >= 2:
        folds = StratifiedKFold(k, shuffle=True, random_state=0)
        scores = [
            cross_val_score(LogisticRegression(C=c, max_iter=3000), train, y_train, cv=folds).mean() for c in LOGREG_C
        ]
        best_c = LOGREG_C[int(np.argmax(scores))]
    model = LogisticRegression(C=best_c, max_iter=3000).fit(train, y_train)
    return model.predict(test), best_c
