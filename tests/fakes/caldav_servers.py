"""Real CalDAV servers for the tests: Radicale and Xandikos, each run from PyPI
as a process of its own on a loopback port, behind a :class:`CalDAVProxy`
(tests/fakes/kit's FaultProxy) that serves https with the test CA.

- Radicale (https://radicale.org/v3.html#configuration): ``[auth] type =
  htpasswd`` with plain passwords, ``[rights] type = owner_only``, the
  multifilesystem storage in a temporary folder. It authenticates itself.
- Xandikos (``xandikos serve --help``): Basic authentication with
  ``--htpasswd`` requires its own TLS (``--autocert``); its help says to
  "configure authentication at the proxy" when it runs behind one, which is
  what the proxy does here (Basic against the user table, RFC 7617), in front
  of a Xandikos listening on loopback only.

What the vocabulary of :class:`~tests.fakes.kit.RemoteCalendar` needs beyond
the real server:

- another client's acts are iCalendar PUTs and DELETEs straight to the server
  (bypassing the proxy: neither counted nor faulted);
- ``expire_sync_state``: every sync token handed out before reaches the server
  as one it never issued, so the refusal is the server's own (see
  tests/fakes/caldav_proxy.py); Radicale's own token cache is also removed;
- ``invitations_sent``: what the server would send under RFC 6638 §3.2 for the
  PUTs that reached it: one scheduling message per write whose ORGANIZER is the
  owner and that names an attendee without ``SCHEDULE-AGENT=CLIENT``
  (neither server here sends mail).

The proxy (tests/fakes/caldav_proxy.py) injects every fault kind of SPEC §7.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import requests
from icalendar import Calendar, Event, vCalAddress

from tests.fakes.caldav_proxy import CALDAV_FAULT_KINDS, CalDAVProxy
from tests.fakes.kit import RemoteCalendar, neutral_changes, response_word
from tests.fakes.kit.faults import FaultQueue

OWNER = "alice@example.com"
PASSWORD = "app-password-1"
PARTSTATS = {
    "no_response": "NEEDS-ACTION",
    "accepted": "ACCEPTED",
    "tentative": "TENTATIVE",
    "declined": "DECLINED",
}
CLASSES = {"normal": "PUBLIC", "private": "PRIVATE", "confidential": "CONFIDENTIAL"}
# Show-as as another client writes it: RFC 5545 §3.8.2.7 TRANSP (OPAQUE or
# TRANSPARENT), and for what TRANSP cannot say the busy status Outlook writes in
# its iCalendar, X-MICROSOFT-CDO-BUSYSTATUS ([MS-OXCICAL] §2.1.3.1.1.20.15)
BUSY_STATUS = "X-MICROSOFT-CDO-BUSYSTATUS"
BUSY_WORDS = {
    "free": "FREE",
    "tentative": "TENTATIVE",
    "busy": "BUSY",
    "oof": "OOF",
    "workingElsewhere": "WORKINGELSEWHERE",
}


def _write_show_as(component, word: str) -> None:
    for name in ("TRANSP", BUSY_STATUS):
        component.pop(name, None)
    component.add("TRANSP", "TRANSPARENT" if word == "free" else "OPAQUE")
    if word not in ("free", "busy"):
        component.add(BUSY_STATUS, BUSY_WORDS[word])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, process: subprocess.Popen, log: Path) -> None:
    for _ in range(300):  # at most 30 s for the server to listen
        if process.poll() is not None:
            raise RuntimeError(f"the CalDAV server stopped: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the CalDAV server did not start: {log.read_text()[-2000:]}")


class CalDAVServer(RemoteCalendar):
    """A real CalDAV server process, its proxy, and the test vocabulary over both.

    ``url`` is what a person types (the proxy's root, https); ``calendar_url``
    the calendar the tests use; ``ca_bundle`` the test CA. ``reset()`` empties
    the calendar and forgets faults, counts and tokens.
    """

    name = ""
    fault_kinds = CALDAV_FAULT_KINDS
    owner = OWNER
    password = PASSWORD
    home = ""  # the calendar home set's path
    calendar = "calendar"

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix=f"calsync-{self.name}-"))
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.proxy: CalDAVProxy | None = None
        self.faults = FaultQueue()
        self.http = requests.Session()
        self.clock = lambda: datetime.now(UTC)

    # ------------------------------------------------------------------ process

    def command(self) -> list[str]:
        raise NotImplementedError

    def proxy_users(self) -> dict[str, str] | None:
        return None

    def start(self) -> CalDAVServer:
        log = self.folder / "server.log"
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                self.command(), stdout=out, stderr=subprocess.STDOUT, cwd=self.folder
            )
        _wait_for(self.port, self.process, log)
        self.proxy = CalDAVProxy(self.upstream, self.owner, self.proxy_users()).start()
        self.proxy.faults = self.faults
        self.reset()
        return self

    def stop(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
            self.proxy = None
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        self.http.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def upstream(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        assert self.proxy is not None
        return self.proxy.url + "/"

    @property
    def ca_bundle(self) -> str:
        assert self.proxy is not None and self.proxy.ca_bundle
        return self.proxy.ca_bundle

    @property
    def calendar_path(self) -> str:
        return f"{self.home}{self.calendar}/"

    @property
    def calendar_url(self) -> str:
        return self.url.rstrip("/") + self.calendar_path

    # ------------------------------------------------------------ direct access

    def _direct(self, method: str, path: str, body: bytes | str = b"", **headers):
        answer = self.http.request(
            method, self.upstream + path, data=body, headers=headers, auth=self._auth(), timeout=30
        )
        return answer

    def _auth(self):
        return None

    def reset(self, clock=None) -> None:
        if clock is not None:
            self.clock = clock
        self.faults.clear()
        proxy = self.proxy
        assert proxy is not None
        proxy.requests = 0
        proxy.scheduling_messages = 0
        proxy.traffic.clear()
        proxy.refuse_sync_collection = False
        proxy.issued_tokens.clear()
        proxy.refused_tokens.clear()
        self.restore_sign_in()
        self._direct("DELETE", self.calendar_path)
        made = self._direct(
            "MKCALENDAR",
            self.calendar_path,
            '<?xml version="1.0" encoding="utf-8"?>'
            '<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            "<D:set><D:prop><D:displayname>Calendar</D:displayname>"
            '<C:supported-calendar-component-set><C:comp name="VEVENT"/>'
            "</C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>",
            **{"Content-Type": "application/xml"},
        )
        assert made.status_code in (201, 200), (made.status_code, made.text[:300])

    def resource_paths(self) -> list[str]:
        answer = self._direct(
            "PROPFIND",
            self.calendar_path,
            '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/>'
            "</D:prop></D:propfind>",
            Depth="1",
            **{"Content-Type": "application/xml"},
        )
        paths = re.findall(r"<(?:\w+:)?href>([^<]+)</(?:\w+:)?href>", answer.text)
        from urllib.parse import unquote

        paths = [unquote(p) for p in paths]
        return [p for p in paths if p.rstrip("/") != self.calendar_path.rstrip("/")]

    def read(self, remote_id: str) -> Calendar:
        answer = self._direct("GET", remote_id)
        assert answer.status_code == 200, (remote_id, answer.status_code)
        return Calendar.from_ical(answer.text)

    def write_calendar(self, remote_id: str, calendar: Calendar) -> None:
        answer = self._direct(
            "PUT", remote_id, calendar.to_ical(), **{"Content-Type": "text/calendar"}
        )
        assert answer.status_code in (200, 201, 204), (answer.status_code, answer.text[:300])

    def raw(self, remote_id: str) -> str:
        """The resource's iCalendar text as the server stores it."""
        return self._direct("GET", remote_id).text

    # ------------------------------------------------------------ another client

    def _stamp(self, component) -> None:
        now = self.clock()
        for name in ("DTSTAMP", "LAST-MODIFIED"):
            component.pop(name, None)
            component.add(name, now)

    def _create_event(self, event) -> str:
        calendar = Calendar()
        calendar.add("PRODID", "-//another client//EN")
        calendar.add("VERSION", "2.0")
        vevent = Event()
        uid = f"{uuid.uuid4()}@another.example"
        vevent.add("UID", uid)
        vevent.add("SUMMARY", event.subject)
        zone = _zone(event.timezone)
        vevent.add("DTSTART", event.start.astimezone(zone))
        vevent.add("DTEND", event.end.astimezone(zone))
        if event.body:
            vevent.add("DESCRIPTION", event.body)
        if event.location:
            vevent.add("LOCATION", event.location)
        if event.sensitivity != "normal":
            vevent.add("CLASS", CLASSES.get(event.sensitivity, "PRIVATE"))
        _write_show_as(vevent, event.show_as)
        if event.join_url:
            vevent.add("URL", event.join_url)  # RFC 5545 §3.8.4.6, as Zoom's invitations give it
        if event.attendees or event.organizer:
            vevent.add("ORGANIZER", vCalAddress(f"mailto:{event.organizer or self.owner}"))
        for name, email in event.attendees:
            params = {"PARTSTAT": "NEEDS-ACTION"}
            if name:
                params["CN"] = name
            vevent.add("ATTENDEE", vCalAddress(f"mailto:{email}"), parameters=params)
        if event.organizer:
            vevent.add(
                "ATTENDEE",
                vCalAddress(f"mailto:{self.owner}"),
                parameters={"PARTSTAT": "NEEDS-ACTION"},
            )
        self._stamp(vevent)
        calendar.add_component(vevent)
        calendar.add_missing_timezones()
        path = f"{self.calendar_path}{uuid.uuid4().hex}.ics"
        self.write_calendar(path, calendar)
        return path

    def create_all_day_event(self, subject: str, day: date, days: int = 1) -> str:
        calendar = Calendar()
        calendar.add("PRODID", "-//another client//EN")
        calendar.add("VERSION", "2.0")
        vevent = Event()
        vevent.add("UID", f"{uuid.uuid4()}@another.example")
        vevent.add("SUMMARY", subject)
        vevent.add("DTSTART", day)
        vevent.add("DTEND", day + timedelta(days=days))
        self._stamp(vevent)
        calendar.add_component(vevent)
        path = f"{self.calendar_path}{uuid.uuid4().hex}.ics"
        self.write_calendar(path, calendar)
        return path

    def _master(self, calendar: Calendar):
        return next(c for c in calendar.walk("VEVENT") if c.get("RECURRENCE-ID") is None)

    def _change(self, component, changes: dict, zone) -> None:
        changes = neutral_changes(changes)
        if "subject" in changes:
            component.pop("SUMMARY", None)
            component.add("SUMMARY", changes["subject"])
        if "body" in changes:
            component.pop("DESCRIPTION", None)
            component.add("DESCRIPTION", changes["body"])
        if "location" in changes:
            component.pop("LOCATION", None)
            component.add("LOCATION", changes["location"])
        for key, name in (("start", "DTSTART"), ("end", "DTEND")):
            if key in changes:
                component.pop(name, None)
                component.add(name, changes[key].astimezone(zone))
        if "sensitivity" in changes:
            component.pop("CLASS", None)
            component.add("CLASS", CLASSES.get(changes["sensitivity"], "PRIVATE"))
        if "show_as" in changes:
            _write_show_as(component, changes["show_as"])
        self._stamp(component)

    def edit_event(self, remote_id: str, **changes) -> None:
        calendar = self.read(remote_id)
        master = self._master(calendar)
        self._change(master, changes, _zone_of(master))
        calendar.add_missing_timezones()
        self.write_calendar(remote_id, calendar)

    def delete_event(self, remote_id: str) -> None:
        answer = self._direct("DELETE", remote_id)
        assert answer.status_code in (200, 204), answer.status_code

    def cancel_event(self, remote_id: str) -> None:
        calendar = self.read(remote_id)
        master = self._master(calendar)
        master.pop("STATUS", None)
        master.add("STATUS", "CANCELLED")
        self._stamp(master)
        self.write_calendar(remote_id, calendar)

    def add_attendee(self, remote_id: str, email: str, name: str | None = None) -> None:
        calendar = self.read(remote_id)
        master = self._master(calendar)
        params = {"PARTSTAT": "NEEDS-ACTION", **({"CN": name} if name else {})}
        master.add("ATTENDEE", vCalAddress(f"mailto:{email}"), parameters=params)
        self._stamp(master)
        self.write_calendar(remote_id, calendar)

    def set_response(self, remote_id: str, email: str, response: str) -> None:
        calendar = self.read(remote_id)
        word = response_word(response, PARTSTATS)
        for vevent in calendar.walk("VEVENT"):
            attendees = vevent.get("ATTENDEE") or []
            for attendee in attendees if isinstance(attendees, list) else [attendees]:
                if str(attendee).lower().removeprefix("mailto:") == email.lower():
                    attendee.params["PARTSTAT"] = word
        self._stamp(self._master(calendar))
        self.write_calendar(remote_id, calendar)

    def occurrence_starts(self, master_id: str) -> list[datetime]:
        import recurring_ical_events

        calendar = self.read(master_id)
        master = self._master(calendar)
        start = master.decoded("DTSTART")
        end = datetime(start.year + 5, 1, 1, tzinfo=UTC)
        begin = start.astimezone(UTC) - timedelta(days=1)
        found = recurring_ical_events.of(calendar).between(begin, end)
        return sorted(e.decoded("DTSTART").astimezone(UTC) for e in found)

    def delete_occurrence(self, master_id: str, original_start: datetime) -> None:
        calendar = self.read(master_id)
        master = self._master(calendar)
        zone = _zone_of(master)
        for v in list(calendar.subcomponents):
            if (
                v.name == "VEVENT"
                and v.get("RECURRENCE-ID") is not None
                and v.decoded("RECURRENCE-ID").astimezone(UTC) == original_start.astimezone(UTC)
            ):
                calendar.subcomponents.remove(v)
        master.add("EXDATE", [original_start.astimezone(zone)])
        self._stamp(master)
        self.write_calendar(master_id, calendar)

    def _occurrence(self, calendar, original_start: datetime, copied=()) -> Event:
        """The overridden component (RECURRENCE-ID) of one occurrence, added as a
        copy of the series' occurrence (with the ``copied`` properties too) when
        there is none yet."""
        master = self._master(calendar)
        zone = _zone_of(master)
        for v in calendar.walk("VEVENT"):
            if v.get("RECURRENCE-ID") is not None and (
                v.decoded("RECURRENCE-ID").astimezone(UTC) == original_start.astimezone(UTC)
            ):
                return v
        target = Event()
        target.add("UID", str(master.get("UID")))
        target.add("RECURRENCE-ID", original_start.astimezone(zone))
        length = master.decoded("DTEND") - master.decoded("DTSTART")
        target.add("DTSTART", original_start.astimezone(zone))
        target.add("DTEND", (original_start + length).astimezone(zone))
        for name in ("SUMMARY", "DESCRIPTION", "LOCATION", *copied):
            if master.get(name) is not None:
                target[name] = copy.deepcopy(master.get(name))
        calendar.add_component(target)
        return target

    def edit_occurrence(self, master_id: str, original_start: datetime, **changes) -> None:
        calendar = self.read(master_id)
        target = self._occurrence(calendar, original_start)
        self._change(target, changes, _zone_of(self._master(calendar)))
        self.write_calendar(master_id, calendar)

    def answer_occurrence(
        self, master_id: str, original_start: datetime, email: str, response: str
    ) -> None:
        # An attendee's REPLY for one instance (RFC 5546 §3.2.3, RECURRENCE-ID)
        # lands in the organiser's copy as an overridden instance holding the
        # PARTSTAT (RFC 6638 §3.2.2), otherwise the series' occurrence.
        calendar = self.read(master_id)
        target = self._occurrence(calendar, original_start, ("ORGANIZER", "ATTENDEE"))
        word = response_word(response, PARTSTATS)
        attendees = target.get("ATTENDEE") or []
        for attendee in attendees if isinstance(attendees, list) else [attendees]:
            if str(attendee).lower().removeprefix("mailto:") == email.lower():
                attendee.params["PARTSTAT"] = word
                break
        else:
            raise KeyError(email)
        self._stamp(self._master(calendar))
        self.write_calendar(master_id, calendar)

    # ------------------------------------------------------------- what it holds

    def event_ids(self) -> list[str]:
        found = []
        for path in self.resource_paths():
            calendar = self.read(path)
            stamps = [v.decoded("DTSTAMP") for v in calendar.walk("VEVENT") if v.get("DTSTAMP")]
            created = [v.decoded("CREATED") for v in calendar.walk("VEVENT") if v.get("CREATED")]
            if calendar.walk("VEVENT"):
                found.append(((created or stamps or [datetime.min.replace(tzinfo=UTC)])[0], path))
        return [p for _, p in sorted(found)]

    def sensitivity(self, remote_id: str) -> str:
        value = str(self._master(self.read(remote_id)).get("CLASS") or "PUBLIC").upper()
        return {"PRIVATE": "private", "CONFIDENTIAL": "confidential"}.get(value, "normal")

    def own_response(self, remote_id: str) -> str | None:
        answer = self._direct("GET", remote_id)
        if answer.status_code == 404:
            return None
        master = self._master(Calendar.from_ical(answer.text))
        neutral = {v: k for k, v in PARTSTATS.items()}
        attendees = master.get("ATTENDEE") or []
        for attendee in attendees if isinstance(attendees, list) else [attendees]:
            if str(attendee).lower().removeprefix("mailto:") == self.owner.lower():
                return neutral.get(str(attendee.params.get("PARTSTAT", "")).upper(), "no_response")
        return "no_response"

    def show_as(self, remote_id: str) -> str:
        master = self._master(self.read(remote_id))
        status = str(master.get(BUSY_STATUS) or "").upper()
        for word, value in BUSY_WORDS.items():
            if status == value:
                return word
        return "free" if str(master.get("TRANSP") or "").upper() == "TRANSPARENT" else "busy"

    def invitations_sent(self) -> int:
        assert self.proxy is not None
        return self.proxy.scheduling_messages

    def count_requests(self) -> int:
        assert self.proxy is not None
        return self.proxy.requests

    # --------------------------------------------------------- administrator

    def expire_sync_state(self) -> None:
        assert self.proxy is not None
        self.proxy.expire_tokens()

    def revoke_sign_in(self) -> None:
        self.set_password("changed-" + self.password)

    def restore_sign_in(self) -> None:
        self.set_password(self.password)

    def set_password(self, password: str) -> None:
        raise NotImplementedError

    def looking(self):
        assert self.proxy is not None
        return self.proxy.looking()

    @property
    def is_looking(self) -> bool:
        return self.proxy is not None and self.proxy._looks > 0


def _zone(name: str):
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):
        return UTC


