"""`attnphase figure` from a tiny results store, and `attnphase reproduce` on tiny configs."""

import json

import pandas as pd
import pytest
import yaml

from attnphase import reproduce
from attnphase.cli import main
from attnphase.sweep import run_sweep
from attnphase.sweep.grid import parse_values as grid_values

TINY = {
    "fig2": {"base": {"d": 16, "omega": 0.3, "test_samples": 300},
             "grid": {"alpha": [0.5, 1.5], "init": ["semantic", "positional"], "seed": [0, 1]}},
    "fig3": {"base": {"d": 16, "test_samples": 300},
             "grid": {"alpha": [0.5, 1.5], "omega": [0.1, 0.3],
                      "init": ["semantic", "positional"], "seed": [0]}},
    "concentration": {"base": {"alpha": 1.5, "omega": 0.3, "test_samples": 300},
                      "grid": {"d": [8, 16], "init": ["semantic", "positional"],
                               "seed": [0, 1]}},
}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    db = tmp_path_factory.mktemp("store") / "runs.sqlite"
    for name, spec in TINY.items():
        run_sweep({"name": name, **spec}, db=db, progress=False)
    return db


@pytest.mark.parametrize("which", ["fig2", "fig3", "concentration"])
def test_figure_from_the_store(which, store, tmp_path, capsys):
    assert main(["figure", which, "--db", str(store), "--no-theory", "--out",
                 str(tmp_path)]) == 0
    for ext in ("png", "pdf"):
        assert (tmp_path / f"{which}.{ext}").stat().st_size > 1000
    summary = json.loads((tmp_path / f"{which}_summary.json").read_text())
    spec = TINY[which]["grid"]
    runs = 1
    for values in spec.values():
        runs *= len(values)
    assert summary["runs"] == runs
    assert f"wrote {tmp_path / (which + '.png')}" in capsys.readouterr().out


def test_figure_errors_are_one_line(store, tmp_path, capsys):
    assert main(["figure", "fig2", "--db", str(tmp_path / "none.sqlite"), "--no-theory",
                 "--out", str(tmp_path)]) == 2
    assert "no such results database" in capsys.readouterr().err
    assert main(["figure", "fig2", "--db", str(store), "--name", "nope", "--no-theory",
                 "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--name nope: no runs" in err and "fig2, fig3" in err
    assert not list(tmp_path.glob("*.png"))


def test_reproduce_quick_runs_resumes_and_draws(tmp_path, monkeypatch, capsys):
    configs = tmp_path / "configs"
    (configs / "quick").mkdir(parents=True)
    spec = {"name": "fig2-quick", **TINY["fig2"]}
    (configs / "quick" / "fig2.yaml").write_text(yaml.safe_dump(spec))
    monkeypatch.setattr(reproduce, "config_resource", lambda *parts: configs.joinpath(*parts))
    db, out = tmp_path / "r.sqlite", tmp_path / "out"
    argv = ["reproduce", "fig2", "--quick", "--no-theory", "--quiet", "--db", str(db),
            "--out", str(out)]
    assert main(argv) == 0
    csv = pd.read_csv(out / "fig2.csv")
    assert len(csv) == 8 and set(csv["name"]) == {"fig2-quick"}
    assert (out / "fig2.png").exists() and (out / "fig2.pdf").exists()
    stamp = list(csv["finished_at"])
    assert main(argv) == 0  # resumes: nothing is run again
    assert list(pd.read_csv(out / "fig2.csv")["finished_at"]) == stamp
    # `figure` finds the quick sweep by its -quick name
    assert main(["figure", "fig2", "--db", str(db), "--no-theory", "--out",
                 str(tmp_path / "f")]) == 0
    capsys.readouterr()
    assert main(["reproduce", "fig3", "--quick", "--db", str(db), "--out", str(out)]) == 2
    assert "no such sweep config" in capsys.readouterr().err


def test_configs_in_the_repository_are_valid_sweeps():
    from attnphase.sweep import load_spec

    for quick in (False, True):
        for target in reproduce.SWEPT:
            spec = load_spec(reproduce.config_path(target, quick))
            assert spec.name == target + ("-quick" if quick else "")
            inits = {c.init for c in spec.configs}
            assert inits == {"semantic", "positional"}
    fig2 = load_spec(reproduce.config_path("fig2", False)).configs
    assert {c.d for c in fig2} == {1000} and len({c.alpha for c in fig2}) == 25
    assert len({c.seed for c in fig2}) >= 5
    conc = load_spec(reproduce.config_path("concentration", False)).configs
    assert min(c.d for c in conc) == 10 and max(c.d for c in conc) >= 1000


def test_grid_values_forms():
    assert grid_values("0.1,1", "lams") == [0.1, 1.0]
    assert grid_values("0:1:3", "lams") == [0.0, 0.5, 1.0]
    assert grid_values("log:0.01:1:3", "lams") == pytest.approx([0.01, 0.1, 1.0])


@pytest.mark.slow
def test_reproduce_with_the_theory(tmp_path, monkeypatch):
    configs = tmp_path / "configs"
    (configs / "quick").mkdir(parents=True)
    spec = {"name": "fig2-quick", **TINY["fig2"]}
    (configs / "quick" / "fig2.yaml").write_text(yaml.safe_dump(spec))
    monkeypatch.setattr(reproduce, "config_resource", lambda *parts: configs.joinpath(*parts))
    monkeypatch.setattr(reproduce, "QUICK", reproduce.Scale("quick", 4, reproduce.QUICK.cv))
    out = tmp_path / "out"
    assert main(["reproduce", "fig2", "--quick", "--quiet", "--db", str(tmp_path / "r.sqlite"),
                 "--out", str(out)]) == 0
    theory = pd.read_csv(out / "fig2_theory.csv")
    assert sorted(set(theory["branch"])) == ["positional", "semantic"] and len(theory) == 8
    summary = json.loads((out / "fig2_summary.json").read_text())
    assert 1.0 < summary["alpha_c_theory"] < 1.5 and summary["alpha_c_published"] == 1.241
