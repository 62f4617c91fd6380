"""Requests and answers of the Google test server, checked against Google's own
description of the API: the Calendar v3 discovery document that ships inside
google-api-python-client (``googleapiclient/discovery_cache/documents/calendar.v3.json``),
loaded from the installed package, never downloaded.

What is checked, for every property at every depth (``$ref`` followed):

- names: a property the schema does not have is refused (a request) or a
  server bug (an answer);
- types: ``string``, ``integer`` (``int32`` within range), ``boolean``,
  ``array`` (each item), ``object`` (``properties`` or ``additionalProperties``),
  ``any``;
- formats: ``date-time`` is RFC 3339 (in an answer always with an offset, as
  Google always answers; a request may leave the offset out where
  ``EventDateTime.timeZone`` names the zone, see that property's description),
  ``date`` is ``yyyy-mm-dd``, ``int64`` a string of digits;
- required fields: the schema's ``annotations.required`` name the methods that
  need them (``Event.start`` and ``Event.end`` for ``calendar.events.insert``,
  ``update`` and ``import``);
- ``null``: in a patch it clears the field (Google's patch semantics, see
  https://developers.google.com/calendar/api/guides/performance#patch); nowhere
  else, and never in an answer (Google leaves an empty field out).
"""

from __future__ import annotations

import functools
import json
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATE_TIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$", re.IGNORECASE
)
INT32 = (-(2**31), 2**31 - 1)
# The answers' ``kind`` → the schema that describes them.
KINDS = {
    "calendar#event": "Event",
    "calendar#events": "Events",
    "calendar#calendarListEntry": "CalendarListEntry",
    "calendar#calendarList": "CalendarList",
    "calendar#calendar": "Calendar",
    "calendar#setting": "Setting",
    "calendar#settings": "Settings",
    "calendar#colors": "Colors",
}


@functools.cache
def document() -> dict:
    """The calendar v3 discovery document of the installed google-api-python-client."""
    import googleapiclient

    path = Path(googleapiclient.__file__).parent / "discovery_cache/documents/calendar.v3.json"
    return json.loads(path.read_text(encoding="utf-8"))


def schema(name: str) -> dict:
    return document()["schemas"][name]


def problems(
    value: Any, name: str, *, method: str | None = None, answer: bool = False
) -> list[str]:
    """What is wrong with ``value`` as a ``name`` (a schema id): an empty list when
    nothing is. ``method`` (e.g. ``calendar.events.insert``) switches on its
    required fields and, for ``calendar.events.patch``, ``null`` as "clear"."""
    found: list[str] = []
    _check(value, schema(name), name, method, answer, found, top=True)
    return found


def answer_problems(value: Any) -> list[str]:
    """An answer checked against the schema its ``kind`` names (none: nothing to check)."""
    if not isinstance(value, dict) or value.get("kind") not in KINDS:
        return []
    return problems(value, KINDS[value["kind"]], answer=True)


def _check(
    value: Any,
    node: dict,
    path: str,
    method: str | None,
    answer: bool,
    found: list[str],
    top: bool = False,
) -> None:
    if "$ref" in node:
        node = schema(node["$ref"])
    if value is None:
        if answer or method != "calendar.events.patch":
            found.append(f"{path}: null")
        return
    kind = node.get("type")
    if kind == "any":
        return
    if kind == "string":
        if not isinstance(value, str):
            found.append(f"{path}: expected a string, got {type(value).__name__}")
            return
        _check_format(value, node.get("format"), path, answer, found)
        if "enum" in node and value not in node["enum"]:
            found.append(f"{path}: {value!r} is not one of {node['enum']}")
        return
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            found.append(f"{path}: expected an integer, got {type(value).__name__}")
        elif node.get("format") == "int32" and not INT32[0] <= value <= INT32[1]:
            found.append(f"{path}: {value} is out of the int32 range")
        return
    if kind == "boolean":
        if not isinstance(value, bool):
            found.append(f"{path}: expected a boolean, got {type(value).__name__}")
        return
    if kind == "array":
        if not isinstance(value, list):
            found.append(f"{path}: expected an array, got {type(value).__name__}")
            return
        for i, item in enumerate(value):
            if item is None:
                found.append(f"{path}[{i}]: null")
                continue
            _check(item, node["items"], f"{path}[{i}]", method, answer, found)
        return
    if kind == "object" or "properties" in node:
        if not isinstance(value, dict):
            found.append(f"{path}: expected an object, got {type(value).__name__}")
            return
        properties = node.get("properties")
        extra = node.get("additionalProperties")
        for key, item in value.items():
            if properties is not None and key in properties:
                _check(item, properties[key], f"{path}.{key}", method, answer, found)
            elif extra is not None:
                _check(item, extra, f"{path}.{key}", method, answer, found)
            else:
                found.append(f"{path}: unknown name {key!r}")
        if method and properties:
            for key, prop in properties.items():
                required = prop.get("annotations", {}).get("required", ())
                if method in required and key not in value:
                    found.append(f"{path}.{key}: required for {method}")
        return
    found.append(f"{path}: the schema has no type {kind!r}")  # pragma: no cover


def _check_format(value: str, fmt: str | None, path: str, answer: bool, found: list[str]) -> None:
    if fmt == "date-time":
        match = DATE_TIME_RE.match(value)
        if match is None:
            found.append(f"{path}: {value!r} is not an RFC 3339 date-time")
            return
        if answer and match.group(2) is None:
            found.append(f"{path}: {value!r} has no offset (Google always answers with one)")
        try:
            datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        except ValueError:
            found.append(f"{path}: {value!r} is not a date-time")
    elif fmt == "date":
        try:
            ok = bool(DATE_RE.match(value)) and date.fromisoformat(value) is not None
        except ValueError:
            ok = False
        if not ok:
            found.append(f"{path}: {value!r} is not a yyyy-mm-dd date")
    elif fmt == "int64" and not re.fullmatch(r"-?\d+", value):
        found.append(f"{path}: {value!r} is not an int64 string")
