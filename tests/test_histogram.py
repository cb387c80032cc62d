"""The histogram task (Fig. 1): labels, masks, the batched trainer against the paper's loop,
the batch stream, resuming, the positional/semantic score and the stability check's map."""

import math

import numpy as np
import pytest
import torch

from attnphase.errors import InputError
from attnphase.histogram.model import (
    NAMES,
    Arch,
    HistogramTransformer,
    forward,
    init_params,
    qk_mask,
    qkv_mask,
    stack,
)
from attnphase.histogram.runs import RunStore
from attnphase.histogram.score import permutations, score_from_maps, scores
from attnphase.histogram.settings import HistSettings, from_dict
from attnphase.histogram.stability import to_full
from attnphase.histogram.task import count_labels, make_data, sample_sequences
from attnphase.histogram.train import Job, OptimSpec, batch_indices, paper_loop, train

ARCH = Arch()
F64 = torch.float64


@pytest.fixture(scope="module")
def data():
    return make_data(10, 15, 1000, 0.7, 0)


def batched(runs, dtype=F64):
    """Stacked weights and masks of (variant, seed) runs."""
    params = stack([init_params(ARCH, s, dtype) for _, s in runs])
    masks = torch.stack([qk_mask(ARCH, v) for v, _ in runs]).to(dtype)
    return params, masks


# ------------------------------------------------------------------------------ task
def test_labels_are_direct_counts():
    x = sample_sequences(10, 15, 200, seed=4)
    y = count_labels(x).numpy()
    for i in range(len(x)):
        for l in range(10):
            assert y[i, l] == sum(1 for j in range(10) if x[i, j] == x[i, l])
    assert y.min() >= 1 and y.max() <= 10


def test_sequences_distinct_uniform_and_seeded():
    x = sample_sequences(3, 4, 60, seed=1)  # 64 possible: forces de-duplication
    assert len({tuple(r) for r in x.tolist()}) == 60
    np.testing.assert_array_equal(x, sample_sequences(3, 4, 60, seed=1))
    big = sample_sequences(10, 15, 20000, seed=2)
    # each token has frequency 1/15; 200,000 draws: std of a frequency is 5.6e-4
    freq = np.bincount(big.ravel(), minlength=15) / big.size
    assert np.abs(freq - 1 / 15).max() < 5 * math.sqrt((1 / 15) * (14 / 15) / big.size)
    with pytest.raises(InputError, match="n_sequences"):
        sample_sequences(2, 2, 5, 0)


def test_split_sizes(data):
    assert data.x_train.shape == (700, 10) and data.x_val.shape == (300, 10)
    assert torch.equal(data.y_val, count_labels(data.x_val))


# ------------------------------------------------------------------------------ masks
@pytest.mark.parametrize("variant, masked", [("semantic", "pos"), ("positional", "tok")])
def test_masked_half_has_zero_gradient_of_attention_scores(variant, masked, data):
    """d(scores)/d(masked half of the embedding) = 0, and != 0 for the kept half."""
    model = HistogramTransformer(ARCH, init_params(ARCH, 0, F64), variant)
    e = model.embed(data.x_val[:8]).detach().requires_grad_(True)
    q, k = model.q(e * model.mask), model.k(e * model.mask)
    scores_ = q @ k.transpose(1, 2)
    weights = torch.randn(scores_.shape, generator=torch.Generator().manual_seed(0), dtype=F64)
    (grad,) = torch.autograd.grad((scores_ * weights).sum(), e)
    half = ARCH.d_sem
    masked_part = grad[..., half:] if masked == "pos" else grad[..., :half]
    kept_part = grad[..., :half] if masked == "pos" else grad[..., half:]
    assert masked_part.abs().max() == 0 and kept_part.abs().max() > 1e-3


@pytest.mark.parametrize("variant, masked", [("semantic", "pos"), ("positional", "tok")])
def test_batched_attention_ignores_the_masked_embedding(variant, masked, data):
    """Stacked form: attention weights have zero gradient w.r.t. the masked embedding."""
    params, masks = batched([(variant, 0)])
    for p in params.values():
        p.requires_grad_(True)
    x = data.x_val[None, :16]
    _, a = forward(params, qkv_mask(masks), x, weights=True)
    weights = torch.randn(a.shape, generator=torch.Generator().manual_seed(1), dtype=F64)
    other = "tok" if masked == "pos" else "pos"
    g_masked, g_kept = torch.autograd.grad((a * weights).sum(), [params[masked], params[other]])
    assert g_masked.abs().max() == 0 and g_kept.abs().max() > 1e-4


