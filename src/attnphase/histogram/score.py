"""Is a model's attention positional or semantic? A score from its attention matrices.

A positional pattern is the same matrix for every input; a semantic one follows the tokens
wherever they stand. Reordering the tokens of an input x by a permutation pi (x'_l = x_pi(l))
tells the two apart: a positional map is *invariant*, A(x') = A(x); a semantic map is
*equivariant*, A(x')_{lj} = A(x)_{pi(l) pi(j)} (the same pairs of tokens, moved). Over N
validation inputs, each with its own random pi,

    e_pos = mean ||A(x') - A(x)||_F^2,   e_sem = mean ||A(x') - A(x)[pi, pi]||_F^2,
    score = e_pos / (e_pos + e_sem)   in [0, 1].

score = 0 exactly for a positional map (masked to the positional half) and 1 for a map
computed from token identities alone (masked to the token half); a model is called semantic
when score >= threshold (default 0.5). A map that is both invariant and equivariant (e.g.
uniform) has no defined score (NaN, counted as not semantic). See docs/histogram.md.
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


def permutations(n: int, L: int, seed: int = 0) -> torch.Tensor:
    """n random permutations of 0..L-1 (seeded), shape (n, L)."""
    g = torch.Generator().manual_seed(seed)
    return torch.argsort(torch.rand(n, L, generator=g), -1)


def permute_maps(maps: torch.Tensor, pi: torch.Tensor) -> torch.Tensor:
    """A[pi, pi] for each input: (M, N, L, L) maps, (N, L) permutations."""
    M, N, L, _ = maps.shape
    rows = pi[None, :, :, None].expand(M, N, L, L)
    cols = pi[None, :, None, :].expand(M, N, L, L)
    return maps.gather(2, rows).gather(3, cols)


def scores(params: Params, masks: torch.Tensor, x: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """The positional (0) to semantic (1) score of every model on inputs x (N, L)."""
    pi = permutations(len(x), x.shape[1], seed).to(x.device)
    return score_from_maps(attention_maps(params, masks, x),
                           attention_maps(params, masks, x.gather(1, pi)), pi)


def score_from_maps(maps: torch.Tensor, maps_perm: torch.Tensor,
                    pi: torch.Tensor) -> torch.Tensor:
    """e_pos / (e_pos + e_sem) per model from A(x), A(x') and the permutations."""
    e_pos = (maps_perm - maps).pow(2).sum((2, 3)).mean(1)
    e_sem = (maps_perm - permute_maps(maps, pi)).pow(2).sum((2, 3)).mean(1)
    total = e_pos + e_sem
    return torch.where(total > 0, e_pos / total.clamp_min(1e-300),
                       torch.full_like(total, float("nan"))).cpu()
