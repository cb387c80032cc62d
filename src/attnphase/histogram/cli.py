"""`attnphase histogram train | stability | transition` and `reproduce_fig1`.

`register(subparsers)` adds `histogram` to the `attnphase` parser; `reproduce_fig1` is what
`attnphase reproduce fig1` runs. Every option can also come from a YAML file (`--config`):
defaults < YAML < options given. `python -m attnphase.histogram.cli` runs the same commands
on their own.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import config_resource, load_yaml
from ..errors import InputError
from ..io import atomic_path, write_text_atomic
from .runs import DEFAULT_STORE
from .settings import FIELDS, HistSettings, from_dict

LIST_FIELDS = {"variants", "seeds", "transition_n", "transition_seeds"}
FLOAT_FIELDS = {"train_frac", "lr", "beta1", "beta2", "adam_eps", "perturb", "sgd_lr",
                "threshold"}
HELP = {
    "L": "sequence length (default 10)", "T": "alphabet size (default 15)",
    "n_sequences": "distinct sequences drawn (default 50000)",
    "train_frac": "training fraction of them (default 0.7)",
    "data_seed": "seed of the sequences (default 0)",
    "d_model": "model dimension, half token half position (default 64)",
    "d_hidden": "MLP hidden width (default 128)",
    "variants": "q/k input of Fig. 1: semantic,positional[,both] (default semantic,positional)",
    "seeds": "seeds per variant: a count k (0..k-1), 'a:b' or 'a,b,c' (default 10)",
    "epochs": "Adam epochs of Fig. 1 (default 200)", "batch": "batch size (default 32)",
    "lr": "Adam learning rate (default 1e-3)", "beta1": "Adam beta1 (default 0.9)",
    "beta2": "Adam beta2 (default 0.98)", "adam_eps": "Adam eps (default 1e-8)",
    "perturb": "stability: std of the perturbation (default 1e-3)",
    "sgd_lr": "stability: SGD learning rate (default 1e-3)",
    "stability_epochs": "stability: SGD epochs (default 100)",
    "transition_n": "transition: training-set sizes 'a,b,c' (default 500,...,35000)",
    "transition_seeds": "transition: seeds per size, as --seeds (default 10)",
    "transition_steps": "transition: Adam steps of every run (default 50000)",
    "threshold": "score (0 positional, 1 semantic) from which a model is semantic (default 0.5)",
    "curve_samples": "validation sequences for the curves (default 0: all)",
    "evals": "evaluation points of the curves (default 0: every epoch; transition: 20)",
    "map_samples": "validation sequences for the positional/semantic score (default 2000)",
    "device": "cpu or cuda (default cpu)", "dtype": "float32 or float64 (default float32)",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `histogram` with its sub-commands train, stability and transition."""
    h = subparsers.add_parser("histogram", help="the histogram task in a small transformer "
                                                "(the paper's Fig. 1)")
    hsub = h.add_subparsers(dest="histogram_command", required=True,
                            parser_class=type(h))
    for name, func, text in (
        ("train", cmd_train, "train both masked variants over seeds (Fig. 1)"),
        ("stability", cmd_stability, "perturb the trained masked models in the full model "
                                     "and train on (SGD)"),
        ("transition", cmd_transition, "unmasked model over training-set sizes: fraction of "
                                       "semantic solutions"),
    ):
        p = hsub.add_parser(name, help=text)
        add_options(p)
        p.set_defaults(func=func)


