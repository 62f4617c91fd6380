"""A mutation run: how many small faults in the code do its tests notice?

    scripts/mutate [--group sync] [--files PATTERN ...] [--sample N] [--seed S]
                   [--jobs J] [--timeout SECONDS] [--only ID ...] [--list] [--report FILE]

For one group of ``tests/mutation/groups.toml`` (its modules and the fast
tests that guard them), it

1. copies the project into a temporary folder (the work tree is never touched);
2. runs the group's tests once there with a line recorder, to learn which tests
   reach which lines (and that they pass without any mutant);
3. makes the mutants of the group's modules (``tests/mutation/mutants.py``),
   leaves out those ``tests/mutation/equivalent.txt`` calls equivalent, and
   takes a sample of N of them by the seed (all of them without ``--sample``);
4. for each mutant writes the mutated file into the copy and runs the tests that
   reach its lines, stopping at the first failure, within a timeout (by default
   three times what those tests took in step 2, plus start-up);
5. reports each mutant killed, survived, timeout (counted as killed) or
   uncovered (no test reaches it: counted as survived), the score, and each
   survivor with its file:line, id and diff.

The same seed, sample and code give the same mutants and the same Hypothesis
examples (``--hypothesis-seed``), so a run can be repeated.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tests.mutation.mutants import Mutant, mutants_of

HERE = Path(__file__).resolve().parent
PLUGIN = "calsync_mutation_plugin"
SKIP = {".git", ".venv", "__pycache__", ".hypothesis", ".ruff_cache", ".pytest_cache", "dist"}
KILLED, SURVIVED, TIMEOUT, UNCOVERED = "killed", "survived", "timeout", "uncovered"


@dataclass
class Group:
    name: str
    modules: list[str]
    tests: list[str]
    select: str = ""

    def files(self, root: Path) -> list[str]:
        found: list[str] = []
        for pattern in self.modules:
            for path in sorted(root.glob(pattern)):
                rel = path.relative_to(root).as_posix()
                if path.is_file() and rel not in found:
                    found.append(rel)
        return found


@dataclass
class Outcome:
    mutant: Mutant
    status: str
    tests: int
    seconds: float
    output: str = ""


@dataclass
class Coverage:
    """Which tests reach which lines (from the recorder's JSON)."""

    durations: dict[str, float]
    lines: dict[str, dict[str, set[int]]] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path, copy: Path) -> Coverage:
        record = json.loads(path.read_text())
        lines: dict[str, dict[str, set[int]]] = {}
        for test, files in record["lines"].items():
            for filename, numbers in files.items():
                rel = Path(filename).resolve().relative_to(copy).as_posix()
                lines.setdefault(rel, {})[test] = set(numbers)
        return cls(record["durations"], lines)

    def tests_for(self, mutant: Mutant) -> list[str] | None:
        """The tests that run the mutant's lines, fastest first; None when the
        lines also run at import (then every test of the group)."""
        span = set(range(mutant.line, mutant.end_line + 1))
        reached = {test for test, lines in self.lines.get(mutant.path, {}).items() if lines & span}
        if "<import>" in reached:
            return None
        return sorted(reached, key=lambda t: (self.durations.get(t, 0.0), t))


def read_groups(path: Path) -> dict[str, Group]:
    data = tomllib.loads(path.read_text())
    return {name: Group(name=name, **values) for name, values in data.items()}


def read_equivalent(path: Path) -> dict[str, str]:
    """``ID  reason`` a line; ``#`` starts a comment. A line without a reason is an error."""
    found: dict[str, str] = {}
    if not path.exists():
        return found
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        ident, _, reason = line.partition(" ")
        if not reason.strip():
            raise SystemExit(f"{path}:{number}: an equivalent mutant needs its reason: {ident}")
        found[ident] = reason.strip()
    return found


def copy_project(root: Path, into: Path) -> Path:
    target = into / root.name
    shutil.copytree(root, target, ignore=lambda d, names: [n for n in names if n in SKIP])
    return target


def environment(copy: Path, hypothesis_dir: Path, extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=os.pathsep.join([str(copy), str(HERE)]),
        PYTHONDONTWRITEBYTECODE="1",
        QT_QPA_PLATFORM="offscreen",
        HYPOTHESIS_STORAGE_DIRECTORY=str(hypothesis_dir),
    )
    env.update(extra)
    return env


