"""Cross-validation of lambda and lambda_lin."""

import json

import numpy as np
import pytest
import torch

from attnphase.cli import main
from attnphase.config import Config
from attnphase.cv import CVResult, cross_validate, fold_indices, linear_curve
from attnphase.data import Dataset, generate
from attnphase.errors import InputError
from attnphase.experiment import train
from attnphase.teacher import attention


def test_folds_partition_the_samples():
    folds = fold_indices(11, 3)
    assert [len(f) for f in folds] == [4, 4, 3]
    np.testing.assert_array_equal(np.concatenate(folds), np.arange(11))
    with pytest.raises(InputError, match="--folds 1"):
        fold_indices(10, 1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_linear_cv_finds_the_bayes_optimal_ridge(seed):
    """Y = B0 Z + noise with B0 entries N(0, tau^2), noise N(0, s^2): the ridge of this package,
    sum ||B Z - Y||^2 / (2d) + (lam/2) ||B||^2, is the posterior mean at lam* = s^2 / (d tau^2),
    whatever the number of samples, so it minimises the expected validation error. With
    L^2 = 400 coefficients the minimiser concentrates: CV must pick lam* on a grid spaced by
    a factor 1.78 around it (validating on the training folds would pick the smallest)."""
    L, d, n, s, lam_star = 20, 50, 40, 1.0, 32.0
    tau = s / np.sqrt(d * lam_star)
    rng = np.random.default_rng(seed)
    B0 = tau * rng.standard_normal((L, L))
    Z = rng.standard_normal((n, L, d))
    Y = np.einsum("lk,nkd->nld", B0, Z) + s * rng.standard_normal((n, L, d))
    grid = (lam_star * np.logspace(-2, 2, 17)).tolist()
    curve = linear_curve(torch.from_numpy(Z), torch.from_numpy(Y), grid, folds=5)
    assert curve.best == pytest.approx(lam_star)
    assert curve.mean[0] > min(curve.mean) and curve.mean[-1] > min(curve.mean)  # U-shaped


def test_student_validation_error_is_the_held_out_error_of_the_fold_fit():
    """Fold k's model, trained independently by `train` on the other folds' samples, and scored
    directly on fold k, gives the CV curve's value (mean over the two folds)."""
    cfg = Config(d=20, alpha=3.0, seed=4, test_samples=200)
    ds = generate(cfg)
    result = cross_validate(cfg, [0.003, 0.3], [1e-4], folds=2, data=ds)
    X, Y = ds.X, ds.Y
    for init in ("semantic", "positional"):
        errs = np.zeros(2)
        for val in fold_indices(ds.n, 2):
            rest = np.setdiff1d(np.arange(ds.n), val)
            part = Dataset(X[rest], Y[rest], ds.Q_star, ds.P, ds.A, ds.meta)
            for j, lam in enumerate((0.003, 0.3)):
                res = train(cfg.replace(init=init, lam=lam, n=len(rest)), data=part)
                h = torch.from_numpy(X[val] @ res.Q / np.sqrt(cfg.d))
                Yhat = attention(h).numpy() @ X[val]
                errs[j] += np.mean(((Yhat - Y[val]) ** 2).sum((1, 2)) / (2 * cfg.d)) / 2
        np.testing.assert_allclose(result.student[init].mean, errs, rtol=1e-5)


def test_student_cv_prefers_a_small_lambda_to_a_crushing_one():
    """At alpha = 3 the semantic minimiser beats Q = 0 (uniform attention, lam -> infinity)."""
    cfg = Config(d=30, alpha=3.0, seed=1)
    result = cross_validate(cfg, [0.001, 0.01, 100.0], [1e-4, 1.0], folds=3)
    assert result.chosen["lam_semantic"] < 100.0
    assert result.chosen["lam_global"] < 100.0
    assert result.student["semantic"].mean[-1] > result.student["semantic"].mean[0]


def test_cli_cv_lambda_stores_and_plots(tmp_path, capsys):
    out = tmp_path / "cv.json"
    code = main(["cv-lambda", "--d", "20", "--alpha", "2", "--lams", "log:0.001:1:3",
                 "--lam-lins", "1e-4,1", "--folds", "3", "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    saved = json.loads(out.read_text())
    assert set(saved["chosen"]) == {"lam_semantic", "lam_positional", "lam_global", "lam_lin"}
    assert saved["student"]["semantic"]["values"] == pytest.approx([0.001, 0.03162, 1.0],
                                                                    rel=1e-3)
    assert json.dumps(saved["chosen"]) in text
    loaded = CVResult.load(out)
    assert loaded.chosen == saved["chosen"]
    assert main(["figure", "lambda-cv", "--cv", str(out), "--out", str(tmp_path)]) == 0
    assert (tmp_path / "lambda_cv.png").stat().st_size > 1000
    assert (tmp_path / "lambda_cv.pdf").exists()


@pytest.mark.parametrize("argv, match", [
    (["--lams", "log:0:1:3"], "--lams"),
    (["--lam-lins", "x"], "--lam-lins"),
    (["--folds", "1"], "--folds"),
])
def test_cli_cv_lambda_bad_input(argv, match, tmp_path, capsys):
    code = main(["cv-lambda", "--d", "10", "--alpha", "1", *argv, "--out",
                 str(tmp_path / "c.json")])
    assert code == 2
    assert match in capsys.readouterr().err
    assert not (tmp_path / "c.json").exists()


def test_figure_lambda_cv_refuses_a_bad_file(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert main(["figure", "lambda-cv", "--cv", str(bad), "--out", str(tmp_path)]) == 2
    assert "not a JSON file written by" in capsys.readouterr().err
