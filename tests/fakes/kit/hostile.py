"""Hostile answers: a success status whose body no sane service would send.

Two fault kinds (:data:`HOSTILE_KINDS`), answered by every HTTP test server in
its own wire format with these functions:

- ``deep_nesting``: the listing is nested ``depth`` levels deep (200,000 by
  default), ``[[[…]]]`` in JSON or ``<a><a>…</a></a>`` inside the SOAP body.
  A client that parses it recursively without a bound dies of RecursionError
  or of memory.
- ``bad_value``: the service's real answer with one value replaced: the first
  event (or occurrence) in it that has ``field`` gets ``value`` there
  (``field`` is a dotted JSON path such as ``start.dateTime``, or an XML
  element's local name such as ``Start``). An impossible date such as
  ``2026-13-45T99:99:99Z`` is the usual value; the rest of the answer is
  untouched, so the good events on the same page must still arrive.
"""

from __future__ import annotations

import copy
import re
from typing import Any

HOSTILE_KINDS = ("deep_nesting", "bad_value")
DEEP = 200_000
IMPOSSIBLE_DATE = "2026-13-45T99:99:99Z"


def deep_json(key: str, depth: int = DEEP) -> bytes:
    """A JSON listing whose ``key`` holds arrays nested ``depth`` deep."""
    return b'{"' + key.encode() + b'": [' + b"[" * depth + b"]" * depth + b"]}"


def deep_xml(depth: int = DEEP) -> bytes:
    """A SOAP envelope whose body holds elements nested ``depth`` deep."""
    return (
        b'<?xml version="1.0" encoding="utf-8"?>'
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
        + b"<a>" * depth
        + b"</a>" * depth
        + b"</s:Body></s:Envelope>"
    )


def _has(node: Any, path: list[str]) -> bool:
    for name in path:
        if not isinstance(node, dict) or name not in node:
            return False
        node = node[name]
    return True


def _put(node: dict, path: list[str], value: str) -> None:
    for name in path[:-1]:
        node = node[name]
    node[path[-1]] = value


def rewrite_json(data: Any, field: str, value: str) -> tuple[Any, bool]:
    """``data`` (a listing's ``items``/``value``, a batch's answers, or one event)
    with ``value`` at ``field`` of the first event that has it; and whether one had."""
    path = field.split(".")
    data = copy.deepcopy(data)

    def visit(node: Any) -> bool:
        if isinstance(node, dict):
            if _has(node, path) and ("id" in node or "iCalUID" in node):
                _put(node, path, value)
                return True
            return any(visit(v) for v in node.values())
        if isinstance(node, list):
            return any(visit(v) for v in node)
        return False

    return data, visit(data)


def rewrite_xml(body: bytes, element: str, value: str) -> tuple[bytes, bool]:
    """``body`` with the text of the first ``element`` (any prefix) replaced."""
    pattern = re.compile(
        rb"(<(?:\w+:)?"
        + re.escape(element.encode())
        + rb">)[^<]*(</(?:\w+:)?"
        + re.escape(element.encode())
        + rb">)"
    )
    out, n = pattern.subn(lambda m: m.group(1) + value.encode() + m.group(2), body, count=1)
    return out, bool(n)


def bad_value_answer(faults, fault, data: Any, *, part: bool = False) -> Any:
    """A ``bad_value`` fault applied to a JSON answer ``data``. An answer without
    the field passes unchanged and the fault waits, first in line, for the next
    answer that has it (inside a batch: for the next call in a batch)."""
    new, hit = rewrite_json(data, fault.field or "", fault.value or "")
    if not hit:
        if part:
            faults.arm("bad_value", on="batch_part", field=fault.field, value=fault.value)
        else:
            faults.put_back(fault)
    return new
