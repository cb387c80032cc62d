"""The transformer of the histogram task, for M models at once with stacked weights.

One model: e_l = [E_tok[x_l]; E_pos[l]] (d_model/2 token dimensions first, then d_model/2
positional ones); one attention head q = (m * e) W_q, k = (m * e) W_k, v = e W_v with a
per-model 0/1 mask m over the embedding dimensions (the variant: `semantic` keeps the token
half, `positional` the positional half, `both` all); A = softmax(q k^T / sqrt(d_model)),
o = A v (no residual); h = LayerNorm(o); z = ReLU(h W_1 + b_1); logits = z W_2 + b_2 over
L + 1 classes, at every position.

Weights live in a dict of tensors with a leading model axis M, so one batched matmul
trains every seed and variant together. Masking the rows of W_q and W_k is the same as
masking e (m is 0/1), and cheaper. `HistogramTransformer` is the same model as a plain
`nn.Module` for one seed: the paper's readable form, the reference of the tests and the
benchmark.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .settings import VARIANTS

NAMES = ("tok", "pos", "qkv", "ln_w", "ln_b", "w1", "b1", "w2", "b2")
Params = dict[str, torch.Tensor]


@dataclass(frozen=True)
class Arch:
    """Sizes: sequence length L, alphabet T, model dimension d, MLP hidden width."""

    L: int = 10
    T: int = 15
    d: int = 64
    hidden: int = 128

    @property
    def d_sem(self) -> int:
        """Token-embedding dimensions (the first half of e)."""
        return self.d // 2

    @property
    def classes(self) -> int:
        return self.L + 1


def init_params(arch: Arch, seed: int, dtype: torch.dtype = torch.float32) -> Params:
    """One model's weights, PyTorch's default initialisations, from `seed` alone.

    Embeddings N(0, 1); linear weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in));
    LayerNorm weight 1, bias 0.
    """
    g = torch.Generator().manual_seed(int(seed))
    d, h, C = arch.d, arch.hidden, arch.classes

    def uniform(fan_in: int, *shape: int) -> torch.Tensor:
        bound = 1 / math.sqrt(fan_in)
        return (torch.rand(*shape, generator=g, dtype=torch.float64) * 2 - 1) * bound

    p = {
        "tok": torch.randn(arch.T, arch.d_sem, generator=g, dtype=torch.float64),
        "pos": torch.randn(arch.L, d - arch.d_sem, generator=g, dtype=torch.float64),
        "qkv": uniform(d, d, 3 * d),
        "ln_w": torch.ones(d, dtype=torch.float64),
        "ln_b": torch.zeros(d, dtype=torch.float64),
        "w1": uniform(d, d, h),
        "b1": uniform(d, h),
        "w2": uniform(h, h, C),
        "b2": uniform(h, C),
    }
    return {k: v.to(dtype) for k, v in p.items()}


def stack(params: list[Params]) -> Params:
    """Stack per-model weights along a new leading model axis."""
    return {k: torch.stack([p[k] for p in params]) for k in NAMES}


def unstack(params: Params) -> list[Params]:
    """The per-model weights of stacked ones."""
    M = params["tok"].shape[0]
    return [{k: params[k][i] for k in NAMES} for i in range(M)]


def qk_mask(arch: Arch, variant: str) -> torch.Tensor:
    """0/1 vector over the embedding dimensions that the query and key see."""
    if variant not in VARIANTS:
        raise ValueError(f"variant {variant!r}: must be one of {', '.join(VARIANTS)}")
    m = torch.ones(arch.d)
    if variant == "semantic":
        m[arch.d_sem:] = 0
    elif variant == "positional":
        m[: arch.d_sem] = 0
    return m


def qkv_mask(masks: torch.Tensor) -> torch.Tensor:
    """(M, d, 3d) multiplier of W_qkv: mask m on the rows of W_q and W_k, ones for W_v."""
    M, d = masks.shape
    qk = masks[:, :, None].expand(M, d, 2 * d)
    return torch.cat([qk, torch.ones(M, d, d, dtype=masks.dtype, device=masks.device)], -1)


def project(p: Params, qkv_m: torch.Tensor, x: torch.Tensor) -> list[torch.Tensor]:
    """q, k, v = e (m * W_q), e (m * W_k), e W_v for x of shape (M, B, L), each (M B, L, d).

    e is linear in the two embeddings, so the T token rows and the L position rows are
    projected first and summed into tables over the T L (token, position) pairs, from which
    one gather per table serves every model: no (M, B, L, d) embedding and no separate adds.
    (The gather is `index_select`, whose backward, unlike `F.embedding`'s on CUDA, has no host
    sync and so can be captured in a CUDA graph.)
    """
    M, T, ds = p["tok"].shape
    L, d = p["pos"].shape[1], p["qkv"].shape[1]
    w = p["qkv"] * qkv_m
    table = torch.bmm(p["tok"], w[:, :ds])[:, :, None] + torch.bmm(p["pos"], w[:, ds:])[:, None]
    pair = x * L + torch.arange(L, device=x.device) + (
        torch.arange(M, device=x.device) * (T * L)).view(M, 1, 1)
    flat = pair.reshape(-1)
    return [t.reshape(M * T * L, d).index_select(0, flat).view(-1, L, d)
            for t in table.split(d, -1)]


def attention(p: Params, qkv_m: torch.Tensor, x: torch.Tensor, weights: bool = False):
    """o = softmax(q k^T / sqrt(d)) v, shape (M, B L, d); also A (M, B, L, L) if `weights`."""
    M, B, L = x.shape
    d = p["qkv"].shape[1]
    q, k, v = project(p, qkv_m, x)
    if weights or x.device.type == "cpu":  # CPU: SDPA's math path adds checks, no fusion
        a = torch.softmax(torch.bmm(q, k.transpose(1, 2)) / math.sqrt(d), -1)
        return torch.bmm(a, v).view(M, B * L, d), (a.view(M, B, L, L) if weights else None)
    return F.scaled_dot_product_attention(q, k, v).view(M, B * L, d), None


def readout(p: Params, o: torch.Tensor) -> torch.Tensor:
    """LayerNorm, ReLU MLP and linear read-out: logits (M, B*L, classes)."""
    d = o.shape[-1]
    h = torch.addcmul(p["ln_b"][:, None], F.layer_norm(o, (d,)), p["ln_w"][:, None])
    z = torch.relu(torch.baddbmm(p["b1"][:, None], h, p["w1"]))
    return torch.baddbmm(p["b2"][:, None], z, p["w2"])


def forward(p: Params, qkv_m: torch.Tensor, x: torch.Tensor, weights: bool = False):
    """Logits (M, B, L, classes) of every model on its inputs x (M, B, L); A if `weights`."""
    M, B, L = x.shape
    o, a = attention(p, qkv_m, x, weights)
    logits = readout(p, o).view(M, B, L, -1)
    return (logits, a) if weights else logits


def losses(p: Params, qkv_m: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-model mean cross-entropy over the batch and positions, shape (M,)."""
    logits = forward(p, qkv_m, x)
    M = logits.shape[0]
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="none")
    return ce.view(M, -1).mean(1)


