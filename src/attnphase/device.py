"""Where a config's tensors live: the torch dtype and device it names."""

from __future__ import annotations

import torch

from .config import Config
from .errors import InputError

TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def device_of(cfg: Config) -> torch.device:
    """The torch device of a config; CUDA only where it is available."""
    if cfg.device == "cuda" and not torch.cuda.is_available():
        raise InputError("device = 'cuda': CUDA is not available on this machine; use cpu")
    return torch.device(cfg.device)
