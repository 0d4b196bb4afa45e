"""The project's structure is asserted by tests: import direction, exports, import cost."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN = {
    "extract": {"graph", "streamlit", "neo4j", "pages", "app"},
    "graph": {"streamlit", "pages", "app"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layout_one_way_imports(package: str) -> None:
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        hits = _imports(path) & FORBIDDEN[package]
        if hits:
            bad.append(f"{path.relative_to(ROOT)} imports {sorted(hits)}")
    assert not bad, "\n".join(bad)


def test_layout_app_holds_no_domain_logic() -> None:
    files = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]
    for path in files:
        if not path.exists():
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            # no Cypher strings that write, no model maths: pages call library functions
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                upper = node.value.upper()
                assert "MERGE (" not in upper and "CREATE (" not in upper, path
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("scipy"), f"{path} does maths itself"


@pytest.mark.parametrize("package", ["extract", "graph"])
def test_layout_all_matches_exports(package: str) -> None:
    module = importlib.import_module(package)
    assert sorted(module.__all__) == sorted(set(module.__all__))
    for name in module.__all__:
        assert hasattr(module, name), f"{package}.{name} listed in __all__ but missing"


@pytest.mark.parametrize(
    "module", ["extract.model", "graph.contagion", "graph.errors", "graph.cli"]
)
def test_layout_import_cost(module: str) -> None:
    code = (
        f"import sys, {module}; heavy = [m for m in ('spacy', 'neo4j', 'streamlit', 'ladybug')"
        " if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == "", f"import {module} pulled in {out.stdout.strip()}"


def test_layout_modules_have_docstrings_and_all() -> None:
    missing = []
    for package in ("extract", "graph"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            if ast.get_docstring(tree) is None:
                missing.append(f"{path.relative_to(ROOT)}: no module docstring")
            if path.name.startswith("_") and path.name != "__init__.py":
                continue
            names = {
                t.id
                for node in tree.body
                if isinstance(node, ast.Assign)
                for t in node.targets
                if isinstance(t, ast.Name)
            }
            if "__all__" not in names:
                missing.append(f"{path.relative_to(ROOT)}: no __all__")
    assert not missing, "\n".join(missing)


# --- inside graph/ ---------------------------------------------------------------------
# the contagion models know nothing of stores, reports or the projection; the channels of
# the combined engine know nothing of one another but the shared state and the market
INSIDE_GRAPH = {
    "graph/contagion": {"graph.store", "graph.report", "graph.projection", "graph.scenario",
                        "graph.commands", "graph.cli", "graph.sensitivity"},
    "graph/report": {"graph.commands", "graph.cli"},
    "graph/store": {"graph.contagion", "graph.report", "graph.projection", "graph.scenario"},
}
CHANNELS = ("credit", "issuer", "market", "margin", "ownership")


def _graph_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


@pytest.mark.parametrize("folder", sorted(INSIDE_GRAPH))
def test_layout_inside_graph_one_way(folder: str) -> None:
    bad = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for name in _graph_imports(path):
            if any(name == f or name.startswith(f + ".") for f in INSIDE_GRAPH[folder]):
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not bad, "\n".join(bad)


def test_layout_one_module_per_channel() -> None:
    folder = ROOT / "graph" / "contagion" / "channels"
    for channel in CHANNELS:
        path = folder / f"{channel}.py"
        assert path.exists(), f"no module for the {channel} channel"
        others = {f"graph.contagion.channels.{c}" for c in CHANNELS if c not in (channel,)}
        # a channel may read the market's sales record, nothing else of another channel
        others.discard("graph.contagion.channels.market")
        assert not _graph_imports(path) & others, f"{channel} imports another channel"


def test_layout_one_price_impact_law() -> None:
    for path in sorted((ROOT / "graph").rglob("*.py")):
        if path.name == "_prices.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert "np.exp(-" not in text.replace(" ", "") or path.name == "montecarlo.py", (
            f"{path.relative_to(ROOT)} computes a price impact of its own; use impact_factor"
        )


def test_layout_one_scenario_object() -> None:
    for path in [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")),
                 *sorted((ROOT / "graph").rglob("*.py"))]:
        if path == ROOT / "graph" / "scenario.py" or not path.exists():
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
        assert "Scenario" not in names, f"{path.relative_to(ROOT)} defines a second Scenario"


def test_layout_graph_functions_are_small() -> None:
    long = []
    for path in sorted((ROOT / "graph").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                if size > 120:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({size})")
    assert not long, "functions over 120 lines:\n" + "\n".join(long)