def test_batched_logits_equal_the_module(data):
    runs = [("semantic", 0), ("positional", 1), ("both", 2)]
    params, masks = batched(runs)
    x = data.x_val[:50]
    logits = forward(params, qkv_mask(masks), x.expand(3, *x.shape))
    for i, (v, s) in enumerate(runs):
        ref = HistogramTransformer(ARCH, init_params(ARCH, s, F64), v)(x)
        torch.testing.assert_close(logits[i], ref, rtol=0, atol=1e-12)


# ------------------------------------------------------------------------------ training
@pytest.mark.parametrize("kind", ["adam", "sgd"])
def test_batched_training_equals_one_at_a_time(kind, data):
    """Six models (3 variants x 2 seeds) trained together end where the paper's loop (one
    nn.Module, torch.optim, loss.backward()) takes each seed alone, on the same batches.

    float64: the two paths differ only in summation order (~1e-16 per operation); Adam
    divides by sqrt(v) + eps, which can enlarge such differences for coordinates with tiny
    gradients by up to lr / eps per step, which stays far below the 1e-10 allowed after 30
    steps (2e-14 measured)."""
    runs = [(v, s) for v in ("semantic", "positional", "both") for s in (0, 1)]
    spec = OptimSpec(kind, lr=1e-3 if kind == "adam" else 0.05)
    params, masks = batched(runs)
    job = Job(params, masks, [s for _, s in runs], [np.arange(len(data.x_train))] * len(runs))
    train(job, data.x_train, data.y_train, spec, 30, 32, [], data.x_val, data.y_val,
          progress=False)
    moved = 0.0
    for i, (v, s) in enumerate(runs):
        model = HistogramTransformer(ARCH, init_params(ARCH, s, F64), v)
        paper_loop(model, data.x_train, data.y_train, s, 30, 32, spec)
        ref = model.params()
        for k in NAMES:
            torch.testing.assert_close(params[k][i].detach(), ref[k], rtol=0, atol=1e-10)
            moved = max(moved, float((ref[k] - init_params(ARCH, s, F64)[k]).abs().max()))
    assert moved > 1e-3  # the comparison is not of untrained weights


def test_batch_stream_is_epochs_of_permutations():
    n, b = 50, 8
    stream = batch_indices(3, n, b, 0, 25).ravel()  # 200 = 4 epochs
    for e in range(4):
        assert sorted(stream[e * n:(e + 1) * n].tolist()) == list(range(n))
    np.testing.assert_array_equal(batch_indices(3, n, b, 10, 5).ravel(), stream[80:120])
    assert not np.array_equal(stream[:n], batch_indices(4, n, b, 0, 7).ravel()[:n])


def test_resume_from_checkpoint_equals_straight_run(data):
    runs = [("semantic", 0), ("positional", 1)]
    pools = [np.arange(len(data.x_train))] * 2
    args = (data.x_train, data.y_train, OptimSpec(), 24, 32)
    straight, masks = batched(runs)
    train(Job(straight, masks, [0, 1], pools), *args, [12, 24], data.x_val, data.y_val,
          progress=False)
    saved = []
    first, _ = batched(runs)
    train(Job(first, masks, [0, 1], pools), *args[:3], 12, 32, [12], data.x_val, data.y_val,
          progress=False)
    part, _ = batched(runs)
    train(Job(part, masks, [0, 1], pools), *args, [12, 24], data.x_val, data.y_val,
          progress=False, checkpoint=saved.append, checkpoint_s=0)
    assert saved and saved[0]["step"] == 12
    resumed, _ = batched(runs)
    curves = train(Job(resumed, masks, [0, 1], pools), *args, [12, 24], data.x_val,
                   data.y_val, progress=False, resume=saved[0])
    assert curves.step == [12, 24]
    for k in NAMES:
        torch.testing.assert_close(resumed[k], straight[k], rtol=0, atol=1e-12)
        torch.testing.assert_close(saved[0]["params"][k], first[k].detach(), rtol=0, atol=1e-12)


