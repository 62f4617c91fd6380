"""Requests and answers of the Graph test server, checked against Microsoft's own
description of the API: the Microsoft Graph v1.0 CSDL metadata (the document
``https://graph.microsoft.com/v1.0/$metadata`` serves), cut down to the calendar
types in ``tests/fakes/graph_schemas/calendar-v1.0.xml`` (its README says where
it comes from and how it was cut). Read from that file, never downloaded.

What is checked, for every property at every depth (``BaseType`` followed up to
``entity``, ``Collection(...)`` unwrapped):

- names: a property the type (or a base type) does not declare is refused (a
  request) or a server bug (an answer); case matters. OData control names
  (``@odata.*``, ``@removed``) and annotations on a property (``x@odata.type``)
  are not properties. Navigation properties appear only when ``$expand``-ed or
  written (``singleValueExtendedProperties``);
- EDM types: ``Edm.String`` a string, ``Edm.Boolean`` true/false, ``Edm.Int32``
  an integer in range, ``Edm.Double`` a number, ``Edm.Guid``, ``Edm.Date``,
  ``Edm.TimeOfDay``, ``Edm.DateTimeOffset`` (an ISO 8601 string with an offset or Z);
- enum members: the value is one of the ``Member Name`` strings (a flags enum such
  as ``calendarRoleType`` is not used here);
- nullability: ``Nullable="false"`` members are never ``null``.
"""

from __future__ import annotations

import functools
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).parent / "graph_schemas" / "calendar-v1.0.xml"
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
INT32 = (-(2**31), 2**31 - 1)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{2}:\d{2}:\d{2}(\.\d{1,7})?$")
_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$")


@dataclass(frozen=True)
class Member:
    name: str
    type: str  # "graph.event", "Edm.String" (collections unwrapped)
    collection: bool
    nullable: bool
    navigation: bool


@dataclass(frozen=True)
class Schema:
    structured: dict[str, dict[str, Member]]  # type → members, inherited ones included
    enums: dict[str, frozenset[str]]


def _short(name: str) -> str:
    for prefix in ("microsoft.graph.", "graph."):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


@functools.cache
def schema() -> Schema:
    root = ET.parse(SCHEMA_FILE).getroot()
    own: dict[str, dict[str, Member]] = {}
    bases: dict[str, str | None] = {}
    enums: dict[str, frozenset[str]] = {}
    for element in root.iter():
        tag = element.tag.removeprefix(EDM)
        if tag == "EnumType":
            enums[element.get("Name")] = frozenset(
                m.get("Name") for m in element if m.tag == EDM + "Member"
            )
        elif tag in ("EntityType", "ComplexType"):
            name = element.get("Name")
            base = element.get("BaseType")
            bases[name] = _short(base) if base else None
            members = {}
            for prop in element:
                kind = prop.tag.removeprefix(EDM)
                if kind not in ("Property", "NavigationProperty"):
                    continue
                raw = prop.get("Type")
                collection = raw.startswith("Collection(")
                inner = raw[len("Collection(") : -1] if collection else raw
                members[prop.get("Name")] = Member(
                    prop.get("Name"),
                    inner if inner.startswith("Edm.") else _short(inner),
                    collection,
                    prop.get("Nullable") != "false",
                    kind == "NavigationProperty",
                )
            own[name] = members
    structured = {}
    for name in own:
        merged: dict[str, Member] = {}
        chain, cursor = [], name
        while cursor is not None:
            chain.append(cursor)
            cursor = bases.get(cursor)
        for type_name in reversed(chain):
            merged.update(own[type_name])
        structured[name] = merged
    return Schema(structured, enums)


def is_control(name: str) -> bool:
    """An OData control name or a property annotation, not a property."""
    return name.startswith("@") or "@" in name


def problems(
    value: Any, type_name: str, where: str = "", expanded: frozenset = frozenset()
) -> list[str]:
    """What in ``value`` breaks the definition of ``type_name`` (empty when nothing does).

    ``expanded`` names the navigation properties the body may carry at its top level.
    """
    sch = schema()
    out: list[str] = []
    _check(sch, value, type_name, where or type_name, expanded, out)
    return out


def _check(sch: Schema, value: Any, type_name: str, where: str, expanded, out: list[str]) -> None:
    if type_name.startswith("Edm."):
        _primitive(value, type_name, where, out)
        return
    if type_name in sch.enums:
        if not isinstance(value, str) or value not in sch.enums[type_name]:
            out.append(f"{where}: {value!r} is not a member of {type_name}")
        return
    members = sch.structured.get(type_name)
    if members is None:
        out.append(f"{where}: unknown type {type_name}")
        return
    if not isinstance(value, dict):
        out.append(f"{where}: {type_name} must be an object, not {type(value).__name__}")
        return
    for name, item in value.items():
        if is_control(name):
            continue
        member = members.get(name)
        if member is None:
            out.append(f"{where}.{name}: no such property of {type_name}")
            continue
        if member.navigation and name not in expanded:
            out.append(f"{where}.{name}: navigation property of {type_name} not expanded")
            continue
        _member(sch, item, member, f"{where}.{name}", out)


def _member(sch: Schema, value: Any, member: Member, where: str, out: list[str]) -> None:
    if value is None:
        if not member.nullable:
            out.append(f"{where}: must not be null")
        return
    if member.collection:
        if not isinstance(value, list):
            out.append(f"{where}: must be an array")
            return
        for i, item in enumerate(value):
            if item is None:
                out.append(f"{where}[{i}]: must not be null")
            else:
                _check(sch, item, member.type, f"{where}[{i}]", frozenset(), out)
        return
    _check(sch, value, member.type, where, frozenset(), out)


def _primitive(value: Any, type_name: str, where: str, out: list[str]) -> None:
    ok = True
    if type_name == "Edm.String":
        ok = isinstance(value, str)
    elif type_name == "Edm.Boolean":
        ok = isinstance(value, bool)
    elif type_name == "Edm.Int32":
        ok = isinstance(value, int) and not isinstance(value, bool)
        ok = ok and INT32[0] <= value <= INT32[1]
    elif type_name == "Edm.Double":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif type_name == "Edm.Guid":
        ok = isinstance(value, str) and bool(_GUID.match(value))
    elif type_name == "Edm.Date":
        ok = isinstance(value, str) and bool(_DATE.match(value))
    elif type_name == "Edm.TimeOfDay":
        ok = isinstance(value, str) and bool(_TIME.match(value))
    elif type_name == "Edm.DateTimeOffset":
        ok = isinstance(value, str) and bool(_OFFSET.match(value))
    if not ok:
        out.append(f"{where}: {value!r} is not {type_name}")


# The answer's @odata.context → the type of its entity or of its value's items.
_CONTEXT = re.compile(r"\$metadata#(?P<path>[^?]*)$")


def answer_problems(
    answer: Any, type_name: str | None, expanded: frozenset = frozenset()
) -> list[str]:
    """An answer's problems: an entity of ``type_name`` or a collection ({"value": [...]})."""
    out: list[str] = []
    if not isinstance(answer, dict):
        return out
    if "@odata.context" not in answer:
        out.append("answer: no @odata.context")
    if type_name is None:
        return out
    if isinstance(answer.get("value"), list) and "id" not in answer:
        for i, item in enumerate(answer["value"]):
            if isinstance(item, dict) and "@removed" in item:
                rest = {k: v for k, v in item.items() if k != "@removed"}
                out.extend(problems(rest, type_name, f"value[{i}]"))
            else:
                out.extend(problems(item, type_name, f"value[{i}]", expanded))
        return out
    out.extend(problems(answer, type_name, type_name, expanded))
    return out
