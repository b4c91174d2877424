"""A small numpy multilayer perceptron (one ReLU hidden layer, softmax output) and Adam.

Kept to numpy so the DDK network trains without torch or JAX; gradients are
written out by hand and checked against finite differences in the tests.
"""

from __future__ import annotations

import numpy as np


def softmax_cross_entropy(logits, labels):
    """(mean loss, d loss / d logits) for integer ``labels``."""
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    n = logits.shape[0]
    loss = -float(np.mean(np.log(p[np.arange(n), labels] + 1e-300)))
    grad = p.copy()
    grad[np.arange(n), labels] -= 1.0
    return loss, grad / n


class MLP:
    """inputs -> ReLU(W1 x + b1) -> W2 h + b2 (logits); He-initialised from ``rng``."""

    def __init__(self, n_in: int, n_hidden: int, n_out: int, rng: np.random.Generator):
        for name, v in (("n_in", n_in), ("n_hidden", n_hidden), ("n_out", n_out)):
            if int(v) < 1:
                raise ValueError(f"{name} must be >= 1, got {v!r}")
        self.params = {
            "W1": rng.normal(0, np.sqrt(2.0 / n_in), (n_in, n_hidden)),
            "b1": np.zeros(n_hidden),
            "W2": rng.normal(0, np.sqrt(1.0 / n_hidden), (n_hidden, n_out)),
            "b2": np.zeros(n_out),
        }

    def forward(self, x, weight_noise: float = 0.0, rng: np.random.Generator | None = None):
        """(logits, cache).  ``weight_noise``: relative Gaussian noise on the weights (crossbar imprecision)."""
        w1, w2 = self.params["W1"], self.params["W2"]
        if weight_noise > 0:
            if rng is None:
                raise ValueError("rng must be a numpy.random.Generator when weight_noise > 0")
            w1 = w1 * (1 + weight_noise * rng.normal(size=w1.shape))
            w2 = w2 * (1 + weight_noise * rng.normal(size=w2.shape))
        pre = x @ w1 + self.params["b1"]
        h = np.maximum(pre, 0.0)
        return h @ w2 + self.params["b2"], (x, pre, h, w1, w2)

    def backward(self, grad_logits, cache):
        """(parameter gradients, d loss / d inputs)."""
        x, pre, h, w1, w2 = cache
        grads = {"W2": h.T @ grad_logits, "b2": grad_logits.sum(axis=0)}
        dh = (grad_logits @ w2.T) * (pre > 0)
        grads["W1"] = x.T @ dh
        grads["b1"] = dh.sum(axis=0)
        return grads, dh @ w1.T

    def predict(self, x):
        return np.argmax(self.forward(x)[0], axis=1)


class Adam:
    """Adam (Kingma & Ba 2015) on a dict of arrays, updated in place; optional decoupled weight decay."""

    def __init__(
        self, params: dict, lr: float = 3e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0
    ):
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr!r}")
        # a zero entry of step()'s lr_scale freezes that parameter
        self.params, self.lr, self.betas, self.eps, self.weight_decay = params, lr, betas, eps, weight_decay
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.t = 0

    def step(self, grads: dict, lr_scale: dict | None = None):
        self.t += 1
        b1, b2 = self.betas
        for k, g in grads.items():
            self.m[k] = b1 * self.m[k] + (1 - b1) * g
            self.v[k] = b2 * self.v[k] + (1 - b2) * g * g
            m_hat = self.m[k] / (1 - b1**self.t)
            v_hat = self.v[k] / (1 - b2**self.t)
            lr = self.lr * (lr_scale or {}).get(k, 1.0)
            if self.weight_decay and k.startswith("W"):
                self.params[k] -= lr * self.weight_decay * self.params[k]
            self.params[k] -= lr * m_hat / (np.sqrt(v_hat) + self.eps)
