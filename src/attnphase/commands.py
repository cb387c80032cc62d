"""The core sub-commands: `generate`, `train`, `linear`, `compare`.

They parse options into a Config, call the library, and print a table or JSON. torch and the
solvers are imported when a command runs, never at registration.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

from .config import BRANCH_INITS, FIELDS
from .errors import InputError
from .io import check_output, finite_json
from .options import DATA_OPTIONS, HELP, TRAIN_OPTIONS, add_options, build_config

RUN_METRICS = ("eps_g", "eps_t", "m", "theta", "q", "eps_g_lin", "grad_norm")
MAX_MEMORY_HELP = ("refuse data sets needing more than GIB GiB of memory (default: the memory "
                   "available now; estimated as 3x the data for training)")


def register(sub: argparse._SubParsersAction) -> None:
    """Add `generate`, `train`, `linear` and `compare` to the `attnphase` parser."""
    g = sub.add_parser("generate")
    add_options(g, DATA_OPTIONS)
    g.add_argument("--rank", type=int, default=None,
                   help=HELP["rank"] + "; recorded in meta, the default for `train --data`")
    g.add_argument("--out", help="output .npz file (a folder with --preset)")
    g.add_argument("--preset", choices=["assignment"],
                   help="assignment: d = 100 and d = 1000 at alpha = 2.2 into the --out folder")
    g.add_argument("--config", help="YAML file of config fields")
    g.add_argument("--max-memory", dest="max_memory", type=float, default=None, metavar="GIB",
                   help=MAX_MEMORY_HELP)
    g.set_defaults(func=cmd_generate)

    for name, func in (("train", cmd_train), ("linear", cmd_linear), ("compare", cmd_compare)):
        t = sub.add_parser(name)
        t.add_argument("--data", help="data file written by `attnphase generate`")
        add_options(t, DATA_OPTIONS)
        t.add_argument("--n-train", dest="n", type=int, default=None,
                       help="use the first n samples (default: all of --data, or round(alpha d))")
        if name != "linear":
            add_options(t, TRAIN_OPTIONS)
        else:
            add_options(t, ["test_samples", "eps_g_method", "device"])
        add_options(t, ["lam_lin"])
        if name == "compare":
            t.add_argument("--alphas", default="0.5,1,1.5,2", help="'a,b,c' or 'start:stop:count'")
        t.add_argument("--config", help="YAML file of config fields")
        t.add_argument("--json", action="store_true", help="print JSON instead of a table "
                       "(NaN and infinities as null)")
        t.add_argument("--max-memory", dest="max_memory", type=float, default=None,
                       metavar="GIB", help=MAX_MEMORY_HELP)
        t.set_defaults(func=func)


# ------------------------------------------------------------------------------ commands
def cmd_generate(args: argparse.Namespace) -> int:
    from .data import check_writable, write

    if args.preset == "assignment":
        out = Path(args.out or "data")
        cfgs = [build_config(args, [*DATA_OPTIONS, "rank"], {"d": d, "alpha": 2.2})
                for d in (100, 1000)]
        paths = [out / f"assignment_d{c.d}.npz" for c in cfgs]
    else:
        if not args.out:
            raise InputError("--out: required (a .npz path), unless --preset assignment")
        cfgs, paths = [build_config(args, [*DATA_OPTIONS, "rank"])], [Path(args.out)]
    for cfg, path in zip(cfgs, paths, strict=True):  # every check before the first file
        check_output(path, "--out")
        check_writable(cfg, path, args.max_memory)
    for cfg, path in zip(cfgs, paths, strict=True):
        start = time.perf_counter()
        write(cfg, path)
        size = path.stat().st_size / 2**20
        print(f"wrote {path}: n={cfg.n_samples} L={cfg.L} d={cfg.d} omega={cfg.omega} "
              f"sigma={cfg.sigma} seed={cfg.seed} ({size:.1f} MiB, "
              f"{time.perf_counter() - start:.2f} s)")
    return 0


def _config_and_data(args: argparse.Namespace, check: bool = True):
    """The run's config and its data set: from --data FILE, or generated from options
    (refused up front if it cannot fit in memory, unless `check` is False)."""
    from .data import MEMORY_FACTOR, check_memory, check_trainable, load

    train_fields = [f for f in TRAIN_OPTIONS if f in vars(args)] + ["lam_lin"]
    if not args.data:
        cfg = build_config(args, [*DATA_OPTIONS, *train_fields])
        if check:
            check_trainable(cfg, args.max_memory)
        return cfg, None
    given = [f for f in DATA_OPTIONS if f not in ("alpha", "n", "dtype")
             and getattr(args, f, None) is not None]
    if given:
        raise InputError(f"--{given[0].replace('_', '-')}: cannot be combined with --data "
                         "(the data file fixes it)")
    if Path(args.data).is_file():
        check_memory(MEMORY_FACTOR * Path(args.data).stat().st_size, f"--data {args.data}",
                     args.max_memory)
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
    from .certify import NOTE as CERTIFY_NOTE
    from .experiment import train
    from .train import STATUS_NOTES

    use_threads()
    cfg, ds = _config_and_data(args)
    res = train(cfg, data=ds, progress=True)
    if args.json:
        print(finite_json(res.to_dict()))
    else:
        checked = ["certified", "rtol"] if res.certified is not None else []
        _table([res.to_dict()], ["init", "solver", "n", "d", "alpha", "eps_g", "eps_t", "m",
                                 "theta", "q", "eps_g_lin", "grad_norm", "status", "steps",
                                 *checked, "wall_s"])
        if res.status != "converged":
            print(f"note: {STATUS_NOTES[res.status]}")
        if res.certified is False:
            print(f"note: {CERTIFY_NOTE}")
    return _diverged([res.to_dict()], RUN_METRICS)


def cmd_linear(args: argparse.Namespace) -> int:
    from .experiment import linear

    use_threads()
    cfg, ds = _config_and_data(args)
    res = linear(cfg, data=ds)
    if args.json:
        print(finite_json(res.to_dict()))
    else:
        _table([res.to_dict()], ["n", "d", "alpha", "omega", "lam_lin", "eps_g_lin",
                                 "eps_t_lin", "B", "wall_s"])
    return _diverged([res.to_dict()], ("eps_g_lin", "eps_t_lin", "B"))


def cmd_compare(args: argparse.Namespace) -> int:
    """Both initialisations and the linear baseline for several alpha: the global minimiser."""
    from .data import check_trainable
    from .experiment import train_many
    from .sweep.grid import parse_values
    from .transitions import semantic_global

    use_threads()
    cfg, ds = _config_and_data(args, check=False)  # checked below at the largest alpha
    alphas = parse_values(args.alphas, "alphas")
    inits = BRANCH_INITS
    cfgs = [cfg.replace(alpha=a, n=None, init=i) for a in alphas for i in inits]
    if ds is None:
        check_trainable(cfg, args.max_memory, max(c.n_samples for c in cfgs))
    res = train_many(cfgs, data=ds, progress=True)
    rows = []
    for k in range(0, len(res), 2):
        sem, pos = res[k], res[k + 1]
        best = sem if semantic_global(sem.eps_t, pos.eps_t) else pos
        rows.append({"alpha": sem.alpha, "eps_t_sem": sem.eps_t, "eps_t_pos": pos.eps_t,
                     "delta_eps_t": sem.eps_t - pos.eps_t, "global": best.init,
                     "eps_g": best.eps_g, "eps_g_lin": best.eps_g_lin, "m": best.m,
                     "theta": best.theta, "converged": sem.converged and pos.converged})
    if args.json:
        print(finite_json(rows))
    else:
        print(f"omega={cfg.omega} sigma={cfg.sigma} lam={cfg.lam} d={cfg.d} seed={cfg.seed} "
              f"test_samples={cfg.test_samples}")
        _table(rows, list(rows[0]))
    return _diverged(rows, ("eps_t_sem", "eps_t_pos", "eps_g", "eps_g_lin", "m", "theta"))


def _diverged(rows: list[dict], keys: tuple[str, ...]) -> int:
    """Exit code 1, with one line on stderr, if a result is not finite: the sweep's rule (it
    stores such a run as failed, its metrics as null); else 0."""
    bad = sorted({k for r in rows for k in keys if not _finite(r[k])})
    if not bad:
        return 0
    print(f"attnphase: failed: non-finite {', '.join(bad)} (diverged; reported as null)",
          file=sys.stderr)
    return 1


def _finite(v: Any) -> bool:
    if isinstance(v, list | tuple):
        return all(_finite(x) for x in v)
    return isinstance(v, int | float) and math.isfinite(v)


def _table(rows: list[dict], cols: list[str]) -> None:
    from .tables import text_table

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.3e}"
        if isinstance(v, list):
            return json.dumps(v, default=lambda x: round(x, 4))
        return str(v)

    print(text_table(rows, cols, fmt))


