"""`attnphase histogram ...` and reproduce_fig1: outputs, YAML precedence, resuming, errors."""

import json

import pytest

from attnphase.histogram.cli import main, reproduce_fig1

TINY = ["--n-sequences", "300", "--seeds", "1", "--epochs", "1", "--map-samples", "50",
        "--quiet"]


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_train_json_yaml_precedence_and_resume(tmp_path, capsys):
    cfg = tmp_path / "h.yaml"
    cfg.write_text("n_sequences: 300\nseeds: 2\nepochs: 1\nmap_samples: 50\n")
    store = tmp_path / "store"
    args = ["train", "--config", str(cfg), "--seeds", "1", "--store", str(store), "--json",
            "--quiet"]
    code, out, _ = run(args, capsys)
    rows = json.loads(out)
    assert code == 0 and [(r["variant"], r["seed"]) for r in rows] == [("semantic", 0),
                                                                       ("positional", 0)]
    assert rows[1]["score"] == 0 and abs(rows[0]["score"] - 1) < 1e-6
    files = sorted(store.rglob("*.json"))
    stamp = [f.stat().st_mtime_ns for f in files]
    code, out2, _ = run(args, capsys)  # finished runs are read, not trained again
    assert code == 0 and json.loads(out2) == rows
    assert [f.stat().st_mtime_ns for f in files] == stamp


@pytest.mark.parametrize("extra, needle", [
    (["--device", "tpu"], "device = 'tpu'"),
    (["--variants", "semantic,sideways"], "'sideways'"),
    (["--epochs", "-2"], "epochs = -2"),
    (["--config", "/nonexistent.yaml"], "--config /nonexistent.yaml"),
])
def test_bad_input_one_line_exit_2(extra, needle, tmp_path, capsys):
    code, out, err = run(["train", *TINY, "--store", str(tmp_path / "s"), *extra], capsys)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err and not (tmp_path / "s").exists()


def test_transition_needs_sizes_within_the_training_split(tmp_path, capsys):
    code, _, err = run(["transition", *TINY, "--transition-n", "100,500", "--store",
                        str(tmp_path)], capsys)
    assert code == 2 and "transition_n: 500" in err


def test_reproduce_fig1_writes_every_output(tmp_path):
    cfg = tmp_path / "fig1.yaml"
    cfg.write_text("n_sequences: 300\nseeds: 1\nepochs: 1\nstability_epochs: 1\n"
                   "transition_n: [50, 200]\ntransition_seeds: 1\ntransition_steps: 20\n"
                   "map_samples: 50\n")
    files = reproduce_fig1(tmp_path / "out", store=tmp_path / "store", progress=False,
                           config=cfg)
    names = {f.name for f in files}
    for stem in ("fig1_curves", "fig1_attention", "fig1_transition"):
        assert {f"{stem}.png", f"{stem}.pdf"} <= names
    for name in ("fig1_runs.csv", "fig1_curves.csv", "fig1_stability.csv",
                 "fig1_transition.csv", "fig1_transition_summary.csv", "fig1_summary.json"):
        assert name in names and (tmp_path / "out" / name).stat().st_size > 0
    summary = json.loads((tmp_path / "out" / "fig1_summary.json").read_text())
    assert set(summary["variants"]) == {"semantic", "positional"}
    assert [t["n"] for t in summary["transition"]] == [50, 200]
    assert not list((tmp_path / "out").glob(".*tmp"))


def test_standalone_main_reads_the_command_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr("sys.argv", ["attnphase-histogram", "stability", *TINY, "--store",
                                     str(tmp_path), "--dtype", "half"])
    code, _, err = run(None, capsys)
    assert code == 2 and "dtype = 'half'" in err
