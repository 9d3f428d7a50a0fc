"""The example's settings: flags, then Kiln's environment (KILN_*), then JAX's (JAX_*); bad ones raise
UsageError (exit 2: retrying cannot help)."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

import store

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DIVERGED, EXIT_STOPPED = 0, 1, 2, 3, 143


class UsageError(Exception):
    """Bad flags, environment or dataset: retrying cannot help (exit 2)."""


@dataclass(frozen=True)
class Hyper:
    """What fixes the result: a checkpoint written with other values is refused on resume."""

    data: str
    epochs: int
    batch_size: int
    lr: float
    hidden: int
    seed: int
    val_fraction: float


@dataclass(frozen=True)
class Config:
    hyper: Hyper
    rank: int
    world: int
    coordinator: str | None
    run_id: str
    output: str
    checkpoint: str
    attempt: int
    checkpoint_every: int
    step_sleep: float
    stop_grace: float


def _int_env(env: dict, *names: str) -> int | None:
    for name in names:
        raw = env.get(name, "").strip()
        if raw:
            try:
                return int(raw)
            except ValueError:
                raise UsageError(f"{name}={raw!r} is not an integer")
    return None


def parse_config(argv: list[str], env: dict) -> Config:
    p = argparse.ArgumentParser(prog="train.py", description="JAX data-parallel regression (Kiln example)")
    p.add_argument("--data", default=env.get("KILN_DATASET_URI"), help="CSV with a header and the target in the last column: s3://, file:// or a path (env KILN_DATASET_URI)")
    p.add_argument("--output", default=env.get("KILN_OUTPUT_URI"), help="where outputs go (default env KILN_OUTPUT_URI)")
    p.add_argument("--checkpoint", default=env.get("KILN_CHECKPOINT_URI"), help="where checkpoints go (default env KILN_CHECKPOINT_URI, else <output>/checkpoints)")
    p.add_argument("--epochs", type=int, default=10, help="epochs (default 10)")
    p.add_argument("--batch-size", type=int, default=64, help="global batch size, a multiple of the number of processes (default 64)")
    p.add_argument("--lr", type=float, default=0.05, help="SGD learning rate (default 0.05)")
    p.add_argument("--hidden", type=int, default=32, help="hidden units (default 32)")
    p.add_argument("--seed", type=int, default=0, help="seed of the initial parameters and the batch order (default 0)")
    p.add_argument("--val-fraction", type=float, default=0.1, help="rows held out at the end of the file for val_loss (default 0.1)")
    p.add_argument("--checkpoint-every", type=int, default=50, help="steps between checkpoints (default 50)")
    p.add_argument("--step-sleep", type=float, default=0.0, help="seconds to sleep after each step, to make a run last (default 0)")
    p.add_argument("--stop-grace", type=float, default=20.0, help="after a signal, exit 143 anyway after this many seconds (default 20)")
    p.add_argument("--rank", type=int, default=None, help="this process's rank (default env KILN_NODE_RANK, JAX_PROCESS_ID, else 0)")
    p.add_argument("--num-processes", type=int, default=None, help="number of processes (default env KILN_NUM_NODES, JAX_NUM_PROCESSES, else 1)")
    p.add_argument("--coordinator", default=None, help="host:port of rank 0 (default env KILN_COORDINATOR, JAX_COORDINATOR_ADDRESS)")
    p.add_argument("--run-id", default=env.get("KILN_RUN_ID", "local"), help="run id for the logs and run.json (default env KILN_RUN_ID)")
    try:
        a = p.parse_args(argv)
    except SystemExit as e:
        raise SystemExit(EXIT_USAGE if e.code else EXIT_OK)

    rank = a.rank if a.rank is not None else _int_env(env, "KILN_NODE_RANK", "JAX_PROCESS_ID")
    world = a.num_processes if a.num_processes is not None else _int_env(env, "KILN_NUM_NODES", "JAX_NUM_PROCESSES")
    coordinator = a.coordinator or env.get("KILN_COORDINATOR") or env.get("JAX_COORDINATOR_ADDRESS") or None
    world = 1 if world is None else world
    rank = 0 if rank is None else rank
    if not a.data:
        raise UsageError("no dataset: pass --data s3://<bucket>/<key>.csv (or set KILN_DATASET_URI)")
    if not a.output:
        raise UsageError("no output location: pass --output or set KILN_OUTPUT_URI")
    if world < 1 or not 0 <= rank < world:
        raise UsageError(f"rank {rank} of {world} processes: need 0 <= rank < processes")
    if world > 1 and (not coordinator or ":" not in coordinator):
        raise UsageError(f"{world} processes need the coordinator's host:port (KILN_COORDINATOR or --coordinator), got {coordinator!r}")
    for name, value, ok in [
        ("--epochs", a.epochs, a.epochs >= 1),
        ("--batch-size", a.batch_size, a.batch_size >= world and a.batch_size % world == 0),
        ("--lr", a.lr, a.lr > 0 and math.isfinite(a.lr)),
        ("--hidden", a.hidden, a.hidden >= 1),
        ("--val-fraction", a.val_fraction, 0 <= a.val_fraction < 1),
        ("--checkpoint-every", a.checkpoint_every, a.checkpoint_every >= 1),
        ("--step-sleep", a.step_sleep, a.step_sleep >= 0),
    ]:
        if not ok:
            extra = f" (a multiple of the {world} processes)" if name == "--batch-size" else ""
            raise UsageError(f"{name} {value} is out of range{extra}")
    for uri in (a.data, a.output, a.checkpoint or a.output):
        try:
            store.parse(uri)
        except ValueError as e:
            raise UsageError(str(e))
    attempt = _int_env(env, "KILN_RESTART_ATTEMPT") or 0
    hyper = Hyper(a.data, a.epochs, a.batch_size, a.lr, a.hidden, a.seed, a.val_fraction)
    checkpoint = a.checkpoint or str(store.parse(a.output).join("checkpoints"))
    return Config(hyper, rank, world, coordinator, a.run_id, a.output, checkpoint, attempt, a.checkpoint_every, a.step_sleep, a.stop_grace)