# ------------------------------------------------------------------------------ score
def test_score_positional_zero_semantic_one(data):
    params, masks = batched([("positional", 0), ("semantic", 0), ("both", 0)])
    s = scores(params, masks, data.x_val[:200])
    assert s[0] == 0 and abs(s[1] - 1) < 1e-9 and 0 < s[2] < 1


def test_score_from_maps_on_ideal_patterns():
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 4, (100, 6), generator=g)
    pi = permutations(100, 6, seed=1)
    xp = x.gather(1, pi)

    def semantic(z):  # row l uniform over the positions with the same token
        same = (z[:, :, None] == z[:, None, :]).double()
        return (same / same.sum(-1, keepdim=True))[None]

    fixed = torch.softmax(torch.randn(6, 6, generator=g, dtype=F64), -1).expand(1, 100, 6, 6)
    assert score_from_maps(fixed, fixed, pi)[0] == 0
    assert abs(score_from_maps(semantic(x), semantic(xp), pi)[0] - 1) < 1e-12
    mixed = score_from_maps(0.5 * fixed + 0.5 * semantic(x), 0.5 * fixed + 0.5 * semantic(xp),
                            pi)[0]
    assert 0.2 < mixed < 0.8
    uniform = torch.full((1, 100, 6, 6), 1 / 6, dtype=F64)
    assert math.isnan(score_from_maps(uniform, uniform, pi)[0])


# ------------------------------------------------------------------------------ stability
@pytest.mark.parametrize("variant", ["semantic", "positional"])
def test_masked_model_written_into_full_model_is_the_same_function(variant, data):
    p = {k: v.clone() for k, v in init_params(ARCH, 3, F64).items()}
    p["qkv"] += 0.3  # masked rows that are far from zero
    full = {k: v[None] for k, v in to_full(p, ARCH, variant).items()}
    x = data.x_val[None, :40]
    masked = forward({k: v[None] for k, v in p.items()},
                     qkv_mask(qk_mask(ARCH, variant)[None].to(F64)), x)
    unmasked = forward(full, qkv_mask(torch.ones(1, ARCH.d, dtype=F64)), x)
    torch.testing.assert_close(unmasked, masked, rtol=0, atol=1e-12)


# ------------------------------------------------------------------------------ settings, store
def test_settings_parse_and_reject():
    s = from_dict({"seeds": "2:4", "transition_seeds": 2, "variants": "semantic,both"})
    assert s.seeds == [2, 3, 4] and s.transition_seeds == [0, 1]
    assert s.variants == ["semantic", "both"] and s.n_train == 35000
    for bad, match in (({"variants": ["semantics"]}, "variants"), ({"d_model": 63}, "d_model"),
                       ({"beta2": 1.0}, "beta2"), ({"dtype": "half"}, "dtype"),
                       ({"epochs": -1}, "epochs"), ({"nope": 1}, "unknown field 'nope'"),
                       ({"seeds": [1, 1]}, "seeds")):
        with pytest.raises(InputError, match=match):
            from_dict(bad)
    assert HistSettings().epochs == 200


def test_run_store_roundtrip(tmp_path):
    store = RunStore(tmp_path, "study")
    params = {k: v[None].expand(3, *v.shape)[1] for k, v in init_params(ARCH, 0).items()}
    assert not store.has("a")
    store.save("a", {"key": "a", "val_acc": 0.5}, params)
    assert store.has("a") and store.record("a")["val_acc"] == 0.5
    back = store.params("a")
    assert all(torch.equal(back[k], params[k]) for k in NAMES)
    assert (tmp_path / "study" / "a.pt").stat().st_size < 200_000  # no stacked storage saved
    store.save_checkpoint(["a", "b"], {"step": 3})
    assert store.load_checkpoint(["a", "b"])["step"] == 3
    assert store.load_checkpoint(["a"]) is None
    store.clear_checkpoint(["a", "b"])
    assert store.load_checkpoint(["a", "b"]) is None
