"""The command line: outputs, precedence of options, and one-line errors with exit code 2."""

import json
import subprocess
import sys

import pytest

from attnphase.cli import main

SMALL = ["--d", "30", "--test-samples", "500"]


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_train_json_has_the_metrics(capsys):
    code, out, _ = run(["train", *SMALL, "--alpha", "2", "--json"], capsys)
    res = json.loads(out)
    for key in ("eps_g", "eps_t", "m", "theta", "q", "grad_norm", "converged", "steps", "wall_s",
                "init", "solver", "n", "d", "omega", "sigma", "lam", "seed", "config", "version"):
        assert key in res
    assert code == 0 and res["n"] == 60 and res["converged"]


def test_config_file_and_option_precedence(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("d: 30\nomega: 0.1\nlam: 0.5\ntest_samples: 300\n")
    code, out, _ = run(["train", "--config", str(cfg), "--lam", "0.2", "--json"], capsys)
    res = json.loads(out)
    assert code == 0 and res["omega"] == 0.1 and res["lam"] == 0.2 and res["d"] == 30


def test_generate_train_from_file_and_linear(tmp_path, capsys):
    path = tmp_path / "d.npz"
    assert run(["generate", "--d", "20", "--n", "50", "--out", str(path)], capsys)[0] == 0
    code, out, _ = run(["train", "--data", str(path), "--n-train", "30", "--test-samples", "200",
                        "--init", "positional", "--json"], capsys)
    assert code == 0 and json.loads(out)["n"] == 30
    code, out, _ = run(["linear", "--data", str(path), "--json", "--test-samples", "200"], capsys)
    res = json.loads(out)
    assert code == 0 and len(res["B"]) == 2 and res["eps_g_lin"] > 0


def test_preset_assignment_writes_two_sets(tmp_path, capsys, monkeypatch):
    import attnphase.data as data

    written = []
    monkeypatch.setattr(data, "write", lambda cfg, path: written.append((cfg, path))
                        or path.write_bytes(b"x"))
    assert run(["generate", "--preset", "assignment", "--out", str(tmp_path)], capsys)[0] == 0
    assert [(c.d, c.n_samples) for c, _ in written] == [(100, 220), (1000, 2200)]


@pytest.mark.parametrize(
    "args, needle",
    [
        (["train", "--omega", "1.5"], "omega = 1.5"),
        (["train", "--omega", "nan"], "omega = nan"),
        (["train", "--sigma", "0"], "sigma = 0.0"),
        (["train", "--sigma", "inf"], "sigma = inf"),
        (["train", "--d", "0"], "d = 0"),
        (["train", "--alpha", "-1"], "alpha = -1.0"),
        (["train", "--n-train", "0"], "n = 0"),
        (["train", "--L", "1"], "L = 1"),
        (["train", "--rank", "0"], "rank = 0"),
        (["train", "--lam", "-0.1"], "lam = -0.1"),
        (["train", "--init", "informed"], "init = 'informed'"),
        (["train", "--solver", "sgd"], "solver = 'sgd'"),
        (["train", "--device", "tpu"], "device = 'tpu'"),
        (["train", "--A", "0.5,0.6,0.7,0.3"], "rows must sum to 1"),
        (["train", "--A", "1,0,0"], "got 3 numbers, expected 4"),
        (["train", "--A=-0.5,1.5,0.5,0.5"], "rows must be non-negative"),
        (["train", "--A", "nan,1,0.5,0.5"], "finite"),
        (["train", "--L", "3"], "A is required for L = 3"),
        (["train", "--d", "abc"], "invalid int value: 'abc'"),
        (["train", "--data", "/nonexistent.npz"], "no such file"),
        (["train", "--config", "/nonexistent.yaml"], "no such file"),
        (["generate", "--d", "10"], "--out"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, needle, capsys, tmp_path):
    with pytest.raises(SystemExit) if "abc" in args else _nullcontext() as exc:
        code, _, err = run(args, capsys)
    if exc is not None and hasattr(exc, "value"):
        code, err = exc.value.code, capsys.readouterr().err
    assert code == 2
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_unknown_config_field_and_bad_yaml(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("omegaa: 0.3\n")
    code, _, err = run(["train", "--config", str(bad)], capsys)
    assert code == 2 and "unknown field 'omegaa'" in err
    bad.write_text("d: [1,\n")
    code, _, err = run(["train", "--config", str(bad)], capsys)
    assert code == 2 and "not valid YAML" in err


def test_data_file_problems_and_nothing_written(tmp_path, capsys):
    path = tmp_path / "d.npz"
    run(["generate", "--d", "10", "--n", "20", "--out", str(path)], capsys)
    code, _, err = run(["train", "--data", str(path), "--n-train", "21"], capsys)
    assert code == 2 and "--n-train 21" in err
    code, _, err = run(["train", "--data", str(path), "--omega", "0.1"], capsys)
    assert code == 2 and "--omega" in err
    trunc = tmp_path / "t.npz"
    trunc.write_bytes(path.read_bytes()[:300])
    code, _, err = run(["train", "--data", str(trunc)], capsys)
    assert code == 2 and "not a readable .npz" in err
    out = tmp_path / "never.npz"
    code, _, _ = run(["generate", "--d", "10", "--omega", "7", "--out", str(out)], capsys)
    assert code == 2 and sorted(p.name for p in tmp_path.iterdir()) == ["d.npz", "t.npz"]


def test_console_script_runs_without_traceback():
    proc = subprocess.run([sys.executable, "-m", "attnphase.cli", "train", "--omega", "2"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.strip() == (
        "attnphase: error: omega = 2.0: must be in [0.0, 1.0]")


class _nullcontext:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def test_configs_ship_inside_the_package(tmp_path, monkeypatch):
    """The figures' sweep configs are package resources, found from any working directory."""
    from attnphase.config import config_resource
    from attnphase.reproduce import config_path
    from attnphase.sweep import load_spec

    monkeypatch.chdir(tmp_path)
    for quick in (True, False):
        for target in ("fig2", "fig3", "concentration"):
            path = config_path(target, quick)
            assert path.is_file() and path.parent.parent == config_resource()
            assert load_spec(path).configs


@pytest.mark.parametrize("argv, banned", [
    (["--help"], ["torch", "numpy", "pandas", "matplotlib"]),
    (["theory", "curve", "--alphas", "1", "--branch", "trivial", "--json"], ["torch"]),
    (["train", "--d", "20", "--test-samples", "200", "--json"],
     ["pandas", "matplotlib", "scipy", "attnphase.theory", "attnphase.figures"]),
])
def test_each_command_imports_only_what_it_needs(argv, banned):
    code = ("import sys\nfrom attnphase.cli import main\n"
            f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
            f"print(sorted(m for m in {banned!r} if m in sys.modules), file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stderr.strip().splitlines()[-1] == "[]", proc.stderr


def test_every_listed_command_is_registered_by_its_module():
    """COMMANDS is the one list: each module's register(subparsers) adds exactly its names."""
    import importlib

    from attnphase.cli import COMMANDS
    from attnphase.options import Parser

    for module in {c.module for c in COMMANDS.values()}:
        sub = Parser(prog="attnphase").add_subparsers(dest="command")
        importlib.import_module(module).register(sub)
        assert set(sub.choices) == {n for n, c in COMMANDS.items() if c.module == module}
