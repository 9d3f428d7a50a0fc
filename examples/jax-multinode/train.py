"""Data-parallel training with JAX on any number of nodes (one process per node, CPU, gloo collectives).

A small MLP regression on a CSV from the object store. Every global batch is split evenly across the
processes; each computes the gradient of its shard and the gradients are averaged with one all-reduce
(`lax.pmean` inside `shard_map`), so every process applies the same update and holds the same parameters,
equal (within float rounding) to a single process that trains on the same global batches.

  python train.py --data s3://datasets/jax-multinode/train.csv [--epochs 10] [--batch-size 64] ...

Where the processes meet and where results go comes from Kiln's environment (KILN_NODE_RANK,
KILN_NUM_NODES, KILN_COORDINATOR, KILN_OUTPUT_URI, KILN_CHECKPOINT_URI, KILN_RUN_ID,
KILN_RESTART_ATTEMPT), else from JAX's (JAX_PROCESS_ID, JAX_NUM_PROCESSES, JAX_COORDINATOR_ADDRESS);
with neither it is one process. Flags override the environment.

Resumes from the latest checkpoint under the checkpoint URI (written by rank 0 every --checkpoint-every
steps and when stopping); the batch order of epoch e is a function of (seed, e) only, so a resumed run
ends with the parameters an uninterrupted one would have. SIGTERM or SIGINT on any process stops the whole
group after the current step: the flag travels with the gradients (an all-reduce max), rank 0
checkpoints, and every process exits 143.

Logs are JSON lines in the Kiln trainer's protocol (one per epoch: epoch, loss, val_loss, metrics, ...;
events with "event"). Exit codes: 0 done, 1 failed, 2 bad input (flags, environment, dataset), 3
diverged, 143 stopped by a signal after checkpointing.
"""

from __future__ import annotations

import signal

# Before numpy or JAX start a thread (OpenBLAS starts its pool on import): every thread inherits this mask,
# so SIGTERM and SIGINT reach only the thread that waits for them (StopFlag), never kill the process
# through a thread where Python's handler cannot run.
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})

import io
import json
import math
import os
import sys
import threading
import time
from dataclasses import asdict
from datetime import datetime, timezone

import numpy as np

import store
from checkpoint import Checkpoints
from config import EXIT_DIVERGED, EXIT_FAILED, EXIT_OK, EXIT_STOPPED, EXIT_USAGE, Config, UsageError, parse_config
from data import batch_rows, load_dataset
from model import PARAM_NAMES, forward, init_params, params_digest, params_json


def log(**fields) -> None:
    print(json.dumps(fields, separators=(",", ":")), flush=True)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# ---- signals --------------------------------------------------------------------------------------


class StopFlag:
    """Set on SIGTERM or SIGINT. Both are blocked in every thread and taken by one thread with sigwait, so a
    signal is seen even while the main thread waits inside JAX (joining the group, a collective). The
    training loop shares the flag with the other processes at the next step; if that never comes (a peer is
    gone), the same thread exits 143 after `grace` seconds."""

    SIGNALS = {signal.SIGTERM, signal.SIGINT}

    def __init__(self, grace: float):
        self.signal: str | None = None
        self.grace = grace
        # Until training starts there is nothing to save: a signal then exits at once.
        self.training = False

    def install(self) -> None:
        """The signals are blocked at import time (top of this file); a signal that came since is pending
        and sigwait returns it at once."""
        signal.pthread_sigmask(signal.SIG_BLOCK, self.SIGNALS)
        threading.Thread(target=self._wait, name="signals", daemon=True).start()

    def _wait(self) -> None:
        signum = signal.sigwait(self.SIGNALS)
        self.signal = signal.Signals(signum).name
        if not self.training:
            log(event="signal", signal=self.signal, action="exiting (training had not started)")
            hard_exit(EXIT_STOPPED)
        log(event="signal", signal=self.signal, action="stopping the group after the current step, checkpointing, then exiting")
        time.sleep(self.grace)
        log(event="interrupted", detail=f"no clean stop within {self.grace:g}s of {self.signal} (a peer may be gone): exiting without a new checkpoint")
        hard_exit(EXIT_STOPPED)


