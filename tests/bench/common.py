"""What the benchmarks share: timing a sync, the floors they are measured
against, and one way of reporting figures.

Every benchmark module has ``main(argv)``; with ``--json`` it ends its output
with one line ``BENCH-JSON [...]`` (its figures), which ``python -m
tests.bench`` reads to print one table. Nothing here imports pytest or a test
module: the benchmarks run without the dev dependency group.
"""

from __future__ import annotations

import json
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from calsync_desktop.model import Appointment, new_id
from calsync_desktop.store import Store
from calsync_desktop.sync.engine import SyncEngine, SyncResult

JSON_MARK = "BENCH-JSON "
#: what a sync writes into the Sales Calendar, in the order of their foreign keys:
#: the appointments and their links, then the sync history's run and entries
#: (SPEC §9: every sync that changes something writes them)
HISTORY_TABLES = ("sync_runs", "journal")
SYNC_TABLES = ("appointments", "participants", "recurrence_overrides", "sync_status")
SYNC_TABLES += HISTORY_TABLES
#: top-level packages that only the dev group installs
DEV_ONLY = ("pytest", "_pytest", "pytestqt", "hypothesis", "pytest_timeout")


@dataclass(frozen=True)
class Measured:
    """One sync run: its wall time, the HTTP requests the server saw, its result."""

    seconds: float
    requests: int
    result: SyncResult


def measured_sync(
    store: Store, account_id: str, provider, count_requests: Callable[[], int]
) -> Measured:
    """Run one sync of ``account_id`` and measure it."""
    before = count_requests()
    started = time.perf_counter()
    result = SyncEngine(store, store.get_account(account_id), provider).run()
    seconds = time.perf_counter() - started
    return Measured(seconds, count_requests() - before, result)


def add_local_appointments(store: Store, now: datetime, count: int) -> None:
    """``count`` new appointments spread over the next months, to push."""
    with store.transaction():
        for i in range(count):
            start = now + timedelta(days=1 + i % 300, hours=7 + i % 10)
            store.add_appointment(
                Appointment(
                    id=new_id(),
                    contents=f"New appointment {i}\nfrom the Sales Calendar",
                    start=start,
                    end=start + timedelta(minutes=45),
                    timezone="Europe/Berlin",
                )
            )


# --------------------------------------------------------------------------- floors


def bare_insert(synced: Path, scratch: Path, tables: Sequence[str] = SYNC_TABLES) -> float:
    """Seconds plain sqlite3 needs to insert the rows a sync wrote into ``synced``
    (the appointments, their participants and edited occurrences, the status
    rows, the sync history's run and entries; or those of ``tables``) into an
    empty file ``scratch`` of the same schema: one ``executemany`` per table,
    one commit, the Sales Calendar's pragmas. The floor for the store's share
    of an initial sync."""
    source = sqlite3.connect(synced)
    try:
        schema = [
            sql
            for (sql,) in source.execute(
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'"
            )
        ]
        accounts = source.execute("SELECT * FROM accounts").fetchall()
        rows = {table: source.execute(f"SELECT * FROM {table}").fetchall() for table in tables}
    finally:
        source.close()
    scratch.unlink(missing_ok=True)
    target = sqlite3.connect(scratch, isolation_level=None)
    try:
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
            target.execute(f"PRAGMA {pragma}")
        for sql in schema:
            target.execute(sql)
        if accounts:
            marks = ",".join("?" * len(accounts[0]))
            target.executemany(f"INSERT INTO accounts VALUES ({marks})", accounts)
        started = time.perf_counter()
        target.execute("BEGIN")
        for table, values in rows.items():
            if values:
                marks = ",".join("?" * len(values[0]))
                target.executemany(f"INSERT INTO {table} VALUES ({marks})", values)
        target.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        target.close()


# --------------------------------------------------------------------------- figures


def peak_rss_mb() -> float:
    """The largest resident size this process has had (VmHWM), in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """This process's resident size now, in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def spread(values: Sequence[float], digits: int = 2, unit: str = "") -> str:
    """``median (min–max)`` of several runs; one value as it is."""
    fmt = f"{{:.{digits}f}}"
    if len(values) == 1:
        return fmt.format(values[0]) + unit
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{fmt.format(mid)}{unit} ({fmt.format(low)}–{fmt.format(high)})"


