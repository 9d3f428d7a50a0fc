"""Checkpoints in the object store: written by rank 0, read back on resume."""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone

import numpy as np

import store


class Checkpoints:
    """<checkpoint>/step-<step>.npz (parameters and the epoch's running sums) and <checkpoint>/latest.json
    (which one, the hyper-parameters, the epoch history), written in that order; the two newest are kept."""

    KEEP = 2

    def __init__(self, uri: str):
        self.root = store.parse(uri)
        self.latest = self.root.join("latest.json")

    def load(self):
        raw = store.get(self.latest)
        if raw is None:
            return None
        meta = json.loads(raw)
        body = store.get(self.root.join(meta["file"]))
        if body is None:
            raise RuntimeError(f"{self.latest} names {meta['file']}, which is missing")
        with np.load(io.BytesIO(body)) as z:
            arrays = {k: z[k] for k in z.files}
        return meta, arrays

    def save(self, step: int, arrays: dict[str, np.ndarray], meta: dict) -> str:
        """Writes the arrays, then latest.json from `meta` (updated in place with what was written)."""
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        name = f"step-{step:08d}.npz"
        store.put(self.root.join(name), buf.getvalue())
        files = [f for f in meta.get("files", []) if f != name] + [name]
        meta.update(step=step, file=name, files=files[-self.KEEP :], savedAt=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        store.put(self.latest, json.dumps(meta, indent=1).encode(), "application/json")
        for old in files[: -self.KEEP]:
            store.delete(self.root.join(old))
        return str(self.root.join(name))
