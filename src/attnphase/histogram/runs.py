"""Per-run result files: `<root>/<study>/<key>.json` (metrics, curves) and `<key>.pt` (weights).

The JSON file is written last, atomically, and marks the run as finished: a rerun skips the
finished runs and trains only the others. A batched job also leaves a checkpoint
(`<study>/job-<hash>.ckpt.pt`, atomic) while it trains, so that a killed job resumes from
its last checkpoint; the checkpoint is removed when the job's runs are saved.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch

from ..io import atomic_path, write_text_atomic
from .model import Params

DEFAULT_STORE = "results/histogram"


def settings_hash(values: dict[str, Any]) -> str:
    """Short stable hash of the settings that define a study's runs."""
    text = json.dumps(values, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


class RunStore:
    """The result files of one study (a folder)."""

    def __init__(self, root: str | Path, study: str) -> None:
        self.dir = Path(root) / study

    def has(self, key: str) -> bool:
        return (self.dir / f"{key}.json").is_file()

    def save(self, key: str, record: dict[str, Any], params: Params) -> None:
        """Weights first, then the record (the finished mark), each atomically."""
        with atomic_path(self.dir / f"{key}.pt") as tmp:
            torch.save({k: v.detach().cpu().clone() for k, v in params.items()}, tmp)
        write_text_atomic(self.dir / f"{key}.json", json.dumps(record) + "\n")

    def record(self, key: str) -> dict[str, Any]:
        return json.loads((self.dir / f"{key}.json").read_text())

    def params(self, key: str) -> Params:
        return torch.load(self.dir / f"{key}.pt", weights_only=True)

    def job_path(self, keys: list[str]) -> Path:
        return self.dir / f"job-{settings_hash(keys)}.ckpt.pt"

    def save_checkpoint(self, keys: list[str], state: dict) -> None:
        with atomic_path(self.job_path(keys)) as tmp:
            torch.save({"keys": keys, **state}, tmp)

    def load_checkpoint(self, keys: list[str]) -> dict | None:
        path = self.job_path(keys)
        if not path.is_file():
            return None
        state = torch.load(path, weights_only=False)
        return state if state.get("keys") == keys else None

    def clear_checkpoint(self, keys: list[str]) -> None:
        self.job_path(keys).unlink(missing_ok=True)