def hard_exit(code: int) -> None:
    """Exit now, skipping JAX's shutdown barrier (which waits for every peer)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


# ---- training -------------------------------------------------------------------------------------


def _has_ipv6() -> bool:
    import socket

    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::", 0))
        return True
    except OSError:
        return False


def setup_jax(cfg: Config):
    """Configures JAX for CPU with gloo collectives and joins the group; returns the jax module."""
    import jax

    if cfg.world > 1 and cfg.rank == 0 and "JAX_COORDINATOR_BIND_ADDRESS" not in os.environ and not _has_ipv6():
        # JAX's coordinator binds [::]:<port> by default, which needs IPv6; a pod without it binds IPv4 only.
        os.environ["JAX_COORDINATOR_BIND_ADDRESS"] = f"0.0.0.0:{cfg.coordinator.rsplit(':', 1)[1]}"
    jax.config.update("jax_platforms", "cpu")
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    if cfg.world > 1:
        jax.distributed.initialize(
            coordinator_address=cfg.coordinator,
            num_processes=cfg.world,
            process_id=cfg.rank,
            initialization_timeout=int(os.environ.get("KILN_INIT_TIMEOUT", "300")),
            heartbeat_timeout_seconds=int(os.environ.get("KILN_HEARTBEAT_TIMEOUT", "20")),
        )
    return jax


def build_step(jax, mesh, lr: float):
    """One jitted data-parallel SGD step. Each process computes the loss of its shard of the global batch;
    the loss is their mean over the "data" axis (an all-reduce), and JAX differentiates through it: the
    gradient of the replicated parameters comes back all-reduced too (the transpose of using a replicated
    value on every shard is a sum over the shards), so every process applies the same update, the gradient
    of the global batch's mean loss. The stop flag of each process is all-reduced (max) in the same step,
    so every process learns of a signal at the same step."""
    import jax.numpy as jnp
    from jax.sharding import PartitionSpec as P

    def loss_fn(params, x, y):
        err = forward(jnp, params, x) - y
        return jax.lax.pmean(jnp.mean(err**2), "data"), jax.lax.pmean(jnp.mean(jnp.abs(err)), "data")

    def local_step(params, x, y, stop):
        (loss, mae), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, x, y)
        params = jax.tree.map(lambda p, g: p - lr * g, params, grads)
        return params, loss, mae, jax.lax.pmax(stop[0], "data")

    return jax.jit(
        jax.shard_map(local_step, mesh=mesh, in_specs=(P(), P("data"), P("data"), P("data")), out_specs=(P(), P(), P(), P()))
    )


def evaluate(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """MSE and MAE on host arrays (the held-out rows; identical on every process)."""
    if len(y) == 0:
        return float("nan"), float("nan")
    err = forward(np, params, x).astype(np.float64) - y
    return float(np.mean(err**2)), float(np.mean(np.abs(err)))


def to_host(x) -> np.ndarray:
    """A replicated global array's value on this process."""
    return np.asarray(x.addressable_data(0))


