"""The `attnphase` command: a table of sub-commands, each imported only when it runs.

`attnphase --help` imports no sub-command module; `attnphase NAME ...` imports the module of
NAME alone (so `theory` never loads torch, `train` never loads pandas or matplotlib). A module
of sub-commands has one hook, `register(subparsers)`, which adds its parsers (each with
`set_defaults(func=handler)`); adding a sub-command is one line in COMMANDS.
Bad input ends in one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NamedTuple

from . import __version__
from .options import Parser, run


class Command(NamedTuple):
    """A sub-command: the module whose `register(subparsers)` adds it, and its help line."""

    module: str
    help: str


COMMANDS: dict[str, Command] = {
    "generate": Command("attnphase.commands", "write a data set (.npz)"),
    "train": Command("attnphase.commands", "train one student and report eps_g, eps_t, m, "
                     "theta, q"),
    "linear": Command("attnphase.commands", "fit the linear positional baseline (closed-form "
                      "ridge)"),
    "compare": Command("attnphase.commands", "both initialisations and the linear baseline "
                       "over alphas"),
    "theory": Command("attnphase.theory.cli", "asymptotic theory: curves, boundaries, plot"),
    "histogram": Command("attnphase.histogram.cli", "the histogram task in a real transformer "
                         "(Fig. 1): train, stability, transition"),
    "sweep": Command("attnphase.sweep.cli", "run every grid point of a sweep config "
                     "(resumable)"),
    "results": Command("attnphase.sweep.cli", "read the results database"),
    "figure": Command("attnphase.reproduce_cli", "draw a figure (PNG and PDF) from stored "
                      "results"),
    "cv-lambda": Command("attnphase.reproduce_cli", "k-fold cross-validation of lambda "
                         "(attention, both inits) and lambda_lin (linear)"),
    "reproduce": Command("attnphase.reproduce_cli", "run the sweeps and theory of the paper's "
                         "figures, and draw them"),
}


def parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of `attnphase`, with the full options of `command` only (None: none)."""
    p = Parser(prog="attnphase", description="Positional vs semantic learning in a solvable "
               "model of dot-product attention: data, students, theory, sweeps, figures.")
    p.add_argument("--version", action="version", version=f"attnphase {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    module = COMMANDS[command].module if command in COMMANDS else None
    for name, cmd in COMMANDS.items():
        if cmd.module != module:  # listed in --help; its options load when it is chosen
            sub.add_parser(name, help=cmd.help, add_help=False)
    if module is not None:
        importlib.import_module(module).register(sub)
    return p


def _command(argv: Sequence[str]) -> str | None:
    """The sub-command named in argv: its first word that is not an option."""
    return next((a for a in argv if not a.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    return run(parser(_command(argv)).parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
