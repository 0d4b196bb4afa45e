"""The CLI friction of issue 15, each with a test: ports, hints, empty scenarios, names."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command

from graph.cli import app, main
from tests.test_graph._scenario import ftx_facts

ROOT = Path(__file__).resolve().parents[2]


def _fallout(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as done:
        code = int(done.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    from graph.store import open_store

    path = str(tmp_path_factory.mktemp("friction") / "store")
    with open_store(path) as st:
        st.load(ftx_facts())
    return path


@pytest.mark.parametrize("command", ["demo", "app"])
def test_busy_port_stops_before_any_work_with_a_hint(tmp_path: Path, command: str) -> None:
    with socket.socket() as busy:
        busy.bind(("", 0))
        busy.listen()
        port = busy.getsockname()[1]
        store = tmp_path / "store"
        done = subprocess.run(
            [sys.executable, "-c", "from graph.cli import main; main()", command,
             "--port", str(port), "--store", str(store)],
            capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False,
        )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        f"fallout: error: port {port} is in use (another fallout app?); "
        "choose another with --port N"
    )
    assert not store.exists()  # nothing was loaded first
    assert not (tmp_path / "fallout-demo").exists()


def test_pdf_hint_is_the_readme_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from graph.errors import ReportError
    from graph.report import write_report
    from tests.test_graph.test_report import _report

    command = '.venv/bin/pip install -e ".[pdf]"'
    assert command in (ROOT / "README.md").read_text(encoding="utf-8")
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # as if the extra were absent
    with pytest.raises(ReportError) as info:
        write_report(_report(), "pdf", tmp_path / "r.pdf")
    assert str(info.value).endswith(command)


def test_streamlit_pinned_and_no_deprecated_component_call() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    spec = next(line for line in pyproject.splitlines() if line.strip().startswith('"streamlit'))
    assert "<" in spec
    for page in [ROOT / "app.py", *(ROOT / "pages").glob("*.py")]:
        assert "components.v1" not in page.read_text(encoding="utf-8"), page.name


def test_shock_without_a_scenario_is_an_error(capsys, store: str) -> None:
    code, out, err = _fallout(capsys, "shock", "-s", store)
    assert code == 1 and out == ""
    assert err.startswith("fallout: error: no scenario: name an entity that defaults")


def test_shock_misspelt_name_suggests_the_near_one(capsys, store: str) -> None:
    code, _, err = _fallout(capsys, "shock", "Alamda", "-s", store)
    assert code == 1
    assert err.strip() == (
        "fallout: error: no entity named 'Alamda' in the graph; did you mean 'Alameda'?"
    )


def test_ambiguous_name_says_entities() -> None:
    from graph.errors import ContagionInputError
    from graph.scenario import resolve_entity
    from graph.store.base import EntityRecord, GraphDump

    dump = GraphDump(entities=(EntityRecord("a", "Genesis Capital", "Lender"),
                               EntityRecord("b", "Genesis Trading", "TradingFirm")))
    with pytest.raises(ContagionInputError, match="matches several entities: a, b; give an id"):
        resolve_entity("Genesis", dump=dump)


def test_query_with_a_missing_parameter_is_refused(capsys, store: str) -> None:
    code, out, err = _fallout(capsys, "query", "-s", store,
                              "MATCH (e:Entity {id: $id}) RETURN e.name AS name")
    assert code == 1 and out == ""
    assert err.strip() == (
        "fallout: error: the query uses $id but no value was given; add --param id=VALUE"
    )
    code, out, _ = _fallout(capsys, "query", "-s", store, "--json", "-p", "id=ftx",
                            "MATCH (e:Entity {id: $id}) RETURN e.name AS name")
    assert code == 0 and '"name": "FTX"' in out


def _options(command, path: str = ""):
    """Every option of every command (typer's own click types, so by duck type)."""
    subs = getattr(command, "commands", None)
    if subs:
        for name, sub in subs.items():
            yield from _options(sub, f"{path} {name}".strip())
        return
    for param in command.params:
        if getattr(param, "param_type_name", "") == "option":
            yield path, param


def test_every_store_option_has_s_and_model_lists_its_choices() -> None:
    from graph.commands.scenario_cmds import MODEL_CHOICES
    from graph.contagion import MODELS

    seen = 0
    for path, option in _options(get_command(app)):
        if "--store" in option.opts:
            seen += 1
            assert "-s" in option.opts, path
        if "--model" in option.opts and path in ("shock", "report"):
            for choice in MODEL_CHOICES:
                assert choice in (option.help or ""), (path, choice)
    assert seen >= 12
    assert sorted(MODEL_CHOICES) == sorted(MODELS)


def test_extract_help_names_no_file_outside_the_package(capsys) -> None:
    code, out, _ = _fallout(capsys, "extract", "--help")
    assert code == 0
    assert "DESIGN.md" not in out and "README" in out


def test_usage_errors_are_one_line_and_bugs_keep_their_traceback(
    capsys, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import graph.cli

    code, out, err = _fallout(capsys, "query", "-s", store, "--json", "--csv", "RETURN 1")
    assert code == 1 and err.strip() == "fallout: error: choose one of --json and --csv"

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("a bug, not a user mistake")

    monkeypatch.setattr(graph.cli, "app", broken)
    with pytest.raises(ValueError, match="a bug"):
        main(["query", "RETURN 1"])