def broadcast_exact(multihost_utils, tree: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Rank 0's arrays on every process, bit for bit: sent as bytes (JAX would narrow float64 and int64
    to 32 bits, and its broadcast is a sum with zeros, which turns -0.0 into 0.0)."""
    raw = {k: np.frombuffer(np.ascontiguousarray(v).tobytes(), np.uint8) for k, v in tree.items()}
    got = multihost_utils.broadcast_one_to_all(raw)
    return {k: np.frombuffer(np.asarray(got[k], np.uint8).tobytes(), tree[k].dtype).reshape(tree[k].shape) for k in tree}


def train(cfg: Config, stop: StopFlag) -> int:
    h = cfg.hyper
    started = time.time()
    x_train, y_train, x_val, y_val = load_dataset(h.data, h.val_fraction, h.batch_size)
    jax = setup_jax(cfg)
    from jax.experimental import multihost_utils
    from jax.sharding import Mesh, NamedSharding
    from jax.sharding import PartitionSpec as P

    mesh = Mesh(np.array(jax.devices()), ("data",))
    replicated, sharded = NamedSharding(mesh, P()), NamedSharding(mesh, P("data"))
    # One collective before anything else: every process adds 1, so the sum is the size of the group.
    joined = int(to_host(jax.jit(lambda v: v.sum(), out_shardings=replicated)(jax.make_array_from_process_local_data(sharded, np.ones(1, np.int32)))))
    log(event="collective", worldSize=joined, rank=jax.process_index(), processes=jax.process_count(), devices=jax.device_count(), implementation="gloo" if cfg.world > 1 else "none", coordinator=cfg.coordinator, jax=jax.__version__)
    if joined != cfg.world:
        raise RuntimeError(f"the collective saw {joined} processes, expected {cfg.world}")

    # Rank 0 decides where training starts (fresh or its latest checkpoint) and broadcasts it, so every
    # process starts from the same parameters even if the store changed in between.
    ckpts = Checkpoints(cfg.checkpoint)
    state = {**init_params(x_train.shape[1], h.hidden, h.seed), "step": np.zeros((), np.int64), "sums": np.zeros(3, np.float64)}
    meta = {"hyper": asdict(h), "history": [], "trainSeconds": 0.0, "firstStartedAt": now(), "attempts": 0}
    if cfg.rank == 0:
        found = ckpts.load()
        if found:
            meta, arrays = found
            if meta.get("hyper") != asdict(h):
                raise UsageError(f"the checkpoint at {cfg.checkpoint} was written with other settings ({meta.get('hyper')}); use another checkpoint location or the same settings")
            state = {k: arrays[k] for k in state}
    state = broadcast_exact(multihost_utils, state)
    step = int(state["step"])
    sums = [float(v) for v in state["sums"]]  # loss, mae and steps of the current epoch so far
    params = {k: jax.make_array_from_process_local_data(replicated, np.asarray(state[k], np.float32)) for k in PARAM_NAMES}
    meta["attempts"] = int(meta.get("attempts", 0)) + 1
    meta["worldSize"] = cfg.world
    steps_per_epoch = len(y_train) // h.batch_size
    if step > 0:
        log(event="resume", step=step, epoch=step // steps_per_epoch, batch=step % steps_per_epoch, checkpoint=cfg.checkpoint, attempt=cfg.attempt, rank=cfg.rank)

    local = h.batch_size // cfg.world
    lo, hi = cfg.rank * local, (cfg.rank + 1) * local
    total_steps = steps_per_epoch * h.epochs
    train_step = build_step(jax, mesh, h.lr)
    out = store.parse(cfg.output)

    run_started = now()

    def write_run(status: str, **extra) -> None:
        """run.json (rank 0): what the dashboard shows as the run's status and attempts."""
        if cfg.rank == 0:
            run = {"runId": cfg.run_id, "status": status, "attempts": meta["attempts"], "firstStartedAt": meta["firstStartedAt"], "startedAt": run_started, **extra, "backend": "jax-cpu", "worldSize": cfg.world, "spec": asdict(h)}
            store.put(out.join("run.json"), (json.dumps(run, indent=2) + "\n").encode(), "application/json")

    def save(at_step: int, host_params: dict[str, np.ndarray]) -> None:
        if cfg.rank != 0:
            return
        arrays = {**host_params, "step": np.asarray(at_step, np.int64), "sums": np.asarray(sums, np.float64)}
        where = ckpts.save(at_step, arrays, meta)
        log(event="checkpoint", step=at_step, uri=where)

    write_run("running")

    attempt_t0, attempt_rows = time.time(), 0
    stop.training = True
    while step < total_steps:
        epoch, batch = divmod(step, steps_per_epoch)
        rows = batch_rows(h.seed, epoch, len(y_train), h.batch_size, batch)[lo:hi]
        x = jax.make_array_from_process_local_data(sharded, x_train[rows])
        y = jax.make_array_from_process_local_data(sharded, y_train[rows])
        flag = jax.make_array_from_process_local_data(sharded, np.array([1 if stop.signal else 0], np.int32))
        t0 = time.time()
        params, loss, mae, stop_any = train_step(params, x, y, flag)
        loss, mae, stop_any = float(to_host(loss)), float(to_host(mae)), int(to_host(stop_any))
        meta["trainSeconds"] += time.time() - t0
        step += 1
        attempt_rows += h.batch_size
        sums = [sums[0] + loss, sums[1] + mae, sums[2] + 1]
        if not math.isfinite(loss):
            log(event="diverged", step=step, loss=loss)
            print(f"kiln-trainer: diverged: loss is {loss} at step {step}; lower --lr", file=sys.stderr, flush=True)
            return EXIT_DIVERGED
        if step % steps_per_epoch == 0:
            host = {k: to_host(v) for k, v in params.items()}
            val_loss, val_mae = evaluate(host, x_val, y_val)
            seconds = max(time.time() - attempt_t0, 1e-6)
            line = {"epoch": epoch + 1, "loss": round(sums[0] / sums[2], 6)}
            if math.isfinite(val_loss):
                line["val_loss"] = round(val_loss, 6)
            line["metrics"] = {"mae": round(sums[1] / sums[2], 6), **({"val_mae": round(val_mae, 6)} if math.isfinite(val_mae) else {})}
            line.update(samplesPerSecond=round(attempt_rows / seconds), msPerStep=round(1000 * seconds / max(1, attempt_rows // h.batch_size), 2), etaSeconds=round(seconds / max(1, attempt_rows // h.batch_size) * (total_steps - step), 1), rank=cfg.rank)
            log(**line)
            meta["history"].append({k: v for k, v in line.items() if k != "rank"})
            sums = [0.0, 0.0, 0.0]
        if stop_any:
            save(step, {k: to_host(v) for k, v in params.items()})
            write_run("running", interruptedAt=now())
            # Nobody leaves before rank 0 has saved: one more (tiny) collective.
            multihost_utils.sync_global_devices("checkpoint saved")
            log(event="interrupted", step=step, epoch=round(step / steps_per_epoch, 3), checkpoint=cfg.checkpoint, reason=stop.signal or "a peer was signalled")
            hard_exit(EXIT_STOPPED)
        if step % cfg.checkpoint_every == 0 and step < total_steps:
            save(step, {k: to_host(v) for k, v in params.items()})
        if cfg.step_sleep:
            time.sleep(cfg.step_sleep)

    host = {k: to_host(v) for k, v in params.items()}
    # Every process holds the same parameters: check it with one all-gather of their digests' bytes.
    digest = params_digest(host)
    gathered = np.asarray(multihost_utils.process_allgather(np.frombuffer(bytes.fromhex(digest), np.uint8))).reshape(cfg.world, -1)
    identical = bool((gathered == gathered[0]).all())
    log(event="params", step=step, sha256=digest, identicalAcrossRanks=identical, rank=cfg.rank)
    store.put(out.join(f"params-rank-{cfg.rank}.json"), params_json(host, step, cfg.rank), "application/json")
    if cfg.rank == 0:
        save(step, host)
        val_loss, val_mae = evaluate(host, x_val, y_val)
        buf = io.BytesIO()
        np.savez(buf, **host)
        store.put(out.join("params.npz"), buf.getvalue())
        store.put(out.join("params.json"), params_json(host, step, 0), "application/json")
        wall = time.time() - started
        metrics = {
            "task": "regression",
            "framework": f"jax {jax.__version__} (cpu, gloo)",
            "worldSize": cfg.world,
            "validation": {"mse": val_loss, "mae": val_mae} if math.isfinite(val_loss) else None,
            "test": None,
            "history": meta["history"],
            "epochs": len(meta["history"]),
            "steps": step,
            "outcome": "completed",
            "attempts": meta["attempts"],
            "paramsSha256": digest,
            "identicalAcrossRanks": identical,
            "samplesPerSecond": round(attempt_rows / max(time.time() - attempt_t0, 1e-6)),
            "trainSeconds": round(meta["trainSeconds"], 3),
            "wallSeconds": round(wall, 3),
            "hyperParameters": asdict(h),
        }
        store.put(out.join("metrics.json"), (json.dumps(metrics, indent=2) + "\n").encode(), "application/json")
        write_run("succeeded", endedAt=now())
    log(event="done", runId=cfg.run_id, outcome="completed", epochs=h.epochs, steps=step, worldSize=cfg.world, rank=cfg.rank, uri=cfg.output)
    if not identical:
        print("kiln-trainer: run failed: the processes ended with different parameters", file=sys.stderr, flush=True)
        return EXIT_FAILED
    return EXIT_OK


def main(argv: list[str]) -> int:
    try:
        cfg = parse_config(argv, dict(os.environ))
    except UsageError as e:
        print(f"kiln-trainer: {e}", file=sys.stderr, flush=True)
        return EXIT_USAGE
    stop = StopFlag(cfg.stop_grace)
    stop.install()
    log(event="start", runId=cfg.run_id, rank=cfg.rank, worldSize=cfg.world, coordinator=cfg.coordinator, output=cfg.output, checkpoint=cfg.checkpoint, attempt=cfg.attempt, pid=os.getpid())
    try:
        code = train(cfg, stop)
    except UsageError as e:
        print(f"kiln-trainer: {e}", file=sys.stderr, flush=True)
        code = EXIT_USAGE
    except store.StoreError as e:
        print(f"kiln-trainer: run failed: {e}", file=sys.stderr, flush=True)
        code = EXIT_FAILED
    except Exception as e:  # a peer lost mid-collective surfaces here as an XLA runtime error
        print(f"kiln-trainer: run failed: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}", file=sys.stderr, flush=True)
        if os.environ.get("KILN_DEBUG"):
            raise
        code = EXIT_STOPPED if stop.signal else EXIT_FAILED
    if code != EXIT_OK:
        hard_exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