def pytest_command(group: Group, seed: int, tests: list[str]) -> list[str]:
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
    command += ["-p", PLUGIN, f"--hypothesis-seed={seed}", "-o", "addopts=--strict-markers"]
    if group.select:
        command += ["-k", group.select]
    return command + tests


def run_tests(command: list[str], copy: Path, env: dict[str, str], timeout: float | None):
    """(exit code or None on timeout, seconds, output tail)."""
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        cwd=copy,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
        code: int | None = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        code = None
    return code, time.monotonic() - started, output.decode(errors="replace")[-4000:]


class Worker:
    """One copy of the project; mutates one file at a time and restores it."""

    def __init__(self, root: Path, scratch: Path, group: Group, seed: int, factor: float):
        self.copy = copy_project(root, scratch)
        self.group, self.seed, self.factor = group, seed, factor
        self.env = environment(self.copy, scratch / "hypothesis", {})

    def baseline(self, files: list[str]) -> tuple[Coverage, float]:
        targets = self.copy.parent / "targets.txt"
        targets.write_text("\n".join(str((self.copy / f).resolve()) for f in files))
        lines = self.copy.parent / "lines.json"
        env = dict(
            self.env, CALSYNC_MUTATION_LINES=str(lines), CALSYNC_MUTATION_TARGETS=str(targets)
        )
        command = pytest_command(self.group, self.seed, self.group.tests)
        code, seconds, output = run_tests(command, self.copy, env, None)
        if code != 0:
            raise SystemExit(
                f"The tests of group {self.group.name} fail without any mutant:\n{output}"
            )
        coverage = Coverage.read(lines, self.copy.resolve())
        if not coverage.lines:
            raise SystemExit("The tests ran none of the group's modules in the copy.")
        return coverage, max(0.0, seconds - sum(coverage.durations.values()))

    def run(self, mutant: Mutant, tests: list[str], timeout: float) -> Outcome:
        path = self.copy / mutant.path
        source = path.read_text()
        path.write_text(mutant.apply(source))
        try:
            command = pytest_command(self.group, self.seed, tests)
            code, seconds, output = run_tests(command, self.copy, self.env, timeout)
        finally:
            path.write_text(source)
        status = TIMEOUT if code is None else SURVIVED if code in (0, 5) else KILLED
        return Outcome(mutant, status, len(tests), seconds, output)


def choose(mutants: list[Mutant], args, equivalent: dict[str, str]) -> list[Mutant]:
    chosen = [m for m in mutants if m.id not in equivalent]
    if args.files:
        chosen = [m for m in chosen if any(fnmatch.fnmatch(m.path, p) for p in args.files)]
    if args.operators:
        chosen = [m for m in chosen if m.operator in args.operators]
    if args.only:
        chosen = [m for m in chosen if m.id in args.only]
    if args.sample and args.sample < len(chosen):
        picked = set(random.Random(args.seed).sample(range(len(chosen)), args.sample))
        chosen = [m for i, m in enumerate(chosen) if i in picked]
    return chosen


