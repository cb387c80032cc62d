"""The `theory` sub-commands, through a parser built as the main CLI builds it."""

import argparse
import json

import pytest

from attnphase.errors import InputError
from attnphase.theory.cli import register


def run(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers()
    register(sub)
    args = p.parse_args(argv)
    return args.func(args)


def test_curve_json(capsys):
    assert run(["theory", "curve", "--alphas", "2", "--branch", "semantic", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 1
    r = rows[0]
    for key in ("alpha", "branch", "q", "m", "theta", "V", "eps_g", "eps_t", "converged"):
        assert key in r
    assert r["branch"] == "semantic" and r["converged"] is True
    assert r["eps_g"] == pytest.approx(0.001405, rel=3e-3)


def test_curve_with_appendix_A(capsys):
    assert run(["theory", "curve", "--alphas", "1.5", "--branch", "semantic", "--A",
                "appendix", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["converged"] is True
    assert run(["theory", "curve", "--alphas", "1.5", "--branch", "semantic", "--A",
                "0.3,0.7,0.8,0.2", "--json"]) == 0
    (same,) = json.loads(capsys.readouterr().out)
    assert same["eps_t"] == row["eps_t"]


def test_curve_csv_and_table(tmp_path, capsys):
    out = tmp_path / "c.csv"
    assert run(["theory", "curve", "--alphas", "1.9,2", "--branch", "trivial",
                "--csv", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0].startswith("alpha,omega,sigma,lam,branch,q,m,theta,V,eps_g,eps_t")
    assert len(lines) == 3
    capsys.readouterr()
    assert run(["theory", "curve", "--alphas", "2", "--branch", "trivial"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert "eps_g" in table[0] and "trivial" in table[1]


def test_boundary_json(capsys):
    assert run(["theory", "boundary", "--omegas", "0.3", "--alphas-range", "1.1:1.4",
                "--n-alpha", "3", "--no-spinodals", "--no-multistart", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert set(row) >= {"omega", "alpha_c", "alpha_l", "semantic_end", "positional_end"}
    assert 1.2 <= row["alpha_c"] <= 1.3
    assert row["alpha_l"] is None  # alpha_l ~ 1.49 lies outside 1.1:1.4


def test_boundary_error_bars(capsys):
    """--error: the value at quad + 2, the bar its change from quad (a convergence study)."""
    assert run(["theory", "boundary", "--omegas", "0.3", "--alphas-range", "1.1:1.4",
                "--n-alpha", "3", "--no-spinodals", "--no-multistart", "--quad", "6",
                "--error", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert 1.2 <= row["alpha_c"] <= 1.3
    assert 0 <= row["alpha_c_err"] < 0.03
    assert row["alpha_l_err"] is None  # no alpha_l in range


def test_plot_writes_png(tmp_path):
    out = tmp_path / "theory.png"
    assert run(["theory", "plot", "--alphas", "1.0,1.5,2.0", "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    banded = tmp_path / "banded.png"
    assert run(["theory", "plot", "--alphas", "1.0,1.5,2.0", "--quad", "6", "--error",
                "--out", str(banded)]) == 0
    assert banded.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_refine_draws_the_refined_crossings_and_bars(tmp_path, monkeypatch):
    """`plot --refine` takes alpha_c, alpha_l and their bars from `refined_boundary` (a
    stand-in here: the real one takes minutes), searched on the plotted alpha range."""
    from attnphase.theory import cli, plot
    from attnphase.theory.refined_boundary import RefinedBoundary

    seen = {}

    def fake_refined(omegas, sigma, lam, A, quad, alpha_range):
        seen["call"] = (list(omegas), sigma, lam, quad, alpha_range)
        return [RefinedBoundary(omegas[0], 1.25, 0.004, 1.5, 0.002, 1.26, 1.49, 1.241)]

    drawn = {}
    monkeypatch.setattr(cli, "refined_boundary", fake_refined)
    monkeypatch.setattr(plot, "plot_curves", lambda *a: drawn.setdefault("args", a))
    assert run(["theory", "plot", "--alphas", "1.0,1.5,2.0", "--quad", "6", "--refine",
                "--out", str(tmp_path / "r.png")]) == 0
    assert seen["call"] == ([0.3], 0.5, 0.01, 6, (1.0, 2.0))
    assert drawn["args"][4:] == (1.25, 1.5, 0.004, 0.002)
    with pytest.raises(InputError, match="refine"):
        run(["theory", "plot", "--rank", "2", "--refine", "--out", str(tmp_path / "x.png")])


@pytest.mark.parametrize("argv, word", [
    (["theory", "curve", "--omega", "1.5"], "omega"),
    (["theory", "curve", "--sigma", "0"], "sigma"),
    (["theory", "curve", "--lam", "-1"], "lam"),
    (["theory", "curve", "--alphas", "0,1"], "alphas"),
    (["theory", "curve", "--alphas", "1,nan"], "alphas"),
    (["theory", "curve", "--A", "0.5,0.6,0.4,0.6"], "A"),
    (["theory", "boundary", "--omegas", "0.3", "--alphas-range", "2:1"], "alphas-range"),
    (["theory", "plot", "--out", "x.pdf"], "out"),
    (["theory", "curve", "--prox", "side", "--branch", "trivial"], "branch trivial"),
    (["theory", "curve", "--prox", "side", "--rank", "2"], "rank 2"),
    (["theory", "curve", "--prox", "side", "--refine"], "refine"),
    (["theory", "curve", "--prox", "side", "--scrambles", "0"], "scrambles"),
    (["theory", "boundary", "--omegas", "0.3", "--prox", "side", "--error"], "error"),
    (["theory", "boundary", "--omegas", "0.3", "--prox", "side", "--rank", "2"], "rank 2"),
])
def test_bad_input_raises_input_error(argv, word):
    with pytest.raises(InputError, match=word):
        run(argv)


def test_curve_side_json(capsys, monkeypatch):
    """--prox side passes the model options and the scramblings to side_curve per branch."""
    from attnphase.theory import cli

    calls = []

    def fake(alphas, omega, sigma, lam, A, branch, scrambles):
        calls.append((alphas, omega, sigma, lam, A, branch, scrambles))
        return [{"alpha": alphas[0], "branch": branch, "converged": True}]

    monkeypatch.setattr(cli, "side_curve", fake)
    assert run(["theory", "curve", "--prox", "side", "--alphas", "0.75", "--omega", "0.1",
                "--scrambles", "3", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["branch"] for r in rows] == ["semantic", "positional"]
    assert calls[0] == ([0.75], 0.1, 0.5, 0.01, None, "semantic", 3)


def test_theory_commands_import_neither_torch_nor_matplotlib():
    """`attnphase theory curve` (numpy/scipy only) loads no torch and no matplotlib."""
    import subprocess
    import sys

    banned = ["torch", "matplotlib"]
    argv = ["theory", "curve", "--alphas", "1", "--branch", "trivial", "--json"]
    code = ("import sys\nfrom attnphase.cli import main\n"
            f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
            f"print(sorted(m for m in {banned!r} if m in sys.modules), file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stderr.strip().splitlines()[-1] == "[]", proc.stderr


def test_curve_prints_the_notes_of_points_off_their_branch(capsys):
    """sigma = 0.3: no semantic fixed point from a cold start (tests/test_theory_robust.py)."""
    assert run(["theory", "curve", "--alphas", "2", "--sigma", "0.3", "--branch", "semantic",
                "--json"]) == 0
    err = capsys.readouterr().err
    assert "note: no semantic fixed point reached from a cold start at alpha 2" in err
