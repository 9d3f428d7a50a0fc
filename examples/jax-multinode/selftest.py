"""Checks the example on this machine, no cluster: processes on 127.0.0.1 play the nodes.

  python selftest.py [--root file:///tmp/jax-selftest | s3://bucket/prefix] [--port 29511] [--tolerance 1e-5]

1. a single-process run and a 2-process run over the same global batches: both ranks log worldSize 2, end
   with bit-identical parameters, and those equal the single process's within --tolerance;
2. a 2-process run whose rank 1 gets SIGTERM mid-run: both exit 143 after rank 0 checkpoints; run again
   (KILN_RESTART_ATTEMPT=1), it resumes from the checkpoint and ends with the uninterrupted run's parameters;
3. a missing dataset exits 2.
Prints one JSON summary line and "N passed, N failed"; exits 1 if any check failed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import store  # noqa: E402

results: list[tuple[str, bool, str]] = []


def check(name: str, ok: bool, detail: str = "") -> bool:
    results.append((name, ok, detail))
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)
    return ok


def start(args: list[str], env: dict, log_path: str) -> subprocess.Popen:
    out = open(log_path, "w")
    return subprocess.Popen([sys.executable, os.path.join(HERE, "train.py"), *args], env=env, stdout=out, stderr=subprocess.STDOUT)


def group(n: int, port: int, output: str, args: list[str], logs: str, extra_env: dict | None = None) -> list[subprocess.Popen]:
    procs = []
    for rank in range(n):
        env = {**os.environ, "KILN_NODE_RANK": str(rank), "KILN_NUM_NODES": str(n), "KILN_COORDINATOR": f"127.0.0.1:{port}", "KILN_OUTPUT_URI": output, **(extra_env or {})}
        procs.append(start(args, env, f"{logs}.r{rank}.log"))
    return procs


def events(log_path: str) -> list[dict]:
    out = []
    for line in open(log_path):
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def params(uri: str) -> tuple[str, dict[str, np.ndarray]]:
    doc = json.loads(store.get(store.parse(uri)))
    return doc["sha256"], {k: np.asarray(v, np.float32) for k, v in doc["params"].items()}


def max_abs_diff(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    return max(float(np.max(np.abs(a[k] - b[k]))) for k in a)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", default=None, help="where data and outputs go (default: a new temporary folder)")
    p.add_argument("--port", type=int, default=29511, help="coordinator port on 127.0.0.1 (default 29511)")
    p.add_argument("--tolerance", type=float, default=1e-5, help="max |2-process - single| per parameter (default 1e-5)")
    p.add_argument("--epochs", type=int, default=6, help="epochs of each run (default 6)")
    a = p.parse_args()
    root = store.parse(a.root or tempfile.mkdtemp(prefix="jax-selftest-"))
    logs = tempfile.mkdtemp(prefix="jax-selftest-logs-")
    data = str(root.join("data/train.csv"))
    train_args = ["--data", data, "--epochs", str(a.epochs), "--checkpoint-every", "25"]
    print(f"root {root}, logs {logs}", flush=True)

    subprocess.run([sys.executable, os.path.join(HERE, "make_data.py"), "--out", data], check=True)

    t0 = time.time()
    single = start(train_args, {**os.environ, "KILN_OUTPUT_URI": str(root.join("single"))}, f"{logs}/single.log")
    check("single process exits 0", single.wait() == 0)
    t_single = time.time() - t0

    t0 = time.time()
    two = group(2, a.port, str(root.join("two")), train_args, f"{logs}/two")
    codes = [q.wait() for q in two]
    t_two = time.time() - t0
    check("2 processes exit 0", codes == [0, 0], f"exit codes {codes}")
    sizes = [e["worldSize"] for r in range(2) for e in events(f"{logs}/two.r{r}.log") if e.get("event") == "collective"]
    check("both ranks joined one collective of 2", sizes == [2, 2], f"worldSize logged {sizes}")
    sha0, p0 = params(str(root.join("two/params-rank-0.json")))
    sha1, p1 = params(str(root.join("two/params-rank-1.json")))
    check("ranks end with identical parameters", sha0 == sha1 and max_abs_diff(p0, p1) == 0.0, f"sha256 {sha0[:12]} / {sha1[:12]}")
    sha_s, ps = params(str(root.join("single/params.json")))
    diff = max_abs_diff(p0, ps)
    check("2 processes == single process within tolerance", diff <= a.tolerance, f"max |diff| {diff:.3g} (tolerance {a.tolerance:g})")

    out = str(root.join("interrupted"))
    slow = [*train_args, "--step-sleep", "0.03"]
    procs = group(2, a.port, out, slow, f"{logs}/intr")
    deadline = time.time() + 180
    while time.time() < deadline and not any(e.get("event") == "checkpoint" and e["step"] >= 50 for e in events(f"{logs}/intr.r0.log")):
        if any(q.poll() is not None for q in procs):
            break
        time.sleep(0.2)
    procs[1].send_signal(signal.SIGTERM)
    codes = [q.wait(timeout=60) for q in procs]
    check("SIGTERM to rank 1 mid-run: both ranks exit 143", codes == [143, 143], f"exit codes {codes}")
    stopped = [e for e in events(f"{logs}/intr.r0.log") if e.get("event") == "interrupted"]
    latest = store.get(store.parse(out).join("checkpoints/latest.json"))
    at = json.loads(latest)["step"] if latest else None
    check("rank 0 checkpointed at the step the group stopped", bool(stopped) and at == stopped[-1]["step"], f"stopped at {stopped[-1]['step'] if stopped else None}, checkpoint step {at}")
    procs = group(2, a.port, out, slow[:-2], f"{logs}/resume", {"KILN_RESTART_ATTEMPT": "1"})
    codes = [q.wait() for q in procs]
    resumed = [e["step"] for r in range(2) for e in events(f"{logs}/resume.r{r}.log") if e.get("event") == "resume"]
    check("the rerun resumes from that checkpoint and exits 0", codes == [0, 0] and resumed == [at, at], f"exit codes {codes}, resumed at {resumed}")
    sha_r, pr = params(str(root.join("interrupted/params-rank-1.json")))
    check("resumed run == uninterrupted run (bit for bit)", sha_r == sha0, f"max |diff| {max_abs_diff(pr, p0):.3g}")

    bad = start(["--data", str(root.join("data/missing.csv"))], {**os.environ, "KILN_OUTPUT_URI": str(root.join("bad"))}, f"{logs}/bad.log")
    check("a missing dataset exits 2", bad.wait() == 2)

    passed = sum(ok for _, ok, _ in results)
    print(json.dumps({"root": str(root), "logs": logs, "singleSeconds": round(t_single, 1), "twoProcessSeconds": round(t_two, 1), "maxAbsDiffVsSingle": diff, "paramsSha256": sha0}))
    print(f"{passed} passed, {len(results) - passed} failed")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
