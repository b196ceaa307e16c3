"""Replaces pyinstaller-hooks-contrib's hook, which asks for psycopg_binary._uuid always.

psycopg_binary's C extension imports modules that analysis cannot see: `uuid` in every
release, and `psycopg_binary._uuid` only in the releases that ship it (3.3 does not, and
the contrib hook then logs an ERROR on every build).
"""

from importlib.util import find_spec
from pathlib import Path

hiddenimports = ["uuid", "psycopg_binary.pq"]
# Look for the file: importing psycopg_binary (even for find_spec of a submodule) fails
# unless psycopg was imported first.
_spec = find_spec("psycopg_binary")
_folders = _spec.submodule_search_locations if _spec is not None else None
if any(any(Path(folder).glob("_uuid.*")) for folder in _folders or ()):
    hiddenimports.append("psycopg_binary._uuid")
