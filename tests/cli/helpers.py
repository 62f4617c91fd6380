"""Running ``calsync`` commands in-process on a real Sales Calendar file."""

from __future__ import annotations

import json
from pathlib import Path

from calsync_desktop.cli import main
from calsync_desktop.services import Services

REPO = Path(__file__).resolve().parents[2]
SECRET = "Quarterly numbers for ACME, do not share"
SECRET_PLACE = "Room 7, hidden floor"
SECRET_GUEST = "spy@example.com"


class Cli:
    """Runs ``calsync`` commands on one Services, as one running app would."""

    def __init__(self, services: Services, home: Path, capsys):
        self.services = services
        self.home = home
        self.capsys = capsys

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(["--home", str(self.home), *argv], services=self.services)
        out, err = self.capsys.readouterr()
        return code, out, err

    def ok(self, *argv: str) -> str:
        code, out, err = self(*argv)
        assert code == 0, (code, out, err)
        return out

    def json(self, *argv: str):
        return json.loads(self.ok("--json", *argv))

    def add(self, *argv: str) -> dict:
        return self.json("appointments", "add", *argv)

    @property
    def store(self):
        return self.services.store


def _assert_usage_error(result: tuple[int, str, str], fragment: str) -> None:
    code, out, err = result
    assert code == 2, (code, out, err)
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines[-1].startswith("calsync: error:") or lines[0].startswith("usage:"), err
    assert fragment.lower() in err.lower(), err


def _add_memory_account(cli, *extra: str) -> dict:
    return cli.json("accounts", "add", "memory", "--email", "me@example.com", *extra)


def _linked_appointments(cli, count: int) -> None:
    for i in range(count):
        day = 24 + i % 5
        cli.add(
            "--contents",
            f"Meeting {i}",
            "--start",
            f"2026-11-{day}T{8 + i // 5:02d}:00",
            "--end",
            f"2026-11-{day}T{8 + i // 5:02d}:30",
        )
    _add_memory_account(cli)
    cli.ok("sync")
