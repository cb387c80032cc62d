"""Shared fixtures: small seeded configs and data sets."""

import pytest
import torch

from attnphase.config import Config
from attnphase.data import generate


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(1)


@pytest.fixture
def small_cfg() -> Config:
    return Config(d=40, alpha=3.0, test_samples=2000, seed=3)


@pytest.fixture
def small_data(small_cfg):
    return generate(small_cfg)