def add_options(p: argparse.ArgumentParser) -> None:
    """--config, one option per settings field, --store, --out, --quiet, --json."""
    p.add_argument("--config", help="YAML file of settings fields")
    for name in FIELDS:
        if name == "cuda_graphs":
            continue
        typ = str if name in LIST_FIELDS | {"device", "dtype"} else (
            float if name in FLOAT_FIELDS else int)
        p.add_argument("--" + name.replace("_", "-"), dest=name, type=typ, default=None,
                       help=HELP.get(name))
    p.add_argument("--no-cuda-graphs", dest="cuda_graphs", action="store_const", const=False,
                   default=None, help="on CUDA, launch every kernel instead of graph replays")
    p.add_argument("--store", default=DEFAULT_STORE,
                   help=f"folder of the per-run result files (default {DEFAULT_STORE})")
    p.add_argument("--out", help="folder for the CSV files and figures")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def settings_from(args: argparse.Namespace, base: dict | None = None) -> HistSettings:
    """Defaults < base < --config YAML < options given."""
    values: dict[str, Any] = dict(base or {})
    if getattr(args, "config", None):
        values.update(load_yaml(args.config))
    values.update({f: getattr(args, f) for f in FIELDS if getattr(args, f, None) is not None})
    where = f"--config {args.config}" if getattr(args, "config", None) else "options"
    return from_dict(values, where)


def cmd_train(args: argparse.Namespace) -> int:
    from .experiment import train_fig1

    s = _prepare(settings_from(args))
    records = train_fig1(s, args.store, progress=not args.quiet)
    rows = [run_row(r) for r in records]
    if args.out:
        _print_files(write_fig1(records, Path(args.out)))
    _show(rows, args.json)
    return 0


def cmd_stability(args: argparse.Namespace) -> int:
    from .stability import run_stability

    s = _prepare(settings_from(args))
    rows = run_stability(s, args.store, progress=not args.quiet)
    if args.out:
        _print_files([write_csv(rows, Path(args.out) / "fig1_stability.csv")])
    _show(rows, args.json, ["variant", "seed", "moved_rel", "val_acc_before", "val_acc_after",
                            "score_before", "score_after", "map_change_max",
                            "masked_rows_after"])
    return 0


def cmd_transition(args: argparse.Namespace) -> int:
    from .transition import run_transition, summarize

    s = _prepare(settings_from(args))
    rows = run_transition(s, args.store, progress=not args.quiet)
    summary = summarize(rows)
    if args.out:
        _print_files(write_transition(rows, summary, s.threshold, Path(args.out)))
    _show(summary, args.json)
    return 0


def reproduce_fig1(out_dir: str | Path, quick: bool = False, device: str = "cpu",
                   store: str | Path = DEFAULT_STORE, progress: bool = True,
                   config: str | Path | None = None) -> list[Path]:
    """Fig. 1 from configs/{paper,quick}/fig1.yaml (or `config`): train both masked variants,
    the stability check and the transition study; write CSVs, figures and a summary JSON
    into out_dir. Runs already in `store` are not trained again. Returns the files written."""
    from .experiment import train_fig1
    from .stability import run_stability
    from .transition import run_transition, summarize

    path = Path(config) if config else config_resource("quick" if quick else "paper",
                                                       "fig1.yaml")
    if not path.is_file():
        raise InputError(f"{path}: no such histogram config")
    s = _prepare(from_dict({**load_yaml(path), "device": device}, f"--config {path}"))
    out, root = Path(out_dir), str(store)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    records = train_fig1(s, root, progress)
    timings["fig1_s"] = time.perf_counter() - start
    files = write_fig1(records, out)
    start = time.perf_counter()
    stab = run_stability(s, root, progress)
    timings["stability_s"] = time.perf_counter() - start
    files.append(write_csv(stab, out / "fig1_stability.csv"))
    start = time.perf_counter()
    rows = run_transition(s, root, progress)
    timings["transition_s"] = time.perf_counter() - start
    summary = summarize(rows)
    files += write_transition(rows, summary, s.threshold, out)
    files.append(out / "fig1_summary.json")
    write_text_atomic(files[-1], json.dumps(
        fig1_summary(records, stab, summary, timings, s), indent=1) + "\n")
    return files


# ------------------------------------------------------------------------------ outputs
def run_row(r: dict[str, Any]) -> dict[str, Any]:
    return {k: r[k] for k in ("variant", "seed", "epochs", "val_acc", "val_loss", "train_acc",
                              "score", "semantic")}


