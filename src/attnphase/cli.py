"""The `attnphase` command: parses options, builds configs, calls the library, prints.

Precedence of values: the paper's defaults < `--config FILE.yaml` < command-line options.
Bad input ends in one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .config import FIELDS, Config, from_dict, load_yaml, parse_A
from .errors import InputError

# modules that add their own sub-commands (theory, sweep, results, figure, cv-lambda, reproduce)
PLUGINS = ("attnphase.theory.cli", "attnphase.sweep.cli", "attnphase.figures.cli")

# option name -> config field, for the options shared by several sub-commands
DATA_OPTIONS = {
    "d": int, "alpha": float, "n": int, "omega": float, "sigma": float, "L": int,
    "teacher_rank": int, "teacher_norm": str, "A": str, "seed": int, "dtype": str,
}
TRAIN_OPTIONS = {
    "rank": int, "init": str, "lam": float, "solver": str, "steps": int, "lr": float,
    "tol": float, "test_samples": int, "device": str,
}


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit code 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _add(parser: argparse.ArgumentParser, fields: dict[str, type], helps: dict[str, str]) -> None:
    for name, typ in fields.items():
        flag = "--" + name.replace("_", "-")
        parser.add_argument(flag, dest=name, type=typ, default=None, help=helps.get(name))


HELP = {
    "d": "embedding dimension (default 1000)",
    "alpha": "samples per dimension, n = round(alpha d) (default 2)",
    "n": "number of samples (overrides --alpha)",
    "omega": "weight of the positional part of the teacher, in [0, 1] (default 0.3)",
    "sigma": "std of the semantic parts z_l (default 0.5)",
    "L": "tokens per sentence (default 2; L > 2 needs --A)",
    "teacher_rank": "rank r* of the teacher Q* (default 1)",
    "teacher_norm": "gaussian (the paper's N(0, 1) entries, default) or sphere "
                    "(rescaled to ||Q*||^2 = d r*: no teacher-norm noise over seeds)",
    "A": "positional attention: 'paper', 'appendix' or L*L numbers, row-major, comma-separated",
    "seed": "seed of teacher, samples and initialisation (default 0)",
    "dtype": "float32 or float64 (default float64)",
    "rank": "rank r of the student Q (default 1)",
    "init": "semantic, positional or random (default semantic)",
    "lam": "ridge penalty lambda of the student (default 0.01)",
    "solver": "lbfgs (default: to --tol), gd (paper: lr 0.15, 5000 steps), adam (lr 0.01, 2500)",
    "steps": "maximum number of steps (solver default)",
    "lr": "learning rate (solver default)",
    "tol": "L-BFGS tolerance on the RMS entry of dR/dQ (default 1e-6)",
    "test_samples": "fresh samples for eps_g (default 50000)",
    "device": "cpu or cuda (default cpu)",
}


def build_config(
    args: argparse.Namespace, fields: Sequence[str], base: dict | None = None
) -> Config:
    """Defaults < --config YAML < options actually given."""
    values: dict[str, Any] = dict(base or {})
    if getattr(args, "config", None):
        values.update(load_yaml(args.config))
    for name in fields:
        v = getattr(args, name, None)
        if v is not None:
            values[name] = parse_A(v, values.get("L", 2)) if name == "A" else v
    if getattr(args, "alpha", None) is not None and getattr(args, "n", None) is None:
        values.pop("n", None)  # an explicit --alpha wins over an n from the config file
    return from_dict(values, where=f"--config {args.config}" if getattr(args, "config", None)
                     else "options")


# ------------------------------------------------------------------------------ commands
def cmd_generate(args: argparse.Namespace) -> int:
    from .data import write

    if args.preset == "assignment":
        out = Path(args.out or "data")
        cfgs = [build_config(args, [*DATA_OPTIONS, "rank"], {"d": d, "alpha": 2.2})
                for d in (100, 1000)]
        paths = [out / f"assignment_d{c.d}.npz" for c in cfgs]
    else:
        if not args.out:
            raise InputError("--out: required (a .npz path), unless --preset assignment")
        cfgs, paths = [build_config(args, [*DATA_OPTIONS, "rank"])], [Path(args.out)]
    for cfg, path in zip(cfgs, paths, strict=True):
        start = time.perf_counter()
        write(cfg, path)
        size = path.stat().st_size / 2**20
        print(f"wrote {path}: n={cfg.n_samples} L={cfg.L} d={cfg.d} omega={cfg.omega} "
              f"sigma={cfg.sigma} seed={cfg.seed} ({size:.1f} MiB, "
              f"{time.perf_counter() - start:.2f} s)")
    return 0


def _config_and_data(args: argparse.Namespace):
    """The run's config and its data set: from --data FILE, or generated from options."""
    from .data import load

    train_fields = [f for f in TRAIN_OPTIONS if f in vars(args)] + ["lam_lin"]
    if not args.data:
        return build_config(args, [*DATA_OPTIONS, *train_fields]), None
    given = [f for f in DATA_OPTIONS if f not in ("alpha", "n", "dtype")
             and getattr(args, f, None) is not None]
    if given:
        raise InputError(f"--{given[0].replace('_', '-')}: cannot be combined with --data "
                         "(the data file fixes it)")
    ds = load(args.data)
    base = {k: v for k, v in ds.config.to_dict().items() if k in FIELDS}
    base.pop("alpha"), base.pop("n")
    if args.n is None and args.alpha is None:
        base["n"] = ds.n
    cfg = build_config(args, ["alpha", "n", "dtype", *train_fields], base)
    ds.head(cfg.n_samples)  # refuse --n-train beyond the file before any work
    return cfg, ds


