"""The layout's rules (DESIGN.md), checked on the source: who may import whom, one home for
each decision, and no capability package spelling a CLI flag in what it says."""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "supalink"
# Each unit may import only units of a lower layer (and itself).
LAYERS = {
    **dict.fromkeys(
        ("__init__", "errors", "files", "logs", "paths", "lazy", "error_texts", "sentences"), 0
    ),
    "profiles": 1,
    **dict.fromkeys(("probe", "mcp", "monitor", "demo", "roles", "supabase_api"), 2),
    "agent": 3,  # reads what its login may do (roles.powers) before serving it
    **dict.fromkeys(("commands", "ui"), 4),
    "app": 5,  # the composition root
    "cli": 6,  # opens the app when given no command
    "__main__": 7,
}
FACES = ("profiles", "probe", "mcp", "monitor", "agent", "roles", "supabase_api")
CAPABILITIES = ("profiles", "probe", "mcp", "monitor", "agent", "roles", "supabase_api", "ui")
CLI_FLAGS = ("--sslrootcert", "--yes", "--force")


def modules() -> Iterator[tuple[Path, ast.Module]]:
    yield from _parsed()


@functools.cache
def _parsed() -> tuple[tuple[Path, ast.Module], ...]:
    """Each module parsed once per test process (the trees are only read)."""
    return tuple(
        (path, ast.parse(path.read_text(), str(path))) for path in sorted(SRC.rglob("*.py"))
    )


def unit_of(path: Path) -> str:
    return path.relative_to(SRC).parts[0].removesuffix(".py")


def imported(tree: ast.Module) -> Iterator[tuple[str, int]]:
    """Every `supalink.X[.Y]` a module imports, as written, with its line."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("supalink."):
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "supalink":
                for alias in node.names:
                    yield f"supalink.{alias.name}", node.lineno
            elif node.module.startswith("supalink."):
                yield node.module, node.lineno


def test_every_module_belongs_to_a_layer() -> None:
    assert {unit_of(path) for path, _ in modules()} <= set(LAYERS)


def test_no_unit_imports_a_unit_of_its_own_layer_or_above() -> None:
    offenders = []
    for path, tree in modules():
        unit = unit_of(path)
        for name, line in imported(tree):
            other = name.split(".")[1]
            if other not in (unit, "__version__") and LAYERS[other] >= LAYERS[unit]:
                offenders.append(f"{path.relative_to(SRC)}:{line} imports {name}")
    assert offenders == []


def test_the_windows_import_capabilities_through_their_faces_and_never_the_paths() -> None:
    """ui/ gets the folders it needs from the app package, and what profiles/, probe/, mcp/ and
    monitor/ name in their `__all__`."""
    offenders = []
    for path, tree in modules():
        if unit_of(path) != "ui":
            continue
        for name, line in imported(tree):
            parts = name.split(".")
            if parts[1] == "paths" or (parts[1] in FACES and len(parts) > 2):
                offenders.append(f"{path.relative_to(SRC)}:{line} imports {name}")
    assert offenders == []


@pytest.mark.parametrize("face", FACES)
def test_each_face_names_what_it_gives_and_gives_it(face: str) -> None:
    import importlib

    package = importlib.import_module(f"supalink.{face}")
    assert package.__all__, face
    assert list(package.__all__) == sorted(set(package.__all__), key=package.__all__.index)
    for name in package.__all__:
        assert getattr(package, name) is not None, f"supalink.{face}.{name}"


def lazy_faces() -> list[Path]:
    from supalink.lazy import faces

    return faces(SRC)


def test_every_face_is_one_that_generates_its_lines() -> None:
    assert {path.parent.name for path in lazy_faces()} == set(FACES)


@pytest.mark.parametrize("init", lazy_faces(), ids=lambda path: path.parent.name)
def test_a_face_names_each_name_once_and_its_generated_lines_follow(init: Path) -> None:
    """A face writes each name once, in an import; its `__all__` and the module each lazy
    name loads from are generated from those imports (`python -m supalink.lazy`)."""
    from supalink.lazy import regenerated

    source = init.read_text(encoding="utf-8")
    assert regenerated(source, f"supalink.{init.parent.name}") == source, (
        f"{init.relative_to(SRC)}: run `python -m supalink.lazy`"
    )


def test_a_face_generated_from_its_imports_loads_each_name_from_its_module() -> None:
    """The generator on a made-up face: plain imports of the package's own modules are
    given as they are, the TYPE_CHECKING ones loaded on first use, others not given."""
    from supalink.lazy import face_names, generated_lines

    source = (
        "from typing import TYPE_CHECKING\n"
        "from supalink.lazy import lazy_attributes\n"
        "from supalink.things import model\n"
        "from supalink.things.model import CONSTANT, Thing\n"
        "if TYPE_CHECKING:\n"
        "    from supalink.things.slow import Heavy, load\n"
        "    from supalink.things.deep.er import Deeper\n"
    )
    homes, given = face_names(source, "supalink.things")
    assert homes == {"Heavy": "slow", "load": "slow", "Deeper": "deep.er"}
    assert given == ["model", "CONSTANT", "Thing", "Heavy", "load", "Deeper"]
    text = generated_lines(source, "supalink.things")
    assert '__all__ = [\n    "CONSTANT",\n    "Deeper",\n    "Heavy",\n    "Thing",\n' in text
    assert '"load": "slow",' in text
    assert "lazy_attributes" not in generated_lines(
        "from supalink.things.model import Thing\n", "supalink.things"
    )


def definitions(name: str) -> list[str]:
    """Where `name` is defined (a def, a class, or an assignment at module level)."""
    found = []
    for path, tree in modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                defined = node.name == name
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                defined = any(
                    isinstance(target, ast.Name) and target.id == name
                    for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
                )
            else:
                continue
            if defined:
                found.append(f"{path.relative_to(SRC)}:{node.lineno}")
    return found


@pytest.mark.parametrize(
    "name",
    [
        "connection_kwargs",
        "SCHEMES",
        "MASK",
        "TCP_KEEPALIVES",
        "DEFAULT_SERVER_NAME",
        "APPLICATION_NAME",
        "matches",
        "ProfileExists",
    ],
)
def test_one_home_for_each_decision(name: str) -> None:
    assert len(definitions(name)) <= 1, definitions(name)
    if name != "matches":
        assert len(definitions(name)) == 1, name


def messages(tree: ast.Module) -> Iterator[tuple[str, int]]:
    """String literals that are words for a person: not docstrings, and not a lone
    argument such as "--sslrootcert" in an argv Supalink writes into a server entry."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and " " in node.value.strip()
        ):
            yield node.value, node.lineno


