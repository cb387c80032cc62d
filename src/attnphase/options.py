"""Command-line options derived from the parameter table, and configs built from them.

The low-level half of the CLI that every sub-command module shares (`cli.py` and the
plugins under `figures/`, `sweep/`, `theory/` import it; it imports none of them).
Precedence of values: the paper's defaults < `--config FILE.yaml` < command-line options.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from .config import DEFAULTS, PARAMS, Config, from_dict, load_yaml, parse_A
from .errors import InputError

HELP: dict[str, str] = {name: p.help for name, p in PARAMS.items()}

# the options shared by several sub-commands
DATA_OPTIONS = ("d", "alpha", "n", "omega", "sigma", "L", "teacher_rank", "teacher_norm", "A",
                "seed", "dtype")
TRAIN_OPTIONS = ("rank", "init", "lam", "solver", "steps", "lr", "tol", "flow_rtol",
                 "flow_screen", "certify", "test_samples", "eps_g_method", "device")


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit code 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def flag(name: str) -> str:
    """The command-line flag of a config field: `test_samples` -> `--test-samples`."""
    return "--" + name.replace("_", "-")


def add_options(parser: argparse.ArgumentParser, names: Iterable[str],
                defaults: bool = False) -> None:
    """Add `--name` options for config fields, typed and documented by the parameter table.

    Values default to None (so that a YAML file or the Config's default applies), or to the
    table's default with `defaults=True` (for commands without a Config, like the theory).
    """
    for name in names:
        p = PARAMS[name]
        typ = str if p.kind == "A" or p.choices else p.kind
        default = DEFAULTS[name] if defaults else None
        parser.add_argument(flag(name), dest=name, type=typ, default=default, help=p.help)


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


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C does, so that half-written temporary files are removed."""
    raise SystemExit(128 + signum)


def run(args: argparse.Namespace) -> int:
    """Call the parsed command's handler; bad input ends in one line and exit code 2."""
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        print(f"attnphase: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("attnphase: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `attnphase ... | head`: the reader left; not an error of ours
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (no flush error at exit)
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
