"""Package faces that load a module only when one of its names is first used (PEP 562):
`supalink mcp-run` starts for every MCP server start, and the main window paints before
psycopg, asyncio and the connection test load (importing every module of the probe, roles
or Supabase faces at once costs 150-350 ms more here).

A face writes each name once, in an import: the modules it loads with the package as plain
imports, the rest inside `if TYPE_CHECKING:` (what mypy reads). What the interpreter needs
at run time, each lazy name's module and the face's `__all__`, is generated from those
imports into the face's last lines by `python -m supalink.lazy` (the source is not read at
run time: a frozen app has none). tests/test_layers.py fails when a face and its generated
lines disagree."""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

GENERATED = "# Generated from the imports above by `python -m supalink.lazy`: do not edit.\n"


def lazy_attributes(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` for `package`: each name of `homes` is imported from its module
    (named relative to the package) when first asked for."""

    def __getattr__(name: str) -> Any:
        module = homes.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return __getattr__


def face_names(source: str, package: str) -> tuple[dict[str, str], list[str]]:
    """From a face's source: each lazy name's module, relative to the package (the
    `if TYPE_CHECKING:` imports), and every name the face gives, in the order written
    (those imports and its plain imports from its own package)."""
    homes: dict[str, str] = {}
    given: list[str] = []

    def take(statements: list[ast.stmt], *, lazy: bool) -> None:
        for node in statements:
            if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
                continue
            if node.module != package and not node.module.startswith(f"{package}."):
                continue
            for alias in node.names:
                name = alias.asname or alias.name
                given.append(name)
                if lazy:
                    homes[name] = node.module.removeprefix(f"{package}.")

    for node in ast.parse(source).body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            take(node.body, lazy=True)
        elif not isinstance(node, ast.If):
            take([node], lazy=False)
    return homes, given


def generated_lines(source: str, package: str) -> str:
    """The face's generated last lines, formatted as ruff formats them."""
    homes, given = face_names(source, package)
    text = GENERATED
    if homes:
        text += "__getattr__ = lazy_attributes(\n    __name__,\n    {\n"
        text += "".join(f'        "{name}": "{module}",\n' for name, module in homes.items())
        text += "    },\n)\n"
    text += (
        "__all__ = [\n" + "".join(f'    "{name}",\n' for name in sorted(given, key=_isort)) + "]\n"
    )
    return text


def _isort(name: str) -> tuple[int, str]:
    """The order ruff keeps an `__all__` in: constants, then classes, then the rest."""
    return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)


def regenerated(source: str, package: str) -> str:
    """The face's source with its generated lines made anew from its imports."""
    written = source.split(GENERATED, maxsplit=1)[0].rstrip("\n")
    return f"{written}\n\n{generated_lines(written, package)}"


def faces(root: Path) -> list[Path]:
    """The faces under `root` (the supalink package's folder): the packages whose
    `__init__.py` ends in generated lines."""
    return [
        path
        for path in sorted(root.glob("*/__init__.py"))
        if GENERATED in path.read_text(encoding="utf-8")
    ]


def main() -> int:
    root = Path(__file__).resolve().parent
    for path in faces(root):
        source = path.read_text(encoding="utf-8")
        fresh = regenerated(source, f"supalink.{path.parent.name}")
        if fresh != source:
            path.write_text(fresh, encoding="utf-8")
            print(f"rewrote {path.relative_to(root.parent)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
