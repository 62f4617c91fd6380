"""Benchmark: calsync against vdirsyncer, on the same real Radicale.

    uv run --group bench python -m tests.bench.bench_caldav [--events 5000] [--push 1000]

vdirsyncer (PyPI, the reference CalDAV sync tool; the ``bench`` dependency
group, never installed with the app) syncs the calendar into a filesystem
storage; calsync syncs it into a new Sales Calendar (SyncEngine,
CalDAVProvider, the SQLite store). Both talk https to the same Radicale
through the same proxy (tests/fakes/caldav_proxy.py), which counts their
requests. Each round: vdirsyncer's first sync of the ``events`` events
(``vdirsyncer discover`` before it, not measured), then calsync's initial sync
of them (its first contact, not measured); the goal is vdirsyncer ÷ calsync ≥ 2
within each round. vdirsyncer runs as its own command, so its figures hold its
start (measured alone too: ``vdirsyncer --version``). Then, once, both tools:
a sync with nothing changed (goal: calsync sends no more requests than
vdirsyncer), a sync after another client edited one event, and pushing
``push`` new appointments (calsync) against uploading ``push`` new items
(vdirsyncer).

The events are written into Radicale's storage folder before it serves them
(one ``.ics`` file each, as Radicale's multifilesystem storage keeps them),
so that seeding 5,000 takes seconds, not minutes of PUTs.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from calsync_desktop.accounts.base import Account
from calsync_desktop.providers.base import Backoff
from calsync_desktop.providers.caldav import CalDAVProvider, ConnectionSettings
from calsync_desktop.store import Store
from tests.bench.common import (
    Figure,
    Measured,
    add_local_appointments,
    bench_main,
    measured_sync,
    spread,
    sync_figure,
)
from tests.fakes.caldav_servers import RadicaleServer

ZONES = ("Europe/Berlin", "America/New_York", "UTC", "Asia/Tokyo")


# --------------------------------------------------------------------------- seeding


# The VTIMEZONE blocks that calendar apps write (one rule each way, RFC 5545 §3.6.5)
VTIMEZONES = {
    "Europe/Berlin": ("+0100", "+0200", "CET", "CEST", "3;BYDAY=-1SU", "10;BYDAY=-1SU"),
    "America/New_York": ("-0500", "-0400", "EST", "EDT", "3;BYDAY=2SU", "11;BYDAY=1SU"),
}


def _vtimezones() -> dict[str, str]:
    """Each zone's VTIMEZONE block, as a calendar app sends it."""
    blocks = {
        "UTC": "",
        "Asia/Tokyo": "BEGIN:VTIMEZONE\r\nTZID:Asia/Tokyo\r\n"
        "BEGIN:STANDARD\r\nDTSTART:19510908T000000\r\nTZOFFSETFROM:+0900\r\n"
        "TZOFFSETTO:+0900\r\nTZNAME:JST\r\nEND:STANDARD\r\nEND:VTIMEZONE",
    }
    for zone, (std, dst, std_name, dst_name, spring, autumn) in VTIMEZONES.items():
        blocks[zone] = "\r\n".join(
            [
                "BEGIN:VTIMEZONE",
                f"TZID:{zone}",
                "BEGIN:DAYLIGHT",
                f"TZOFFSETFROM:{std}",
                f"RRULE:FREQ=YEARLY;BYMONTH={spring}",
                "DTSTART:20070311T020000",
                f"TZNAME:{dst_name}",
                f"TZOFFSETTO:{dst}",
                "END:DAYLIGHT",
                "BEGIN:STANDARD",
                f"TZOFFSETFROM:{dst}",
                f"RRULE:FREQ=YEARLY;BYMONTH={autumn}",
                "DTSTART:20071104T020000",
                f"TZNAME:{std_name}",
                f"TZOFFSETTO:{std}",
                "END:STANDARD",
                "END:VTIMEZONE",
            ]
        )
    return blocks


def event_text(i: int, now: datetime, zones: dict[str, str]) -> tuple[str, str]:
    """The ``i``-th event another client made: its UID and iCalendar text."""
    from zoneinfo import ZoneInfo

    zone = ZONES[i % len(ZONES)]
    start = (now + timedelta(days=1 + i % 300, hours=i % 9)).astimezone(ZoneInfo(zone))
    end = start + timedelta(hours=1)
    uid = f"{uuid.uuid4()}@another.example"

    def when(name: str, at: datetime) -> str:
        if zone == "UTC":
            return f"{name}:{at.astimezone(UTC):%Y%m%dT%H%M%SZ}"
        return f"{name};TZID={zone}:{at:%Y%m%dT%H%M%S}"

    stamp = f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//another client//EN",
        zones[zone],
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{stamp}",
        f"LAST-MODIFIED:{stamp}",
        when("DTSTART", start),
        when("DTEND", end),
        f"SUMMARY:Customer visit {i}",
        f"DESCRIPTION:Agenda for visit {i}\\nPrices\\, samples\\, next steps.",
        f"LOCATION:Office {i % 50}",
        "ORGANIZER:mailto:alice@example.com",
        f"ATTENDEE;CN=Buyer;PARTSTAT=NEEDS-ACTION:mailto:buyer{i % 97}@customer.example",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return uid, "\r\n".join(line for line in lines if line) + "\r\n"