def test_no_capability_package_words_a_cli_flag() -> None:
    """Errors and warnings carry data; commands/ words them as flags, ui/ as its fields
    (sentences.py, where the errors' sentences are, serves both)."""
    offenders = []
    for path, tree in modules():
        if unit_of(path) not in (*CAPABILITIES, "sentences"):
            continue
        for text, line in messages(tree):
            where = f"{path.relative_to(SRC)}:{line}"
            offenders += [f"{where}: {text!r}" for flag in CLI_FLAGS if flag in text]
    assert offenders == []


# Modules whose errors still choose the CLI's exit code by being (or raising) a UsageError;
# the rest give their errors a kind (errors.Kind) and cli.EXIT_CODES maps it.
STILL_USAGE_ERRORS = (
    "mcp/clients.py",
    "mcp/errors.py",
    "mcp/templates.py",
    "monitor/engine.py",
    "monitor/settings.py",
)
# Error modules that hold no words of their own: their sentences are in sentences.py.
SPEECHLESS_ERRORS = ("profiles/repository_errors.py", "roles/errors.py", "supabase_api/errors.py")


def test_no_capability_package_chooses_the_cli_exit_code() -> None:
    """UsageError is commands/' own: a capability package's error says what sort it is."""
    using = set()
    for path, tree in modules():
        if unit_of(path) in CAPABILITIES:
            for node in ast.walk(tree):
                if (isinstance(node, ast.Name) and node.id == "UsageError") or (
                    isinstance(node, ast.alias) and node.name == "UsageError"
                ):
                    using.add(str(path.relative_to(SRC)))
    assert sorted(using) == sorted(STILL_USAGE_ERRORS)


@pytest.mark.parametrize("module", SPEECHLESS_ERRORS)
def test_an_error_module_says_nothing_of_its_own(module: str) -> None:
    tree = ast.parse((SRC / module).read_text(encoding="utf-8"))
    assert list(messages(tree)) == []


def test_no_module_passes_500_lines() -> None:
    long = [
        f"{path.relative_to(SRC)}: {count}"
        for path, _ in modules()
        if (count := len(path.read_text().splitlines())) > 500
    ]
    assert long == []


@pytest.mark.parametrize("init", lazy_faces(), ids=lambda path: path.parent.name)
def test_no_face_gives_a_name_its_own_module_has(init: Path) -> None:
    """A lazy face's name that is also one of its modules' names is shadowed by the module
    once anything imports it (`from supalink.agent import visible` gave the module)."""
    modules = {path.stem for path in init.parent.glob("*.py")}
    import importlib

    package = importlib.import_module(f"supalink.{init.parent.name}")
    # A module given as itself (profiles.defaults) is no clash.
    clashes = {
        name
        for name in modules & set(package.__all__)
        if not isinstance(getattr(package, name), type(importlib))
    }
    assert clashes == set()
