"""How subcommands print a record: one JSON object, or aligned `key  value` lines."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def print_record(fields: Mapping[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(dict(fields)))
        return
    width = max(map(len, fields), default=0)
    for key, value in fields.items():
        print(f"{key:<{width}}  {'-' if value is None else value}")