def use_threads() -> None:
    """One torch thread unless OMP_NUM_THREADS says otherwise.

    The problems here are small and memory-bound: on a shared 2-core machine a second
    thread that has to wait for a busy core makes each step up to ten times slower.
    """
    import torch

    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(1)


def cmd_train(args: argparse.Namespace) -> int:
    from .experiment import train

    use_threads()
    cfg, ds = _config_and_data(args)
    res = train(cfg, data=ds, progress=True)
    if args.json:
        print(json.dumps(res.to_dict()))
    else:
        _table([res.to_dict()], ["init", "solver", "n", "d", "alpha", "eps_g", "eps_t", "m",
                                 "theta", "q", "eps_g_lin", "grad_norm", "converged", "steps",
                                 "wall_s"])
    return 0


def cmd_linear(args: argparse.Namespace) -> int:
    from .experiment import linear

    use_threads()
    cfg, ds = _config_and_data(args)
    res = linear(cfg, data=ds)
    if args.json:
        print(json.dumps(res.to_dict()))
    else:
        _table([res.to_dict()], ["n", "d", "alpha", "omega", "lam_lin", "eps_g_lin",
                                 "eps_t_lin", "B", "wall_s"])
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Both initialisations and the linear baseline for several alpha: the global minimiser."""
    from .experiment import train_many
    from .grids import parse_values

    use_threads()
    cfg, ds = _config_and_data(args)
    alphas = parse_values(args.alphas, "alphas")
    inits = ("semantic", "positional")
    cfgs = [cfg.replace(alpha=a, n=None, init=i) for a in alphas for i in inits]
    res = train_many(cfgs, data=ds, progress=True)
    rows = []
    for k in range(0, len(res), 2):
        sem, pos = res[k], res[k + 1]
        best = sem if sem.eps_t <= pos.eps_t else pos
        rows.append({"alpha": sem.alpha, "eps_t_sem": sem.eps_t, "eps_t_pos": pos.eps_t,
                     "delta_eps_t": sem.eps_t - pos.eps_t, "global": best.init,
                     "eps_g": best.eps_g, "eps_g_lin": best.eps_g_lin, "m": best.m,
                     "theta": best.theta, "converged": sem.converged and pos.converged})
    if args.json:
        print(json.dumps(rows))
    else:
        print(f"omega={cfg.omega} sigma={cfg.sigma} lam={cfg.lam} d={cfg.d} seed={cfg.seed} "
              f"test_samples={cfg.test_samples}")
        _table(rows, list(rows[0]))
    return 0


def _table(rows: list[dict], cols: list[str]) -> None:
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.3e}"
        if isinstance(v, list):
            return json.dumps(v, default=lambda x: round(x, 4))
        return str(v)

    cells = [[fmt(r[c]) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    print("  ".join(c.rjust(w) for c, w in zip(cols, widths, strict=True)))
    for row in cells:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)))


# ------------------------------------------------------------------------------ parser
def parser() -> argparse.ArgumentParser:
    p = Parser(prog="attnphase", description="Positional vs semantic learning in a solvable "
               "model of dot-product attention: data, students, theory, sweeps, figures.")
    p.add_argument("--version", action="version", version=f"attnphase {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)

    g = sub.add_parser("generate", help="write a data set (.npz)")
    _add(g, DATA_OPTIONS, HELP)
    g.add_argument("--rank", type=int, default=None,
                   help=HELP["rank"] + "; recorded in meta, the default for `train --data`")
    g.add_argument("--out", help="output .npz file (a folder with --preset)")
    g.add_argument("--preset", choices=["assignment"],
                   help="assignment: d = 100 and d = 1000 at alpha = 2.2 into the --out folder")
    g.add_argument("--config", help="YAML file of config fields")
    g.set_defaults(func=cmd_generate)

    for name, func, text in (
        ("train", cmd_train, "train one student and report eps_g, eps_t, m, theta, q"),
        ("linear", cmd_linear, "fit the linear positional baseline (closed-form ridge)"),
        ("compare", cmd_compare, "both initialisations and the linear baseline over alphas"),
    ):
        t = sub.add_parser(name, help=text)
        t.add_argument("--data", help="data file written by `attnphase generate`")
        _add(t, DATA_OPTIONS, HELP)
        t.add_argument("--n-train", dest="n", type=int, default=None,
                       help="use the first n samples (default: all of --data, or round(alpha d))")
        if name != "linear":
            _add(t, TRAIN_OPTIONS, HELP)
        else:
            _add(t, {"test_samples": int, "device": str}, HELP)
        t.add_argument("--lam-lin", dest="lam_lin", type=float, default=None,
                       help="ridge penalty of the linear baseline (default 1e-4)")
        if name == "compare":
            t.add_argument("--alphas", default="0.5,1,1.5,2", help="'a,b,c' or 'start:stop:count'")
        t.add_argument("--config", help="YAML file of config fields")
        t.add_argument("--json", action="store_true", help="print JSON instead of a table")
        t.set_defaults(func=func)

    for module in PLUGINS:
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module).register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        print(f"attnphase: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("attnphase: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