@dataclass(frozen=True)
class Figure:
    """One row of the benchmark table: what was measured, the figure, the goal
    it is held against (empty: none) and whether the median meets it."""

    measure: str
    figure: str
    goal: str = ""
    met: bool | None = None


def dev_modules_loaded() -> list[str]:
    """Modules of the dev group this process has imported (none, for a benchmark)."""
    return sorted({name.split(".")[0] for name in sys.modules} & set(DEV_ONLY))


def report(name: str, figures: list[Figure], as_json: bool) -> None:
    """Print a benchmark's figures: a small table, or the runner's JSON line."""
    loaded = dev_modules_loaded()
    if loaded:
        figures = [*figures, Figure("dev-group modules imported", ", ".join(loaded), "none", False)]
    if as_json:
        print(JSON_MARK + json.dumps({"bench": name, "figures": [asdict(f) for f in figures]}))
        return
    print(table([(name, f) for f in figures]))


def table(rows: list[tuple[str, Figure]]) -> str:
    """The figures of one or more benchmarks as one plain-text table."""
    head = ("benchmark", "measure", "figure", "goal", "")
    lines = [
        (
            bench,
            f.measure,
            f.figure,
            f.goal,
            {True: "met", False: "NOT MET", None: ""}[f.met],
        )
        for bench, f in rows
    ]
    widths = [max(len(str(r[i])) for r in [head, *lines]) for i in range(len(head))]

    def fmt(r) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(head), rule, *(fmt(r) for r in lines)])


# --------------------------------------------------------------------------- side by side


@dataclass
class Rounds:
    """Each round's figures, side by side: the bare client's listing, plain
    sqlite3 inserting the rows, calsync's initial sync, and (optionally) the
    provider's listing alone."""

    bare: list[float] = field(default_factory=list)
    insert: list[float] = field(default_factory=list)
    #: the same, the sync history's rows left out
    insert_without_history: list[float] = field(default_factory=list)
    sync: list[float] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)
    listing: list[float] = field(default_factory=list)

    @property
    def ratios(self) -> list[float]:
        """Initial sync ÷ (bare listing + plain insert), per round."""
        return self._ratios(self.insert)

    @property
    def ratios_without_history(self) -> list[float]:
        """The same against a floor that leaves the sync history's rows out."""
        return self._ratios(self.insert_without_history)

    def _ratios(self, insert: list[float]) -> list[float]:
        return [s / (b + i) for s, b, i in zip(self.sync, self.bare, insert, strict=True)]


def side_by_side(
    folder: Path,
    repeat: int,
    bare_listing: Callable[[], float],
    initial_sync: Callable[[Path], Measured],
    provider_listing: Callable[[], float] | None = None,
    warm_up: bool = True,
) -> Rounds:
    """``repeat`` rounds of: the bare listing (seconds), calsync's initial sync
    into a new Sales Calendar at the given path, plain sqlite3 inserting the
    rows that sync wrote, and the provider's listing alone (seconds)."""
    rounds = Rounds()
    if warm_up:
        bare_listing()  # connections and caches warm on both sides; not counted
    for r in range(repeat):
        rounds.bare.append(bare_listing())
        path = folder / f"round-{r}.sqlite3"
        initial = initial_sync(path)
        rounds.sync.append(initial.seconds)
        rounds.requests.append(initial.requests)
        rounds.insert.append(bare_insert(path, folder / "floor.sqlite3"))
        without = [t for t in SYNC_TABLES if t not in HISTORY_TABLES]
        rounds.insert_without_history.append(bare_insert(path, folder / "floor.sqlite3", without))
        if provider_listing is not None:
            rounds.listing.append(provider_listing())
    return rounds


