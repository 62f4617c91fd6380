"""Bad input through the command line is one clear line on stderr and exit
code 2, before anything is sent or saved (issue 10, items 15 to 18); and the
class of it: whatever the arguments, never a traceback, only exit 0, 1 or 2."""

from __future__ import annotations

import io
import json
import string
import sys
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calsync_desktop.accounts.exchange import check_url
from calsync_desktop.model import Appointment, Recurrence
from tests import listener as plain_http

SERVER_ARGS = ("--username", "sam@example.com", "--password-stdin")


def one_line_error(result: tuple[int, str, str], fragment: str) -> str:
    code, out, err = result
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("calsync: error: "), err
    assert fragment.lower() in lines[0].lower(), err
    return lines[0]


def stdin_bytes(monkeypatch, data: bytes) -> None:
    """Standard input as a pipe gives it: bytes under a UTF-8 text layer."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


# --------------------------------------------------------------------------- 16: stdin


def test_contents_from_stdin_that_are_not_utf8_are_bad_input(cli, monkeypatch):
    stdin_bytes(monkeypatch, b"Visit ACME \xff\xfe in M\xfcnchen\n")
    result = cli(
        "appointments",
        "add",
        "--contents",
        "-",
        "--start",
        "2026-11-24T09:00",
        "--end",
        "2026-11-24T10:00",
    )
    one_line_error(result, "--contents -: standard input is not UTF-8")
    assert cli.store.count_appointments() == 0


def test_contents_from_stdin_in_utf8_are_taken_as_they_are(cli, monkeypatch):
    stdin_bytes(monkeypatch, "Besuch in München\nmit Kaffee ☕\n".encode())
    added = cli.add("--contents", "-", "--start", "2026-11-24T09:00", "--end", "2026-11-24T10:00")
    assert cli.store.get_appointment(added["id"]).contents == "Besuch in München\nmit Kaffee ☕"


def test_a_password_on_stdin_that_is_not_utf8_is_bad_input(cli, monkeypatch):
    stdin_bytes(monkeypatch, b"s\xe9cret\n")
    result = cli(
        "accounts",
        "add",
        "exchange",
        "--server-url",
        "https://127.0.0.1:1/EWS/Exchange.asmx",
        *SERVER_ARGS,
    )
    one_line_error(result, "standard input is not UTF-8")
    assert cli.store.list_accounts() == []


def test_arguments_that_are_not_utf8_are_bad_input(cli):
    # a byte that is not UTF-8 reaches Python as a lone surrogate (PEP 383)
    result = cli("appointments", "add", "--contents", "Caf\udce9", "--start", "2026-11-24T09:00")
    one_line_error(result, "is not UTF-8 text")
    assert cli.store.count_appointments() == 0


# --------------------------------------------------------------------------- 17, 18: addresses


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("http://[::1", "is not a web address"),
        ("https://[fe80::1%eth0/EWS/Exchange.asmx", "is not a web address"),
        ("https://mail.example.com:99999/EWS/Exchange.asmx", "is not a web address"),
        ("ftp://mail.example.com/EWS/Exchange.asmx", "not ftp://"),
        ("mail.example.com/EWS/Exchange.asmx", "is not a full web address"),
        ("", "is not a full web address"),
        ("https://", "is not a full web address"),
    ],
)
def test_a_server_address_that_cannot_be_one_is_bad_input(cli, monkeypatch, url, fragment):
    monkeypatch.setattr(sys, "stdin", io.StringIO("pw-very-secret-123\n"))
    result = cli("accounts", "add", "exchange", "--server-url", url, *SERVER_ARGS)
    line = one_line_error(result, fragment)
    assert "https://mail.example.com/EWS/Exchange.asmx" in line  # what a good one looks like
    assert "pw-very-secret" not in result[1] + result[2]
    assert cli.store.list_accounts() == [] and cli.services.secrets.values == {}


def test_a_ca_bundle_that_is_not_a_file_is_bad_input(cli, monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "stdin", io.StringIO("secret\n"))
    result = cli(
        "accounts",
        "add",
        "exchange",
        "--server-url",
        "https://127.0.0.1:1/EWS/Exchange.asmx",
        "--ca-bundle",
        str(tmp_path),
        *SERVER_ARGS,
    )
    one_line_error(result, "is not a file")


@pytest.mark.parametrize(
    ("contents", "fragment"),
    [
        (None, "does not exist"),
        ("folder", "is a folder"),
        (b"{not json", "is not JSON"),
        (b"\xff\xfe{}", "is not JSON"),
        (b'["installed"]', "is not a Google client-secrets file"),
        (b'"installed"', "is not a Google client-secrets file"),
        (b'{"installed": "yes"}', "is not a Google client-secrets file"),
        (b'{"web": {"client_secret": "x"}}', "is not a Google client-secrets file"),
        (b'{"installed": {"client_id": "x"}}', "no auth_uri"),
    ],
)
def test_a_client_secrets_file_that_cannot_be_used_is_bad_input(cli, tmp_path, contents, fragment):
    path = tmp_path / "client_secret.json"
    if contents == "folder":
        path.mkdir()
    elif contents is not None:
        path.write_bytes(contents)
    result = cli("accounts", "add", "google", "--client-secrets", str(path), "--no-browser")
    one_line_error(result, fragment)
    assert cli.store.list_accounts() == []


# --------------------------------------------------------------------------- 15: plain http


listener = plain_http.plain_http_listener


def test_plain_http_to_another_computer_is_refused_before_the_password_is_sent(
    cli, monkeypatch, listener
):
    httpd, url = listener
    monkeypatch.setattr(sys, "stdin", io.StringIO("pw-very-secret-123\n"))
    result = cli("accounts", "add", "exchange", "--server-url", url, *SERVER_ARGS)
    line = one_line_error(result, "http://")
    assert "unencrypted" in line and "https://" in line
    assert httpd.seen == []  # not even a request without the password
    assert cli.store.list_accounts() == [] and cli.services.secrets.values == {}
    # the same server by a name is refused just the same, before any lookup
    monkeypatch.setattr(sys, "stdin", io.StringIO("pw-very-secret-123\n"))
    one_line_error(
        cli(
            "accounts",
            "add",
            "exchange",
            "--server-url",
            "http://mail.example.invalid/EWS",
            *SERVER_ARGS,
        ),
        "unencrypted",
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/EWS/Exchange.asmx",
        "http://127.1.2.3/EWS/Exchange.asmx",
        "http://localhost/EWS/Exchange.asmx",
        "HTTP://LOCALHOST/EWS/Exchange.asmx",
        "http://[::1]:8080/EWS/Exchange.asmx",
        "https://mail.example.com/EWS/Exchange.asmx",
    ],
)
def test_plain_http_is_allowed_only_to_this_computer(url):
    assert check_url(url) == url


@pytest.mark.parametrize(
    "url", ["http://10.0.0.5/EWS", "http://mail.example.com/EWS", "http://[2001:db8::1]/EWS"]
)
def test_plain_http_to_any_other_address_is_refused(url):
    from calsync_desktop.accounts.base import InvalidDetails

    with pytest.raises(InvalidDetails, match="unencrypted"):
        check_url(url)


# --------------------------------------------------------------------------- the class: fuzzing

_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)) | st.sampled_from("-:/+Z T[]<>@;=\\"),
    max_size=30,
)
_WORD = st.one_of(
    _TEXT,
    st.sampled_from(
        [
            "2026-11-24T09:00",
            "2026-11-24",
            "2026-13-45T99:99:99Z",
            "2026-03-29T02:30",
            "9999-12-31T23:59+14:00",
            "0001-01-01T00:00-12:00",
            "Europe/Berlin",
            "Mars/Olympus",
            "FREQ=DAILY;COUNT=3",
            "FREQ=SECONDLY",
            "FREQ=DAILY;COUNT=1000000000",
            "FREQ=WEEKLY;BYDAY=XX",
            "Ann <ann@example.com>",
            "<x@y",
            "-",
            "",
            "none",
            "\x00",
        ]
    ),
)
_ADD_OPTIONS = [
    "--contents",
    "--start",
    "--end",
    "--zone",
    "--location",
    "--participant",
    "--rrule",
    "--exdate",
]
_FLAGS = [
    "--private",
    "--all-day",
    "--no-private",
    "--no-all-day",
    "--clear-participants",
    "--show-private",
    "--json",
    "--help",
]
_SCHEMES = ["http", "https", "ftp", "", "HTTPS", "file", "javascript"]
_HOSTS = [
    "127.0.0.1:1",
    "[::1]:1",
    "localhost:1",
    "[::1",
    "mail.example.invalid",
    "10.0.0.5",
    "[fe80::1%eth0]",
    "",
    "a:b:c",
    ":99999",
    "%zz",
]


_TIME = st.one_of(
    st.sampled_from(["2026-11-24T09:00", "2026-11-24T10:00", "2026-11-25", "2026-11-24 09:30Z"]),
    _WORD,
)
SERIES_ID = "5e7e5000-0000-4000-8000-000000000001"


@st.composite
def _options(draw, names: list[str]) -> list[str]:
    argv: list[str] = []
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.booleans()):
            argv += [draw(st.sampled_from(names)), draw(_WORD)]
        else:
            argv.append(draw(st.sampled_from(_FLAGS)))
    return argv


@st.composite
def _server_url(draw) -> str:
    if draw(st.integers(0, 3)) == 0:
        return draw(_TEXT)
    scheme, host = draw(st.sampled_from(_SCHEMES)), draw(st.sampled_from(_HOSTS))
    return f"{scheme}://{host}/" + draw(st.text(string.printable, max_size=10))


@st.composite
def command_lines(draw, tmp) -> tuple[list[str], bytes]:
    """An argument list for one of the command line's surfaces, and standard input."""
    stdin = draw(st.binary(max_size=40) | _TEXT.map(str.encode))
    surface = draw(st.sampled_from(range(9)))
    if surface == 0:
        # mostly whole commands, so that the checks after parsing are reached
        contents = draw(st.sampled_from(["-", "Visit"]) | _WORD)
        argv = ["appointments", "add", "--contents", contents, "--start", draw(_TIME)]
        argv += ["--end", draw(_TIME), *draw(_options(_ADD_OPTIONS))]
    elif surface == 1:
        action = draw(st.sampled_from(["edit", "edit", "show", "delete"]))
        target = draw(st.sampled_from([SERIES_ID, SERIES_ID[:8], "5e7e"]) | _WORD)
        argv = ["appointments", action, target, *draw(_options(_ADD_OPTIONS))]
    elif surface == 2:
        argv = ["appointments", "list", *draw(_options(["--from", "--to", "--zone"]))]
    elif surface == 3:
        target = draw(st.sampled_from(["-", f"{tmp}/out.ics", f"{tmp}/none/x.ics", str(tmp)]))
        argv = ["export", "--ics", target, *draw(_options(["--from", "--to", "--zone"]))]
    elif surface == 4:
        key = draw(
            st.sampled_from(
                [
                    "sync.interval_minutes",
                    "sync.paused",
                    "profile.email",
                    "advanced.ca_bundle",
                    "app.default_account",
                    "nope",
                ]
            )
        )
        argv = ["settings", key, draw(_WORD)]
    elif surface == 5:
        argv = ["profile", *draw(_options(["--name", "--email"]))]
    elif surface == 6:
        argv = [
            "accounts",
            "add",
            "exchange",
            "--server-url",
            draw(_server_url()),
            "--username",
            draw(st.sampled_from(["sam", "EXAMPLE\\sam", "sam@example.com"]) | _WORD),
            "--password-stdin",
            *draw(st.sampled_from([[], ["--email", "x@y"], ["--ca-bundle", str(tmp)]])),
        ]
    elif surface == 7:
        secrets = tmp / "secrets.json"
        secrets.write_bytes(draw(st.binary(max_size=60)))
        argv = ["accounts", "add", "google", "--client-secrets", str(secrets), "--no-browser"]
    else:
        argv = draw(st.lists(_WORD, max_size=5))
    return argv, stdin


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_argument_gives_a_traceback_only_exit_0_1_or_2(cli, monkeypatch, tmp_path, data):
    if cli.store.get_appointment(SERIES_ID) is None:
        cli.store.add_appointment(
            Appointment(
                SERIES_ID,
                "Standup",
                datetime(2026, 11, 24, 8, tzinfo=UTC),
                datetime(2026, 11, 24, 8, 15, tzinfo=UTC),
                "Europe/Berlin",
                recurrence=Recurrence("FREQ=DAILY;COUNT=5"),
            )
        )
    argv, stdin = data.draw(command_lines(tmp_path))
    stdin_bytes(monkeypatch, stdin)
    try:
        code, out, err = cli(*argv)
    except SystemExit as exit_:  # --help inside an action exits through argparse
        code, out, err = exit_.code, "", ""
    assert code in (0, 1, 2), (argv, code, err)
    assert "Traceback" not in err + out, (argv, err)
    if code == 2 and err.strip() and not err.startswith("usage:"):
        assert err.strip().splitlines()[-1].startswith("calsync: error: "), (argv, err)
    json.dumps(argv)  # the example is printable when it fails


@pytest.mark.parametrize(
    "contents",
    [b"not a database at all\n", b"SQLite format 3\x00" + b"\xff" * 4000],
    ids=["another-file", "damaged"],
)
def test_a_sales_calendar_file_that_is_not_a_database_is_one_line_and_left_as_it_is(
    tmp_path, capsys, contents
):
    from calsync_desktop.cli import main

    path = tmp_path / "home" / "data" / "sales-calendar.sqlite3"
    path.parent.mkdir(parents=True)
    path.write_bytes(contents)
    code = main(["--home", str(tmp_path / "home"), "status"])
    out, err = capsys.readouterr()
    assert code == 1, (out, err)
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "is not a Sales Calendar database" in err and str(path) in err
    assert path.read_bytes() == contents  # nothing written over it
