"""The account kinds' registry (calsync_desktop.accounts.kinds): every part of
the app reads kinds from it, and a new kind is one entry plus its module."""

from __future__ import annotations

import ast
import importlib
import io
import json
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from calsync_desktop.accounts.kinds import KINDS, Connect, kind_label, kind_module
from calsync_desktop.cli import main
from calsync_desktop.model import Appointment, new_id
from calsync_desktop.sync.runner import SyncRunner
from tests.accounts import trial_kind

PACKAGE = Path(__file__).resolve().parents[2] / "calsync_desktop"
# options every ``accounts add KIND`` has besides the kind's own fields
COMMON_ADD_OPTIONS = {"calendar", "all_private", "account_name", "name", "list_calendars"}


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_has_the_surface_its_callers_use(kind):
    entry = KINDS[kind]
    module = kind_module(kind)
    assert callable(module.connect_account) and callable(module.open_provider)
    assert entry.label and entry.connect_label and entry.explanation
    if entry.process_local:
        assert callable(module.calendar_exists)
    names = [f.name for f in entry.fields]
    assert len(names) == len(set(names))
    assert not set(names) & COMMON_ADD_OPTIONS, "a field would shadow an option of accounts add"
    if entry.connect is Connect.DETAILS:
        assert entry.form_fields(), "a details kind needs a form"


def _string_constants(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


# the setup wizard is a package: every module of it
READERS = sorted(
    [
        *(p.relative_to(PACKAGE).as_posix() for p in (PACKAGE / "gui" / "wizard").glob("*.py")),
        "sync/runner.py",
        "cli/accounts.py",
        "cli/sync.py",
        "cli/kinds.py",
    ]
)


@pytest.mark.parametrize("path", READERS)
def test_no_kind_is_named_outside_the_registry_and_its_module(path):
    assert (PACKAGE / path).is_file(), path
    assert not _string_constants(PACKAGE / path) & set(KINDS), path


def test_the_registry_readers_include_the_whole_wizard():
    assert len([p for p in READERS if p.startswith("gui/wizard/")]) >= 5


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


@pytest.mark.parametrize("kind", list(KINDS))
def test_account_modules_do_not_parse_arguments(kind):
    module = kind_module(kind)
    imported = _imports(Path(module.__file__))
    assert "argparse" not in imported
    assert not any(m.startswith("calsync_desktop.cli") for m in imported)
    assert not hasattr(module, "configure_cli") and not hasattr(module, "add_from_cli")


def test_an_unknown_kind_reads_as_its_name():
    assert kind_label("exchange") == "Exchange Server"
    assert kind_label("from-a-newer-version") == "from-a-newer-version"


# --------------------------------------------------------------------------- a new kind


@pytest.fixture
def trial(monkeypatch):
    """The test kind registered, as its registry entry would be."""
    monkeypatch.setitem(KINDS, "trial", trial_kind.ENTRY)
    return trial_kind


def test_a_new_kind_is_added_synced_and_checked_through_its_entry_alone(
    trial, services, clock, capsys, monkeypatch
):
    start = clock() + timedelta(days=1)
    services.store.add_appointment(
        Appointment(new_id(), "Local visit", start, start + timedelta(hours=1))
    )
    remote = trial.calendar(services, "sam")
    remote.add(subject="Remote call", start=start, end=start + timedelta(hours=2))
    argv = ["accounts", "add", "trial", "--server-url", "trial://cal", "--username", "sam"]

    monkeypatch.setattr(sys, "stdin", io.StringIO("wrong\n"))
    assert main([*argv, "--password-stdin"], services=services) == 1
    assert "refused" in capsys.readouterr().err
    assert main(["accounts", "add", "trial", "--username", "x"], services=services) == 2
    assert "--server-url" in capsys.readouterr().err

    monkeypatch.setattr(sys, "stdin", io.StringIO(trial.PASSWORD + "\n"))
    assert main(["--json", *argv, "--password-stdin"], services=services) == 0
    added = json.loads(capsys.readouterr().out)
    assert added["account"]["kind_label"] == "Trial Calendar"
    assert added["first_sync"] == {"create remotely": 1, "create locally": 1}
    (account,) = services.store.list_accounts()
    assert services.secrets.get(account.id, "password") == trial.PASSWORD
    assert trial.PASSWORD not in json.dumps(account.settings)

    result = SyncRunner(services).sync_account(account.id)
    assert result.errors == [] and result.counts == {"create remotely": 1, "create locally": 1}
    checks = {c.name: c.ok for c in SyncRunner(services).check_account(account.id)}
    assert checks["Credentials valid"] and "Sign-in" not in checks  # no token to check


def test_the_command_line_offers_each_kind_with_its_own_options(trial, capsys):
    from calsync_desktop.cli import build_parser

    parser = build_parser(kinds=list(KINDS))
    with pytest.raises(SystemExit):
        parser.parse_args(["accounts", "add", "trial", "--help"])
    help_text = capsys.readouterr().out
    assert "--server-url" in help_text and "--password-stdin" in help_text
    assert "--password " not in help_text  # a secret is never an option's value
    with pytest.raises(SystemExit):
        parser.parse_args(["accounts", "add", "--help"])
    listing = capsys.readouterr().out
    assert "Trial Calendar" in listing and "Exchange Server" in listing
    assert "Local test calendar" not in listing  # accepted, not advertised


def test_registry_module_is_cheap_to_import():
    # reading the registry must not load a service's client library
    code = (
        "import sys, calsync_desktop.accounts.kinds as k; "
        "print(any(m.startswith(('exchangelib', 'msal', 'googleapiclient')) for m in sys.modules))"
    )
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    importlib.import_module("calsync_desktop.accounts.kinds")


def test_removing_an_account_deletes_every_secret_its_kind_declares(services, monkeypatch):
    import dataclasses

    from calsync_desktop.accounts import remove_account
    from calsync_desktop.accounts.base import Account
    from calsync_desktop.accounts.kinds import Field

    entry = dataclasses.replace(
        trial_kind.ENTRY,
        fields=(Field("app_password", "App password", "the app password", secret=True),),
    )
    monkeypatch.setitem(KINDS, "trial", entry)
    account = services.store.add_account(Account(id="t1", kind="trial", name="T", email="t@x"))
    services.secrets.set(account.id, "app_password", "s3cret")
    services.secrets.set(account.id, "token", "t0ken")
    remove_account(services, account.id)
    assert services.secrets.values == {}