def _zone_of(vevent):
    start = vevent.decoded("DTSTART")
    return getattr(start, "tzinfo", None) or UTC


class RadicaleServer(CalDAVServer):
    """Radicale 3, authenticating with its own htpasswd file."""

    name = "radicale"

    def __init__(self):
        super().__init__()
        self.users_file = self.folder / "users"
        self.home = f"/{self.owner}/"
        self._password = self.password

    def command(self) -> list[str]:
        config = self.folder / "config"
        config.write_text(
            "[server]\n"
            f"hosts = 127.0.0.1:{self.port}\n"
            "[auth]\n"
            "type = htpasswd\n"
            f"htpasswd_filename = {self.users_file}\n"
            "htpasswd_encryption = plain\n"
            "[rights]\n"
            "type = owner_only\n"
            "[storage]\n"
            f"filesystem_folder = {self.folder / 'collections'}\n"
            "[logging]\n"
            "level = error\n"
        )
        self.set_password(self.password)
        return [sys.executable, "-m", "radicale", "--config", str(config)]

    def set_password(self, password: str) -> None:
        self._password_now = password
        self.users_file.write_text(f"{self.owner}:{password}\n")
        os.utime(self.users_file)

    def _auth(self):
        return (self.owner, self._password_now)

    def expire_sync_state(self) -> None:
        super().expire_sync_state()
        root = self.folder / "collections" / "collection-root"
        for cache in root.rglob("sync-token"):
            shutil.rmtree(cache, ignore_errors=True)


class XandikosServer(CalDAVServer):
    """Xandikos, listening on loopback only, authenticated at the proxy."""

    name = "xandikos"
    home = "/alice/calendars/"

    def __init__(self):
        super().__init__()
        self._users = {self.owner: self.password}

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "xandikos",
            "serve",
            "--directory",
            str(self.folder / "data"),
            "--defaults",
            "--listen-address",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--current-user-principal",
            "/alice",
            "--no-detect-systemd",
        ]

    def proxy_users(self) -> dict[str, str]:
        return self._users

    def set_password(self, password: str) -> None:
        self._users[self.owner] = password


SERVERS = {"radicale": RadicaleServer, "xandikos": XandikosServer}