def report(outcomes: list[Outcome], sources: dict[str, str], head: str) -> str:
    counts = {s: 0 for s in (KILLED, TIMEOUT, SURVIVED, UNCOVERED)}
    per_file: dict[str, dict[str, int]] = {}
    for o in outcomes:
        counts[o.status] += 1
        per_file.setdefault(o.mutant.path, {s: 0 for s in counts})[o.status] += 1
    total = len(outcomes)
    score = 100.0 * (counts[KILLED] + counts[TIMEOUT]) / total if total else 100.0
    lines = [head, ", ".join(f"{k} {v}" for k, v in counts.items()) + f"; score {score:.1f} %"]
    for path, c in sorted(per_file.items()):
        n = sum(c.values())
        lines.append(f"  {path}: {c[KILLED] + c[TIMEOUT]} of {n} killed")
    for o in sorted(outcomes, key=lambda o: (o.mutant.path, o.mutant.line)):
        if o.status in (SURVIVED, UNCOVERED):
            m = o.mutant
            lines.append("")
            lines.append(
                f"{o.status.upper()} {m.path}:{m.line} [{m.id}] {m.operator} in {m.where}"
                f" ({o.tests} tests ran)"
            )
            lines.append(m.diff(sources[m.path]).rstrip())
    lines.append(f"SCORE {score:.1f} % of {total} mutants")
    return "\n".join(lines)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/mutate", description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=HERE.parent.parent)
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--equivalent", type=Path, default=None)
    parser.add_argument("--group", default="sync")
    parser.add_argument("--files", nargs="*", help="only these modules (glob patterns)")
    parser.add_argument("--operators", nargs="*", help="only these operators")
    parser.add_argument("--only", nargs="*", help="only these mutant ids")
    parser.add_argument("--sample", type=int, default=0, help="a sample of N mutants")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=0, help="seconds a mutant (0: derived)")
    parser.add_argument("--timeout-factor", type=float, default=3.0)
    parser.add_argument("--list", action="store_true", help="list the chosen mutants, run nothing")
    parser.add_argument("--report", type=Path, help="also write the report here")
    args = parser.parse_args(argv)

    root = args.root.resolve()
    groups = read_groups(args.config or root / "tests" / "mutation" / "groups.toml")
    if args.group not in groups:
        parser.error(f"no group {args.group!r}; groups: {', '.join(groups)}")
    group = groups[args.group]
    equivalent = read_equivalent(args.equivalent or root / "tests" / "mutation" / "equivalent.txt")
    files = group.files(root)
    sources = {f: (root / f).read_text() for f in files}
    every = [m for f in files for m in mutants_of(f, sources[f])]
    chosen = choose(every, args, equivalent)
    left_out = sum(1 for m in every if m.id in equivalent)
    head = (
        f"mutation run of group {group.name}: {len(chosen)} of {len(every)} mutants"
        f" (seed {args.seed}{f', sample {args.sample}' if args.sample else ''}),"
        f" {left_out} equivalent left out"
    )
    if args.list:
        text = "\n".join(
            [head]
            + [
                f"{m.path}:{m.line} [{m.id}] {m.operator} in {m.where}: {m.replacement}"
                for m in chosen
            ]
        )
        print(text)
        if args.report:
            args.report.write_text(text + "\n")
        return 0

    print(head, flush=True)
    with tempfile.TemporaryDirectory(prefix="calsync-mutation-") as scratch:
        workers = []
        for i in range(max(1, args.jobs)):
            (Path(scratch) / str(i)).mkdir()
            workers.append(
                Worker(root, Path(scratch) / str(i), group, args.seed, args.timeout_factor)
            )
        coverage, startup = workers[0].baseline(files)
        every_test = sorted(coverage.durations, key=lambda t: (coverage.durations[t], t))

        def one(index_mutant: tuple[int, Mutant]) -> Outcome:
            index, mutant = index_mutant
            worker = workers[index % len(workers)]
            tests = coverage.tests_for(mutant)
            tests = every_test if tests is None else tests
            if not tests:
                return Outcome(mutant, UNCOVERED, 0, 0.0)
            timeout = args.timeout or (
                args.timeout_factor * sum(coverage.durations.get(t, 0) for t in tests)
                + 2 * startup
                + 10
            )
            outcome = worker.run(mutant, tests, timeout)
            print(
                f"{outcome.status:9} {mutant.path}:{mutant.line} [{mutant.id}] {mutant.operator}"
                f" {outcome.tests} tests {outcome.seconds:.1f}s",
                flush=True,
            )
            return outcome

        outcomes: list[Outcome] = []
        stop = threading.Event()

        def lane_of(lane: list[tuple[int, Mutant]]) -> list[Outcome]:
            done = []
            for x in lane:
                if stop.is_set():
                    break
                done.append(one(x))
            return done

        # each worker takes every len(workers)-th mutant, one at a time; Ctrl-C
        # (or SIGTERM) lets the mutants under way finish, then the copies go
        signal.signal(signal.SIGTERM, _interrupt)
        pool = ThreadPoolExecutor(max_workers=len(workers))
        lanes = [
            [(i, m) for i, m in enumerate(chosen) if i % len(workers) == w]
            for w in range(len(workers))
        ]
        futures = [pool.submit(lane_of, lane) for lane in lanes]
        try:
            for future in futures:
                outcomes.extend(future.result())
        except KeyboardInterrupt:
            stop.set()
            print("stopping after the mutants under way", flush=True)
            pool.shutdown(wait=True)
            raise
        pool.shutdown()
    text = report(outcomes, sources, head)
    print(text)
    if args.report:
        args.report.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