def initial_sync_into(
    new_store: Callable[[Path], tuple[Store, str]],
    new_provider: Callable[[], object],
    count_requests: Callable[[], int],
    events: int,
) -> Callable[[Path], Measured]:
    """An initial sync of ``events`` events into a new Sales Calendar at a path,
    checked to have imported every one of them."""

    def initial_sync(path: Path) -> Measured:
        store, account_id = new_store(path)
        provider = new_provider()
        initial = measured_sync(store, account_id, provider, count_requests)
        assert initial.result.counts.get("create locally") == events, initial.result.counts
        provider.close()
        store.close()
        return initial

    return initial_sync


def push_echo_idle(
    store_path: Path,
    new_store: Callable[[Path], tuple[Store, str]],
    new_provider: Callable[[], object],
    count_requests: Callable[[], int],
    now: datetime,
    push: int,
    write_requests: Callable[[], int],
) -> dict:
    """After an initial sync: ``push`` new appointments pushed, the next sync
    (which sees the echo of those writes), and a sync with nothing changed;
    ``write_requests`` counts the service's write requests (batches, creates)."""
    store, account_id = new_store(store_path)
    provider = new_provider()
    try:
        measured_sync(store, account_id, provider, count_requests)
        add_local_appointments(store, now, push)
        before = write_requests()
        pushed = measured_sync(store, account_id, provider, count_requests)
        writes = write_requests() - before
        assert pushed.result.counts.get("create remotely") == push, pushed.result.counts
        echo = measured_sync(store, account_id, provider, count_requests)
        idle = measured_sync(store, account_id, provider, count_requests)
        assert idle.result.counts == {}, idle.result.counts
    finally:
        provider.close()
        store.close()
    return {"push": push, "pushed": pushed, "writes": writes, "echo": echo, "idle": idle}


def pages_figure(rounds: Rounds, events: int, page_size: int, pages_of: str) -> Figure:
    """The initial sync's requests against the pages the listing needs."""
    pages = -(-events // page_size)
    requests = max(rounds.requests)
    return Figure(
        "initial sync: HTTP requests",
        f"{requests} ({pages_of} of {page_size}: {pages})",
        f"each event read once: {pages}",
        requests <= pages,
    )


def ratio_figures(rounds: Rounds, events: int, bare: str) -> list[Figure]:
    """The rows of the side-by-side goal; ``bare`` names the bare client's listing."""
    n = f"{events:,}"
    ratio = statistics.median(rounds.ratios)
    out = [
        Figure(f"{bare} of {n} events", spread(rounds.bare, unit=" s")),
        Figure("plain sqlite3 inserting the same rows", spread(rounds.insert, 3, " s")),
        Figure(f"initial sync of {n} (engine + store)", spread(rounds.sync, unit=" s")),
        Figure(
            f"initial sync ÷ ({bare} + plain insert)", spread(rounds.ratios), "≤ 1.5", ratio <= 1.5
        ),
        Figure(
            "the same, the history's rows left out of the plain insert",
            spread(rounds.ratios_without_history),
        ),
    ]
    if rounds.listing:
        alone = [a / b for a, b in zip(rounds.listing, rounds.bare, strict=True)]
        out.append(Figure(f"provider listing alone ÷ {bare}", spread(alone)))
    return out


def sync_figure(what: str, measured: Measured, most: int | None = None) -> Figure:
    """One sync's time and requests, with the most requests it may take."""
    figure = f"{measured.seconds:.2f} s, {measured.requests} request(s)"
    if most is None:
        return Figure(what, figure)
    goal = "1 request" if most == 1 else f"≤ {most} requests"
    return Figure(what, figure, goal, measured.requests <= most)


def bench_main(
    argv: list[str] | None,
    doc: str,
    title: str,
    run: Callable[..., dict],
    figures: Callable[[dict], list[Figure]],
    **defaults: int,
) -> None:
    """A benchmark's command line: its options (each default given), then its figures."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    for name, value in defaults.items():
        parser.add_argument(f"--{name}", type=int, default=value)
    parser.add_argument("--json", action="store_true", help="figures for python -m tests.bench")
    args = vars(parser.parse_args(argv))
    as_json = args.pop("json")
    result = run(**args)
    rounds = f", {args['repeat']} round{'s' * (args['repeat'] != 1)}" if "repeat" in args else ""
    report(title + rounds, figures(result), as_json)
