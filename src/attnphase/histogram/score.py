"""How much a model's attention depends on its input: the positional/semantic score.

A positional attention pattern is the same matrix A for every input; a semantic one follows
the tokens. Over N validation inputs x, with A(x) the model's L x L attention and Abar its
mean over the inputs, the *input dependence* is

    s = mean_x ||A(x) - Abar||_F^2  /  mean_x ||S(x) - Sbar||_F^2,

where S(x) is the ideal semantic map of the counting task (row l uniform over the positions
j with x_j = x_l) on the same inputs. s = 0 exactly for a positional pattern and s = 1 for
the ideal semantic one. The *token alignment* rho is the cosine between the deviations
A(x) - Abar and S(x) - Sbar over all inputs: it says whether the input dependence that is
there follows token identity (rho near 1) or not. A model is called semantic when
s >= threshold (default 0.5). See docs/histogram.md.
"""

from __future__ import annotations

import torch

from .model import Params, forward, qkv_mask


@torch.no_grad()
def attention_maps(params: Params, masks: torch.Tensor, x: torch.Tensor,
                   chunk: int = 1024) -> torch.Tensor:
    """A(x) of every model on the same inputs x (N, L): shape (M, N, L, L), float64."""
    M = masks.shape[0]
    qm = qkv_mask(masks)
    out = [forward(params, qm, x[a:a + chunk].expand(M, *x[a:a + chunk].shape),
                   weights=True)[1].double() for a in range(0, len(x), chunk)]
    return torch.cat(out, 1)


def semantic_maps(x: torch.Tensor) -> torch.Tensor:
    """S(x): row l uniform over the positions holding the token x_l, shape (N, L, L)."""
    same = (x[:, :, None] == x[:, None, :]).double()
    return same / same.sum(-1, keepdim=True)


def input_dependence(maps: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(s, rho) per model for maps (M, N, L, L) on inputs x (N, L); see the module text."""
    dev = maps - maps.mean(1, keepdim=True)
    ref = semantic_maps(x.to(maps.device))
    rdev = ref - ref.mean(0, keepdim=True)
    ref_var = rdev.pow(2).sum((1, 2)).mean()
    var = dev.pow(2).sum((2, 3)).mean(1)
    s = var / ref_var
    cross = (dev * rdev).sum((1, 2, 3))
    norm = torch.sqrt(dev.pow(2).sum((1, 2, 3)) * rdev.pow(2).sum())
    rho = torch.where(norm > 0, cross / norm.clamp_min(1e-300), torch.zeros_like(norm))
    return s.cpu(), rho.cpu()
