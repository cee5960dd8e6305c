"""The package's imports point one way: edges → services → renderers → domain → store.

Walks every module of ``service`` with ``ast`` (nothing is imported) and fails on an import
that points up the list, on an import cycle between modules, and on a ``_private`` name
imported from another module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVICE = Path(__file__).resolve().parent.parent / "service"

# Lower number = lower layer. A module may import its own layer or any lower one.
LAYERS: dict[str, int] = {
    "config": 0,
    "store": 1,
    "domain": 2,
    "calendars": 3,
    "news": 3,
    "representations": 3,
    "ingest": 4,
    "writes": 4,
    "notify": 4,
    "stats": 4,
    "publish": 4,
    "web": 5,
    "api": 5,
    "errors": 6,
    "cli": 6,
    "": 6,  # service/__init__.py: create_app
}
# The HTTP views of a feed family live beside its renderer but are edges.
EDGE_MODULES = {"calendars.views", "news.views", "notify.websub"}
LAYER_NAMES = {0: "config", 1: "store", 2: "domain", 3: "renderers", 4: "services", 5: "edges"}


def module_name(path: Path) -> str:
    """``service/calendars/facts.py`` → ``calendars.facts``; a package → its own name."""
    parts = list(path.relative_to(SERVICE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int:
    """The layer of a module of ``service`` (by its top-level package or module)."""
    if module in EDGE_MODULES:
        return LAYERS["web"]
    top = module.split(".")[0]
    assert top in LAYERS, f"service/{top} is in no layer: add it to LAYERS in {__file__}"
    return LAYERS[top]


def package_of(module: str, path: Path) -> list[str]:
    parts = module.split(".") if module else []
    return parts if path.name == "__init__.py" else parts[:-1]


def imports_of(path: Path) -> list[tuple[str, list[str], int]]:
    """(imported service module, names taken from it, line) for every import in ``path``."""
    module = module_name(path)
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_of(module, path)
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            elif node.module and (node.module == "service" or node.module.startswith("service.")):
                target = node.module.removeprefix("service").lstrip(".")
            else:
                continue
            names = [alias.name for alias in node.names]
            # "from . import x" names a submodule when service/<...>/x(.py) exists.
            submodules = [n for n in names if _exists(f"{target}.{n}" if target else n)]
            for sub in submodules:
                found.append((f"{target}.{sub}" if target else sub, [], node.lineno))
            rest = [n for n in names if n not in submodules]
            if rest:
                found.append((target, rest, node.lineno))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("service."):
                    found.append((alias.name.removeprefix("service."), [], node.lineno))
    return found


def _exists(module: str) -> bool:
    base = SERVICE.joinpath(*module.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in SERVICE.rglob("*.py") if "migrations" not in p.parts}


def upward_imports(modules: dict[str, Path]) -> list[str]:
    """Every import that points from a lower layer to a higher one."""
    problems = []
    for name, path in sorted(modules.items()):
        for target, _names, line in imports_of(path):
            if layer_of(target) > layer_of(name):
                problems.append(
                    f"service/{path.relative_to(SERVICE)}:{line}: {name or 'service'} "
                    f"({LAYER_NAMES.get(layer_of(name), 'top')}) imports {target} "
                    f"({LAYER_NAMES.get(layer_of(target), 'top')})"
                )
    return problems


def test_every_module_is_in_a_layer() -> None:
    for name in all_modules():
        layer_of(name)


def test_no_import_points_up() -> None:
    assert upward_imports(all_modules()) == []


def test_no_import_cycles() -> None:
    modules = all_modules()
    graph = {
        name: {t for t, _n, _l in imports_of(path) if t in modules and t != name}
        for name, path in modules.items()
    }
    # A package's __init__ importing its own submodules is wiring, not a cycle.
    for name in graph:
        graph[name] = {t for t in graph[name] if not (name and t.startswith(name + "."))}
        if not name:
            graph[name] = set()
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" → ".join([*trail[trail.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert cycles == []


def test_no_private_names_imported_across_modules() -> None:
    problems = [
        f"service/{path.relative_to(SERVICE)}:{line}: imports {n} from {target}"
        for name, path in all_modules().items()
        for target, names, line in imports_of(path)
        for n in names
        if n.startswith("_") and not n.startswith("__") and target != name
    ]
    assert problems == []


def test_the_check_finds_an_upward_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The walker sees an upward import when there is one (the store importing the web)."""
    fake = tmp_path / "service"
    (fake / "store").mkdir(parents=True)
    (fake / "web").mkdir()
    (fake / "store" / "__init__.py").write_text("")
    (fake / "web" / "__init__.py").write_text("")
    (fake / "web" / "site.py").write_text("X = 1\n")
    (fake / "store" / "engine.py").write_text("from ..web.site import X\n")
    monkeypatch.setitem(globals(), "SERVICE", fake)
    found = upward_imports(all_modules())
    assert found == ["service/store/engine.py:1: store.engine (store) imports web.site (edges)"]