def seed(server: RadicaleServer, count: int, now: datetime) -> None:
    """``count`` events in Radicale's storage folder of the benchmark's calendar."""
    folder = server.folder / "collections" / "collection-root" / server.owner / server.calendar
    assert folder.is_dir(), folder
    zones = _vtimezones()
    for i in range(count):
        uid, text = event_text(i, now, zones)
        (folder / f"{uid.split('@')[0]}.ics").write_text(text, newline="")


def warm(server: RadicaleServer) -> None:
    """Radicale's own first reading of a new storage, done before the race so
    that neither tool pays it: its item cache (each file parsed once) and the
    sync token of the calendar's state (kept in its storage folder)."""
    from calsync_desktop.providers.caldav_wire import propfind_body, sync_collection_body

    url = server.upstream + server.calendar_path
    xml = {"Content-Type": "application/xml"}
    for method, body, depth in (
        ("PROPFIND", propfind_body("<d:getetag/>"), {"Depth": "1"}),
        ("REPORT", sync_collection_body(""), {}),
    ):
        answer = server.http.request(  # minutes for a new storage of thousands
            method, url, data=body, headers={**xml, **depth}, auth=server._auth(), timeout=900
        )
        assert answer.status_code == 207, answer.status_code


# --------------------------------------------------------------------------- vdirsyncer


class Vdirsyncer:
    """vdirsyncer's command on one pair: the calendar ↔ a filesystem folder."""

    def __init__(self, server: RadicaleServer, folder: Path):
        found = shutil.which("vdirsyncer", path=str(Path(sys.executable).parent))
        if found is None:
            raise SystemExit(
                "vdirsyncer is not installed: run this benchmark with "
                "`uv run --group bench python -m tests.bench.bench_caldav`"
            )
        self.command = found
        self.server = server
        self.folder = folder
        self.items = folder / "items"
        self.config = folder / "config"

    def fresh(self) -> None:
        """A new pair: no status, an empty folder, then ``discover`` (not measured)."""
        shutil.rmtree(self.folder, ignore_errors=True)
        self.items.mkdir(parents=True)
        s = self.server
        self.config.write_text(
            "[general]\n"
            f'status_path = "{self.folder / "status"}/"\n'
            "[pair cal]\n"
            'a = "remote"\nb = "local"\ncollections = null\n'
            'conflict_resolution = "a wins"\n'
            "[storage remote]\n"
            'type = "caldav"\n'
            f'url = "{s.calendar_url}"\n'
            f'username = "{s.owner}"\npassword = "{s.password}"\n'
            f'verify = "{s.ca_bundle}"\n'
            "[storage local]\n"
            'type = "filesystem"\n'
            f'path = "{self.items}/"\nfileext = ".ics"\n'
        )
        self.run("discover")

    def run(self, *args: str) -> float:
        started = time.perf_counter()
        done = subprocess.run(
            [self.command, "-c", str(self.config), *args],
            capture_output=True,
            text=True,
            input="y\n",
        )
        seconds = time.perf_counter() - started
        assert done.returncode == 0, done.stderr[-2000:]
        return seconds

    def sync(self) -> tuple[float, int]:
        before = self.server.count_requests()
        seconds = self.run("sync")
        return seconds, self.server.count_requests() - before

    def start_alone(self) -> float:
        started = time.perf_counter()
        subprocess.run([self.command, "--version"], capture_output=True, check=True)
        return time.perf_counter() - started

    def add_items(self, count: int, now: datetime) -> None:
        zones = _vtimezones()
        for i in range(count):
            uid, text = event_text(100_000 + i, now, zones)
            (self.items / f"{uid.split('@')[0]}.ics").write_text(text, newline="")


# --------------------------------------------------------------------------- the race


