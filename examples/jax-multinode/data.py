"""The dataset (a numeric CSV with one header line, the target last) and the batch order."""

from __future__ import annotations

import io

import numpy as np

import store
from config import UsageError


def load_dataset(uri: str, val_fraction: float, batch_size: int):
    """(x_train, y_train, x_val, y_val) as float32; the last val_fraction of the rows are held out."""
    body = store.get(store.parse(uri))
    if body is None:
        raise UsageError(f"dataset {uri} not found")
    try:
        table = np.loadtxt(io.BytesIO(body), delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    except ValueError as e:
        raise UsageError(f"dataset {uri}: not a numeric CSV with one header line: {e}")
    if table.shape[1] < 2 or not np.isfinite(table).all():
        raise UsageError(f"dataset {uri}: need >= 2 numeric columns and no missing values (got {table.shape[1]} columns)")
    n_val = int(len(table) * val_fraction)
    train, val = table[: len(table) - n_val], table[len(table) - n_val :]
    if len(train) < batch_size:
        raise UsageError(f"dataset {uri}: {len(train)} training rows, fewer than one batch of {batch_size}")
    f32 = lambda a: np.ascontiguousarray(a, dtype=np.float32)
    return f32(train[:, :-1]), f32(train[:, -1]), f32(val[:, :-1]), f32(val[:, -1])


def batch_rows(seed: int, epoch: int, n: int, batch_size: int, batch: int) -> np.ndarray:
    """Row indices of global batch `batch` of `epoch`: a function of (seed, epoch) only."""
    order = np.random.default_rng([seed, epoch]).permutation(n)
    return order[batch * batch_size : (batch + 1) * batch_size]