def write_fig1(records: list[dict[str, Any]], out: Path) -> list[Path]:
    """fig1_runs.csv, fig1_curves.csv, and the curves and attention figures."""
    from . import figures

    curves = [{"variant": r["variant"], "seed": r["seed"], "epoch": e, "step": st,
               "train_loss": tl, "val_loss": vl, "val_acc": va}
              for r in records for e, st, tl, vl, va in zip(
                  r["curves"]["epoch"], r["curves"]["step"], r["curves"]["train_loss"],
                  r["curves"]["val_loss"], r["curves"]["val_acc"], strict=True)]
    return [write_csv([run_row(r) for r in records], out / "fig1_runs.csv"),
            write_csv(curves, out / "fig1_curves.csv"),
            *figures.curves(records, out).files, *figures.attention(records, out).files]


def write_transition(rows: list[dict[str, Any]], summary: list[dict[str, Any]],
                     threshold: float, out: Path) -> list[Path]:
    from . import figures

    return [write_csv(rows, out / "fig1_transition.csv"),
            write_csv(summary, out / "fig1_transition_summary.csv"),
            *figures.transition(rows, summary, threshold, out).files]


def fig1_summary(records: list[dict], stab: list[dict], transition: list[dict],
                 timings: dict[str, float], s: HistSettings) -> dict[str, Any]:
    """Mean and spread over seeds per variant, the stability extremes, the transition."""
    out: dict[str, Any] = {"device": s.device, "timings_s": timings, "variants": {}}
    for v in dict.fromkeys(r["variant"] for r in records):
        acc = np.array([r["val_acc"] for r in records if r["variant"] == v])
        score = np.array([r["score"] for r in records if r["variant"] == v])
        out["variants"][v] = {"seeds": len(acc), "val_acc_mean": float(acc.mean()),
                              "val_acc_std": float(acc.std()), "val_acc_min": float(acc.min()),
                              "val_acc_max": float(acc.max()),
                              "score_mean": float(score.mean())}
    out["stability"] = {v: {
        "moved_rel_max": max(r["moved_rel"] for r in stab if r["variant"] == v),
        "val_acc_change_max": max(abs(r["val_acc_after"] - r["val_acc_before"])
                                  for r in stab if r["variant"] == v),
        "map_change_max": max(r["map_change_max"] for r in stab if r["variant"] == v),
        "score_after": [r["score_after"] for r in stab if r["variant"] == v],
    } for v in dict.fromkeys(r["variant"] for r in stab)}
    out["transition"] = transition
    out["settings"] = s.to_dict()
    return out


def write_csv(rows: list[dict[str, Any]], path: Path) -> Path:
    with atomic_path(path) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)
    return path


def _prepare(s: HistSettings) -> HistSettings:
    """One torch thread on CPU (see attnphase.cli.use_threads)."""
    import os

    import torch

    if s.device == "cpu" and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(1)
    return s


def _show(rows: list[dict[str, Any]], as_json: bool, cols: list[str] | None = None) -> None:
    if as_json:
        print(json.dumps(rows))
        return
    cols = cols or list(rows[0])
    cells = [[f"{r[c]:.4g}" if isinstance(r[c], float) else str(r[c]) for c in cols]
             for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    print("  ".join(c.rjust(w) for c, w in zip(cols, widths, strict=True)))
    for row in cells:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)))


def _print_files(files: list[Path]) -> None:
    for path in files:
        print(f"wrote {path}")


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m attnphase.histogram.cli train|stability|transition|reproduce-fig1 ...`."""
    from ..options import Parser, run

    p = Parser(prog="attnphase-histogram", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    register(sub)
    r = sub.add_parser("reproduce-fig1", help="what `attnphase reproduce fig1` runs")
    r.add_argument("--out", required=True, help="output folder")
    r.add_argument("--quick", action="store_true", help="configs/quick/fig1.yaml")
    r.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    r.add_argument("--config", help="a fig1 YAML instead of configs/{paper,quick}/fig1.yaml")
    r.add_argument("--store", default=DEFAULT_STORE, help="folder of the per-run files")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(func=lambda a: _print_files(reproduce_fig1(
        a.out, a.quick, a.device, a.store, not a.quiet, a.config)) or 0)
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("train", "stability", "transition"):
        argv.insert(0, "histogram")
    return run(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
