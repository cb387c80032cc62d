"""Imports flow one way: the layer table of docs/architecture.md, checked on every module.

The scan is static (AST), so it sees imports inside functions as well as at the top.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "attnphase"
DOC = ROOT / "docs" / "architecture.md"
if not (SRC.is_dir() and DOC.is_file()):  # e.g. CI's run of the tests against the wheel
    pytest.skip("the layer check reads the source checkout (src/, docs/)",
                allow_module_level=True)
MARK = "<!-- layers:"


def read_layers(text: str) -> dict[str, tuple[set[str], list[str]]]:
    """layer -> (the layers it sits on, its modules), from the fenced block after MARK."""
    block = text[text.index(MARK):].split("```")[1]
    lines = [line for line in block.splitlines()[1:] if line.strip()]
    layers = {}
    for line in lines[1:]:  # lines[0] is the column header
        name, below, modules = re.split(r"\s{2,}", line.strip())
        layers[name] = (set() if below == "-" else set(below.split()), modules.split())
    return layers


def reachable(layers: dict[str, tuple[set[str], list[str]]]) -> dict[str, set[str]]:
    """The layers each layer may import: itself and all it sits on, transitively."""
    out: dict[str, set[str]] = {}

    def visit(name: str, path: tuple[str, ...]) -> set[str]:
        if name in path:
            raise AssertionError(f"the layers form a cycle: {' -> '.join((*path, name))}")
        if name not in out:
            below = layers[name][0]
            unknown = below - set(layers)
            assert not unknown, f"layer {name} sits on unknown layers {unknown}"
            out[name] = {name}.union(*(visit(b, (*path, name)) for b in below))
        return out[name]

    for name in layers:
        visit(name, ())
    return out


def layer_of(module: str, layers: dict[str, tuple[set[str], list[str]]]) -> str | None:
    """The layer whose module entry is the longest prefix of `module` (None: unassigned)."""
    best, length = None, -1
    for name, (_, entries) in layers.items():
        for entry in entries:
            if (module == entry or module.startswith(entry + ".")) and len(entry) > length:
                best, length = name, len(entry)
    return best


def module_name(path: Path, src: Path) -> str:
    """`sweep.store` for src/sweep/store.py, `sweep` for its __init__, `__init__` for the root."""
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def imports(path: Path, src: Path) -> list[tuple[int, str, bool]]:
    """(line, imported attnphase module, at top level) for every import in a file."""
    module = module_name(path, src)
    package = [] if module == "__init__" else module.split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    tree = ast.parse(path.read_text())
    top = {id(node) for node in tree.body}
    found = []

    def known(parts: list[str]) -> bool:
        base = src.joinpath(*parts)
        return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()

    def add(node: ast.AST, parts: list[str]) -> None:
        found.append((node.lineno, ".".join(parts) or "__init__", id(node) in top))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "attnphase":
                    add(node, alias.name.split(".")[1:])
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
            elif (node.module or "").split(".")[0] == "attnphase":
                base = []
            else:
                continue
            names = (node.module or "").split(".") if node.module else []
            if not node.level:
                names = names[1:]
            base = base + names
            for alias in node.names:
                add(node, base + [alias.name] if known(base + [alias.name]) else base)
    return found


def violations(src: Path, layers: dict[str, tuple[set[str], list[str]]]) -> list[str]:
    """Every import from a layer to one it does not sit on, and every unassigned module."""
    allowed = reachable(layers)
    bad = []
    for path in sorted(src.rglob("*.py")):
        module = module_name(path, src)
        layer = layer_of(module, layers)
        if layer is None:
            bad.append(f"{module}: in no layer of docs/architecture.md")
            continue
        for line, target, _ in imports(path, src):
            target_layer = layer_of(target, layers)
            if target_layer not in allowed[layer]:
                bad.append(f"{module}:{line} ({layer}) imports {target} ({target_layer})")
    return bad


LAYERS = read_layers(DOC.read_text())


def test_no_module_imports_a_higher_layer():
    assert violations(SRC, LAYERS) == []


def test_the_check_catches_an_upward_import(tmp_path):
    """A synthetic package: a lower module importing a higher one, lazily, is reported."""
    pkg = tmp_path / "attnphase"
    (pkg / "theory").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "theory" / "__init__.py").write_text("from . import plot\n")
    (pkg / "theory" / "plot.py").write_text("def f():\n    from ..figures import style\n")
    (pkg / "figures").mkdir()
    (pkg / "figures" / "__init__.py").write_text("")
    (pkg / "figures" / "style.py").write_text("from ..theory import plot\n")
    (pkg / "stray.py").write_text("")
    layers = {"figures": ({"theory"}, ["figures"]), "theory": ({"base"}, ["theory"]),
              "base": (set(), ["__init__"])}
    bad = violations(pkg, layers)
    assert bad == ["stray: in no layer of docs/architecture.md",
                   "theory.plot:2 (theory) imports figures.style (figures)"]


def test_the_layers_form_no_cycle():
    with pytest.raises(AssertionError, match="cycle"):
        reachable({"a": ({"b"}, []), "b": ({"a"}, [])})
    assert reachable(LAYERS)["base"] == {"base"}


def test_matplotlib_only_at_the_top_of_figure_modules():
    """Below the figures (the theory included) matplotlib loads only inside a function."""
    below = reachable(LAYERS)["figures"] - {"figures"}
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        if layer_of(module_name(path, SRC), LAYERS) not in below:
            continue
        for node in ast.parse(path.read_text()).body:
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            bad += [f"{path.name}:{node.lineno}" for n in names if n.startswith("matplotlib")]
    assert bad == []

