"""Writes the example's dataset: a CSV of N rows, F features x0..x{F-1} and a target y, a smooth
non-linear function of the features plus noise, fully determined by --seed.

  python make_data.py --out s3://datasets/jax-multinode/train.csv      # or file:///tmp/train.csv, a path
  python make_data.py --rows 4096 --features 8 --seed 0 --out train.csv
"""

from __future__ import annotations

import argparse
import io
import sys

import numpy as np

import store


def make(rows: int, features: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, features))
    a = rng.normal(size=features) / np.sqrt(features)
    b = rng.normal(size=features) / np.sqrt(features)
    y = np.sin(2.0 * (x @ a)) + 0.5 * (x @ b) ** 2 - 0.5 + 0.05 * rng.normal(size=rows)
    return x, y


def to_csv(x: np.ndarray, y: np.ndarray) -> bytes:
    out = io.StringIO()
    out.write(",".join([f"x{i}" for i in range(x.shape[1])] + ["y"]) + "\n")
    np.savetxt(out, np.column_stack([x, y]), fmt="%.6f", delimiter=",")
    return out.getvalue().encode()


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="where to write the CSV: s3://bucket/key, file:///path or a path")
    p.add_argument("--rows", type=int, default=4096, help="rows (default 4096)")
    p.add_argument("--features", type=int, default=8, help="feature columns (default 8)")
    p.add_argument("--seed", type=int, default=0, help="RNG seed (default 0)")
    a = p.parse_args(argv)
    if a.rows < 2 or a.features < 1:
        p.error("--rows must be >= 2 and --features >= 1")
    body = to_csv(*make(a.rows, a.features, a.seed))
    store.put(store.parse(a.out), body, "text/csv")
    print(f"wrote {a.rows} rows x {a.features} features ({len(body)} bytes) to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