def run(events: int, push: int, repeat: int) -> dict:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    server = RadicaleServer()
    server.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            seed(server, events, now)
            warm(server)
            vds = Vdirsyncer(server, folder / "vdirsyncer")

            def provider() -> CalDAVProvider:
                connection = ConnectionSettings(  # Basic, as adding the account found
                    server.url,
                    server.owner,
                    server.password,
                    ca_bundle=server.ca_bundle,
                    auth_type="basic",
                )
                p = CalDAVProvider(connection, server.calendar_url, backoff=Backoff())
                p.check_access()  # the first contact, out of the measurement
                return p

            def new_store(path: Path) -> tuple[Store, str]:
                store = Store.open(path)
                account = store.add_account(
                    Account(
                        id=str(uuid.uuid4()), kind="caldav", name="Radicale", email=server.owner
                    )
                )
                return store, account.id

            theirs: list[tuple[float, int]] = []
            ours: list[Measured] = []
            for r in range(repeat):
                vds.fresh()
                theirs.append(vds.sync())
                progress(f"vdirsyncer first sync, round {r}", *theirs[-1])
                assert len(list(vds.items.iterdir())) == events
                store, account_id = new_store(folder / f"round-{r}.sqlite3")
                p = provider()
                ours.append(measured_sync(store, account_id, p, server.count_requests))
                progress(f"calsync initial sync, round {r}", ours[-1].seconds, ours[-1].requests)
                created = ours[-1].result.counts.get("create locally")
                assert created == events, ours[-1].result.counts
                p.close()
                if r < repeat - 1:
                    store.close()

            # the last round's pair and Sales Calendar go on: idle, one change, push
            p = provider()
            their_idle = vds.sync()
            our_idle = measured_sync(store, account_id, p, server.count_requests)
            assert our_idle.result.counts == {}, our_idle.result.counts
            progress("vdirsyncer idle", *their_idle)
            progress("calsync idle", our_idle.seconds, our_idle.requests)
            edited = sorted(server.resource_paths())[events // 2]
            server.edit_event(edited, location="Moved to the main office")
            their_change = vds.sync()
            our_change = measured_sync(store, account_id, p, server.count_requests)
            assert our_change.result.counts == {"update": 1}, our_change.result.counts
            progress("vdirsyncer one change", *their_change)
            progress("calsync one change", our_change.seconds, our_change.requests)
            add_local_appointments(store, now, push)
            our_push = measured_sync(store, account_id, p, server.count_requests)
            assert our_push.result.counts.get("create remotely") == push, our_push.result.counts
            progress("calsync push", our_push.seconds, our_push.requests)
            vds.add_items(push, now)
            their_push = vds.sync()
            progress("vdirsyncer push", *their_push)
            p.close()
            store.close()
            start = min(vds.start_alone() for _ in range(3))
    finally:
        server.stop()
    return {
        "events": events,
        "push": push,
        "theirs": theirs,
        "ours": ours,
        "idle": (their_idle, our_idle),
        "change": (their_change, our_change),
        "pushed": (their_push, our_push),
        "start": start,
    }


def progress(what: str, seconds: float, requests: int) -> None:
    """Each figure on stderr as it is measured (a long run keeps what it has)."""
    print(f"  {what}: {seconds:.2f} s, {requests} request(s)", file=sys.stderr, flush=True)


def _pair(what: str, theirs: tuple[float, int], ours: Measured, most: int | None = None):
    their_s, their_n = theirs
    return [
        Figure(f"vdirsyncer: {what}", f"{their_s:.2f} s, {their_n} request(s)"),
        sync_figure(f"calsync: {what}", ours, most),
    ]


def figures(f: dict) -> list[Figure]:
    n = f"{f['events']:,}"
    their_s = [s for s, _ in f["theirs"]]
    ours = [m.seconds for m in f["ours"]]
    ratios = [t / o for t, o in zip(their_s, ours, strict=True)]
    ratio = statistics.median(ratios)
    idle_theirs, idle_ours = f["idle"]
    return [
        Figure("vdirsyncer's start alone (--version)", f"{f['start']:.2f} s"),
        Figure(
            f"vdirsyncer: first sync of {n}",
            f"{spread(their_s, unit=' s')}, {f['theirs'][0][1]} request(s)",
        ),
        Figure(
            f"calsync: initial sync of {n}",
            f"{spread(ours, unit=' s')}, {f['ours'][0].requests} request(s)",
        ),
        Figure("vdirsyncer ÷ calsync, initial sync", spread(ratios), "≥ 2", ratio >= 2),
        Figure(
            "vdirsyncer less its start ÷ calsync",
            spread([(t - f["start"]) / o for t, o in zip(their_s, ours, strict=True)]),
        ),
        *_pair("nothing changed", idle_theirs, idle_ours, most=idle_theirs[1]),
        *_pair("one event edited elsewhere", *f["change"]),
        *_pair(f"{f['push']:,} new appointments pushed", *f["pushed"]),
    ]


def main(argv: list[str] | None = None) -> None:
    bench_main(
        argv, __doc__, "CalDAV vs vdirsyncer", run, figures, events=5000, push=1000, repeat=2
    )


if __name__ == "__main__":
    main()
