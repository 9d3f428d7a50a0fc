"""The model: a one-hidden-layer tanh MLP for regression, its initial parameters and their serialisations."""

from __future__ import annotations

import hashlib
import json

import numpy as np

PARAM_NAMES = ("w1", "b1", "w2", "b2")


def init_params(features: int, hidden: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "w1": (rng.normal(size=(features, hidden)) * np.sqrt(2.0 / (features + hidden))).astype(np.float32),
        "b1": np.zeros(hidden, np.float32),
        "w2": (rng.normal(size=(hidden, 1)) * np.sqrt(2.0 / (hidden + 1))).astype(np.float32),
        "b2": np.zeros(1, np.float32),
    }


def forward(jnp, params, x):
    h = jnp.tanh(x @ params["w1"] + params["b1"])
    return (h @ params["w2"] + params["b2"])[:, 0]


def params_digest(params: dict[str, np.ndarray]) -> str:
    """sha256 of the parameters' float32 bytes in PARAM_NAMES order: equal digests, identical parameters."""
    h = hashlib.sha256()
    for name in PARAM_NAMES:
        h.update(np.ascontiguousarray(params[name], dtype=np.float32).tobytes())
    return h.hexdigest()


def params_json(params: dict[str, np.ndarray], step: int, rank: int) -> bytes:
    doc = {"step": step, "rank": rank, "dtype": "float32", "sha256": params_digest(params), "params": {k: params[k].tolist() for k in PARAM_NAMES}}
    return (json.dumps(doc) + "\n").encode()
