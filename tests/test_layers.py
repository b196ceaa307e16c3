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
    **dict.fromkeys(("__init__", "errors", "files", "logs", "paths", "lazy", "error_texts"), 0),
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
    """ui/ gets the folders it needs from app.py, and what profiles/, probe/, mcp/ and
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


def lazy_faces() -> Iterator[Path]:
    for path in sorted(SRC.glob("*/__init__.py")):
        if "lazy_attributes(" in path.read_text(encoding="utf-8"):
            yield path


@pytest.mark.parametrize("init", list(lazy_faces()), ids=lambda path: path.parent.name)
def test_a_lazy_face_loads_each_name_from_where_mypy_reads_it(init: Path) -> None:
    """A lazy face lists its names twice: imported under TYPE_CHECKING (what mypy checks)
    and in `_HOMES` (what `lazy_attributes` loads at run time). The two must agree."""
    tree = ast.parse(init.read_text(encoding="utf-8"))
    package = f"supalink.{init.parent.name}."
    typed: dict[str, tuple[str, ...]] = {}
    homes: dict[str, tuple[str, ...]] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for imported_from in node.body:
                assert isinstance(imported_from, ast.ImportFrom), ast.unparse(imported_from)
                module = (imported_from.module or "").removeprefix(package)
                typed[module] = tuple(alias.name for alias in imported_from.names)
        elif isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "_HOMES":
            homes = ast.literal_eval(node.value)
    assert homes, f"{init.relative_to(SRC)} has no _HOMES"
    assert {m: sorted(n) for m, n in typed.items()} == {m: sorted(n) for m, n in homes.items()}


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
    """Errors and warnings carry data; commands/ words them as flags, ui/ as its fields."""
    offenders = []
    for path, tree in modules():
        if unit_of(path) not in CAPABILITIES:
            continue
        for text, line in messages(tree):
            where = f"{path.relative_to(SRC)}:{line}"
            offenders += [f"{where}: {text!r}" for flag in CLI_FLAGS if flag in text]
    assert offenders == []


def test_no_module_passes_500_lines() -> None:
    long = [
        f"{path.relative_to(SRC)}: {count}"
        for path, _ in modules()
        if (count := len(path.read_text().splitlines())) > 500
    ]
    assert long == []


@pytest.mark.parametrize("init", list(lazy_faces()), ids=lambda path: path.parent.name)
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
