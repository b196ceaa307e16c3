"""The layout's rules (DESIGN.md), checked on the source: who may import whom, one home for
each decision, and no capability package spelling a CLI flag in what it says."""

from __future__ import annotations

import ast
import functools
import textwrap
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
FACES = ("profiles", "probe", "mcp", "monitor", "agent", "roles", "supabase_api", "ui", "app")
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


@functools.cache
def faces_give() -> dict[str, set[str]]:
    """Each face and the names it gives (its `__all__`, as generated from its imports)."""
    from supalink.lazy import face_names

    return {
        face: set(face_names((SRC / face / "__init__.py").read_text(), f"supalink.{face}")[1])
        for face in FACES
    }


def test_every_import_from_another_package_goes_through_its_face() -> None:
    """A package is used by what its `__init__.py` gives: a name, or one of its modules
    given whole (profiles.defaults). ui/ gets the folders it needs from app/, never from
    paths.py."""
    given = faces_give()
    offenders = []
    for path, tree in modules():
        unit = unit_of(path)
        for name, line in imported(tree):
            parts = name.split(".")
            deep = parts[1] in FACES and len(parts) > 2 and parts[2] not in given[parts[1]]
            if parts[1] != unit and (deep or (unit == "ui" and parts[1] == "paths")):
                offenders.append(f"{path.relative_to(SRC)}:{line} imports {name}")
    assert offenders == []


def imports_in(tree: ast.AST) -> Iterator[ast.ImportFrom]:
    """The `from … import …` statements of a module, and of the code it holds as text for a
    child process to run."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            yield node
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and "from supalink." in node.value
        ):
            try:
                code = ast.parse(textwrap.dedent(node.value))
            except SyntaxError:
                continue
            yield from imports_in(code)


def test_each_name_taken_from_a_face_is_one_it_gives() -> None:
    """mypy takes any name from a lazy face (its `__getattr__` answers for all), so a name a
    face no longer gives is found here, in src/, tests/ and packaging/, before it fails."""

    repo = SRC.parent.parent
    given = faces_give()
    offenders = []
    for tree_root in (SRC, repo / "tests", repo / "packaging"):
        for path in sorted(tree_root.rglob("*.py")):
            for node in imports_in(ast.parse(path.read_text(encoding="utf-8"))):
                if node.level or not node.module:
                    continue
                face = node.module.removeprefix("supalink.")
                if face == node.module:  # the SDK's `mcp` is not ours
                    continue
                if face not in given:
                    continue
                for alias in node.names:
                    module = SRC / face / alias.name
                    if alias.name not in given[face] and not (
                        module.with_suffix(".py").is_file() or module.is_dir()
                    ):
                        offenders.append(f"{path.relative_to(repo)}:{node.lineno} {alias.name}")
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


TREES = (SRC, SRC.parent.parent / "tests")


def is_data(node: ast.AST) -> bool:
    """A table of data: constants, and lists, tuples, sets and dicts of them."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp):
        return is_data(node.operand)
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return all(is_data(element) for element in node.elts)
    if isinstance(node, ast.Dict):
        return all(key is not None and is_data(key) for key in node.keys) and all(
            is_data(value) for value in node.values
        )
    return False


def unformatted(source: str) -> list[int]:
    """The lines of `source` whose `# fmt: skip` keeps a statement that is not a table of
    data out of the formatter (laid out by hand to save lines)."""
    skipped = [
        number
        for number, line in enumerate(source.splitlines(), start=1)
        if line.rstrip().endswith("# fmt: skip")
    ]
    tables = {
        node.end_lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign)
        and node.value is not None
        and is_data(node.value)
    }
    return [number for number in skipped if number not in tables]


def test_fmt_skip_is_kept_for_tables_of_data() -> None:
    offenders = [
        f"{path.relative_to(SRC.parent.parent)}:{line}"
        for tree in TREES
        for path in sorted(tree.rglob("*.py"))
        for line in unformatted(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_a_table_of_data_may_keep_its_layout_and_code_may_not() -> None:
    table = "REGIONS = (\n    'a', 'b',\n    'c',\n)  # fmt: skip\n"
    call = "run(\n    'a', 'b',\n    check=True,\n)  # fmt: skip\n"
    assert unformatted(table) == []
    assert unformatted(call) == [4]


def module_imports() -> dict[str, set[str]]:
    """Each module of src/ and the modules it imports, at run time or for typing alone: a
    name taken from a lazy face counts as an import of the module that gives it."""
    from supalink.lazy import face_names

    def dotted(path: Path) -> str:
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)

    paths = {dotted(path): path for path, _ in modules()}
    homes = {
        name: {
            lazy: f"{name}.{home}" for lazy, home in face_names(path.read_text(), name)[0].items()
        }
        for name, path in paths.items()
        if path.name == "__init__.py"
    }
    graph: dict[str, set[str]] = {name: set() for name in paths}
    for name, path in paths.items():
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    whole = f"{node.module}.{alias.name}"
                    lazy = homes.get(node.module, {}).get(alias.name)
                    targets.append(whole if whole in paths else lazy or node.module)
            graph[name] |= {target for target in targets if target in paths and target != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or around a loop (Tarjan)."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        order[module] = low[module] = len(order)
        stack.append(module)
        for other in sorted(graph[module]):
            if other not in order:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], order[other])
        if low[module] == order[module]:
            group: list[str] = []
            while not group or group[-1] != module:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph):
        if module not in order:
            visit(module)
    return found


def test_no_modules_import_each_other() -> None:
    """Not even lazily inside a function or for typing alone: two modules that need each
    other are one seam cut in the wrong place."""
    assert cycles(module_imports()) == []


def test_a_loop_of_imports_is_found() -> None:
    loop = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(loop) == [["a", "b", "c"]]


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