class HistogramTransformer(nn.Module):
    """One model as a plain module: the paper's readable form (reference for tests/bench)."""

    def __init__(self, arch: Arch, params: Params, variant: str) -> None:
        super().__init__()
        d = arch.d
        self.arch = arch
        self.tok = nn.Embedding(arch.T, arch.d_sem)
        self.pos = nn.Embedding(arch.L, d - arch.d_sem)
        self.q, self.k, self.v = (nn.Linear(d, d, bias=False) for _ in range(3))
        self.norm = nn.LayerNorm(d)
        self.mlp = nn.Linear(d, arch.hidden)
        self.out = nn.Linear(arch.hidden, arch.classes)
        self.register_buffer("mask", qk_mask(arch, variant))
        self.to(params["tok"].dtype)
        with torch.no_grad():
            self.tok.weight.copy_(params["tok"])
            self.pos.weight.copy_(params["pos"])
            for lin, w in zip((self.q, self.k, self.v), params["qkv"].split(d, -1), strict=True):
                lin.weight.copy_(w.T)
            self.norm.weight.copy_(params["ln_w"])
            self.norm.bias.copy_(params["ln_b"])
            self.mlp.weight.copy_(params["w1"].T)
            self.mlp.bias.copy_(params["b1"])
            self.out.weight.copy_(params["w2"].T)
            self.out.bias.copy_(params["b2"])

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        pos = self.pos(torch.arange(x.shape[1], device=x.device)).expand(x.shape[0], -1, -1)
        return torch.cat([self.tok(x), pos], -1)

    def attention_weights(self, e: torch.Tensor) -> torch.Tensor:
        """A = softmax(q k^T / sqrt(d)) of embedded inputs e (B, L, d)."""
        q, k = self.q(e * self.mask), self.k(e * self.mask)
        return torch.softmax(q @ k.transpose(1, 2) / math.sqrt(self.arch.d), -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e = self.embed(x)
        o = self.attention_weights(e) @ self.v(e)
        return self.out(torch.relu(self.mlp(self.norm(o))))

    def params(self) -> Params:
        """The weights in the stacked layout of `init_params` (detached copies)."""
        p = {
            "tok": self.tok.weight, "pos": self.pos.weight,
            "qkv": torch.cat([self.q.weight.T, self.k.weight.T, self.v.weight.T], -1),
            "ln_w": self.norm.weight, "ln_b": self.norm.bias,
            "w1": self.mlp.weight.T, "b1": self.mlp.bias,
            "w2": self.out.weight.T, "b2": self.out.bias,
        }
        return {k: v.detach().clone() for k, v in p.items()}
