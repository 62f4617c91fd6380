"""The whole command line: parsing, exit codes, its own Services, secrets, the console script."""

from __future__ import annotations

import importlib
import json
import logging
import os
import shutil
import subprocess

import pytest

from calsync_desktop.accounts.kinds import KINDS
from calsync_desktop.cli import main, wanted_kinds
from tests.cli.helpers import (
    REPO,
    _add_memory_account,
)


def test_argparse_problems_are_exit_2_with_usage(cli):
    code, _, err = cli("appointments", "add", "--start", "2026-11-24T09:00")
    assert code == 2 and "--contents" in err and "Traceback" not in err
    code, _, err = cli("no-such-command")
    assert code == 2 and "invalid choice" in err
    code, out, _ = cli("--help")
    assert code == 0 and "appointments" in out
    assert main([]) == 2


def test_main_opens_and_closes_its_own_services_at_home(tmp_path, capsys):
    home = tmp_path / "own"
    root = logging.getLogger()
    handlers = list(root.handlers)
    argv = ["appointments", "add", "--contents", "Mine", "--start", "2026-11-24T09:00Z"]
    assert main([*argv, "--end", "2026-11-24T10:00Z", "--home", str(home)]) == 0
    assert root.handlers == handlers  # its log file handler is gone again
    capsys.readouterr()
    assert (
        main(["appointments", "list", "--json", "--from", "2026-11-24", "--home", str(home)]) == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert [r["title"] for r in rows] == ["Mine"]
    assert (home / "logs" / "calsync-desktop.log").exists()


def test_only_accounts_add_loads_account_kinds():
    assert wanted_kinds(["appointments", "list"]) == []
    assert wanted_kinds(["accounts", "list"]) == []
    assert wanted_kinds(["--home", "x", "accounts", "add", "memory", "--email", "a@b"]) == [
        "memory"
    ]
    assert wanted_kinds(["accounts", "add", "--help"]) == list(KINDS)


def test_secrets_are_never_printed(cli):
    account_id = _add_memory_account(cli)["account"]["id"]
    cli.services.secrets.set(account_id, "password", "hunter2-very-secret")
    outputs = [
        cli.ok("status"),
        cli.ok("--json", "status"),
        cli.ok("accounts", "list"),
        cli.ok("--json", "accounts", "list"),
        cli.ok("sync"),
        cli.ok("--json", "sync", "--dry-run"),
    ]
    assert not any("hunter2" in out for out in outputs)


@pytest.mark.skipif(shutil.which("uv") is None, reason="uv is not installed")
def test_console_script_runs_for_real(tmp_path):
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k != "CALSYNC_HOME"}
    env["TZ"] = "Europe/Berlin"

    def calsync(*argv: str, extra_env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["uv", "run", "--no-sync", "calsync", *argv],
            cwd=REPO,
            env={**env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )

    listed = calsync("--home", str(home), "appointments", "list")
    assert listed.returncode == 0, listed.stderr
    assert "No appointments" in listed.stdout

    # CALSYNC_HOME instead of --home, and the appointment is there in the next process
    added = calsync(
        "appointments",
        "add",
        "--contents",
        "From the shell",
        "--start",
        "2030-01-02T09:00",
        "--end",
        "2030-01-02T10:00",
        extra_env={"CALSYNC_HOME": str(home)},
    )
    assert added.returncode == 0, added.stderr
    listed = calsync("--home", str(home), "--json", "appointments", "list", "--from", "2030-01-01")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["title"], r["start"]) for r in rows] == [
        ("From the shell", "2030-01-02T09:00:00+01:00")
    ]

    bad = calsync("--home", str(home), "appointments", "show", "nope")
    assert bad.returncode == 2
    assert bad.stderr.strip() == "calsync: error: No appointment with id 'nope'."


def test_every_command_group_of_the_package_is_on_the_command_line():
    import pkgutil

    import calsync_desktop.cli as package
    from calsync_desktop.cli import COMMAND_GROUPS, build_parser

    modules = {
        info.name
        for info in pkgutil.iter_modules(package.__path__)
        if hasattr(importlib.import_module(f"calsync_desktop.cli.{info.name}"), "register")
    }
    assert modules == {m.__name__.rsplit(".", 1)[1] for m in COMMAND_GROUPS}
    commands = build_parser(kinds=[])._subparsers._group_actions[0].choices
    assert {"appointments", "export", "status", "sync", "accounts", "profile", "settings"} <= set(
        commands
    )
