"""Reaching a team's Sales Calendar on PostgreSQL: the address rules, TLS, the
member's password in the keyring, and what went wrong in plain words.

A team server on another computer is reached only over TLS with the server's
certificate checked against its name (libpq ``sslmode=verify-full``), trusting
the system's certificate authorities or the CA bundle the member chose. A plain
connection is accepted only on this computer (loopback or a Unix socket).
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Engine, make_url

from calsync_desktop.store import (
    Store,
    StoreUnavailable,
    current_revision,
    head_revision,
    known_revisions,
)

CONFIG_NAME = "team-server.json"
SECRET_NAME = "password"
CONNECT_TIMEOUT = 10  # seconds: an unreachable server is reported, not waited on
_SCHEMES = {"postgresql", "postgres", "postgresql+psycopg"}
_SAFE_MODES = {"verify-full"}


class TeamError(Exception):
    """Something about the team server, said so that a member knows what to do."""


class BadAddress(TeamError):
    """The address cannot be used as given (nothing was sent anywhere)."""


class Unreachable(TeamError):
    def __init__(self, where: str, detail: str = ""):
        super().__init__(
            f"The team server {where} cannot be reached. Check the network connection and "
            "the address; calsync keeps trying by itself." + (f" ({detail})" if detail else "")
        )


class WrongPassword(TeamError):
    def __init__(self, user: str):
        super().__init__(
            f"The team server did not accept the password for {user}. Check the member name "
            "and password (ask your administrator for a new one if it was lost)."
        )


class NoPasswordGiven(TeamError):
    """The server asked for a password and none was given (an administrator's
    commands take it as psql does; calsync never keeps it)."""

    def __init__(self, user: str):
        super().__init__(
            f"The team server asked for the password of {user} and no password was given. "
            "Give it in the address, PGPASSWORD or ~/.pgpass, as with psql; calsync never "
            "keeps it."
        )


class CertificateUntrusted(TeamError):
    def __init__(self, where: str, detail: str = ""):
        super().__init__(
            f"The team server {where} presented a TLS certificate this computer does not "
            "trust (or one made out to another name). If your company uses its own "
            "certificates, choose its CA bundle file; certificates are never ignored."
            + (f" ({detail})" if detail else "")
        )


class NoTLS(TeamError):
    def __init__(self, where: str):
        super().__init__(
            f"The team server {where} does not offer TLS, and calsync connects to a server on "
            "another computer only over TLS. Ask your administrator to turn on ssl."
        )


class NotATeamDatabase(TeamError):
    def __init__(self, where: str, detail: str = ""):
        super().__init__(
            f"{where} is not a calsync team Sales Calendar. An administrator sets one up with "
            "'calsync team init'." + (f" ({detail})" if detail else "")
        )


class NotAMember(TeamError):
    def __init__(self, user: str, where: str):
        super().__init__(
            f"{user} is not a member of the team Sales Calendar at {where}. Ask your "
            "administrator to add you ('calsync team add-member')."
        )


class SchemaTooNew(TeamError):
    def __init__(self, where: str):
        super().__init__(
            f"The team Sales Calendar at {where} was upgraded by a newer calsync than this "
            "one. Update calsync-desktop on this computer to use it; nothing was changed."
        )


class SchemaTooOld(TeamError):
    def __init__(self, where: str):
        super().__init__(
            f"The team Sales Calendar at {where} needs an upgrade for this version of "
            "calsync. Ask your administrator to run 'calsync team init' with the new version."
        )


def is_loopback(host: str | None) -> bool:
    """This computer only: no host (the default socket), a socket path, localhost
    or a loopback address."""
    if not host or host.startswith("/") or host.startswith("@"):
        return True
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(
        ".localhost"
    ):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_url(url: str) -> URL:
    """A PostgreSQL address as SQLAlchemy understands it (driver psycopg)."""
    try:
        parsed = make_url(url.strip())
    except (sa_exc.ArgumentError, ValueError) as exc:
        raise BadAddress(
            f"'{url}' is not a PostgreSQL address; write it as postgresql://HOST[:PORT]/DATABASE."
        ) from exc
    if parsed.drivername not in _SCHEMES:
        raise BadAddress(
            f"'{url}' is not a PostgreSQL address; write it as postgresql://HOST[:PORT]/DATABASE."
        )
    if not parsed.database:
        raise BadAddress(f"The address '{url}' names no database: add /DATABASE at its end.")
    return parsed.set(drivername="postgresql+psycopg")


def describe(url: URL) -> str:
    """The address without user or password, for messages."""
    host = url.query.get("host") if not url.host else url.host
    where = f"{host or 'localhost'}" + (f":{url.port}" if url.port else "")
    return f"{where}/{url.database}"


def secure_url(url: str | URL, ca_bundle: str = "") -> URL:
    """The address with the TLS rules applied: verify-full (against the CA bundle,
    or the system's authorities) for any host other than this computer; a
    refused plain or unverified connection says why."""
    parsed = parse_url(url) if isinstance(url, str) else url
    query = dict(parsed.query)
    mode = query.get("sslmode")
    host = parsed.host or query.get("host")
    if ca_bundle:
        if not Path(ca_bundle).is_file():
            raise BadAddress(f"The CA bundle file {ca_bundle} does not exist.")
        query["sslrootcert"] = str(Path(ca_bundle).resolve())
        mode = mode or "verify-full"
    if is_loopback(host):
        if mode:
            query["sslmode"] = mode
    else:
        if mode and mode not in _SAFE_MODES:
            raise BadAddress(
                f"calsync connects to a team server on another computer only over TLS with "
                f"the certificate checked (sslmode=verify-full), not sslmode={mode}. Remove "
                "sslmode from the address; if the server uses your company's own "
                "certificates, give their CA bundle file."
            )
        query["sslmode"] = "verify-full"
        query.setdefault("sslrootcert", "system")
    query.setdefault("connect_timeout", str(CONNECT_TIMEOUT))
    query.setdefault("application_name", "calsync-desktop")
    return parsed.set(query=query)


def classify(error: BaseException, url: URL, user: str) -> TeamError:
    """A connection failure in a member's words."""
    message = str(getattr(error, "orig", None) or error)
    low = message.lower()
    where = describe(url)
    detail = message.strip().splitlines()[-1].strip() if message.strip() else ""
    if "no password supplied" in low:
        return NoPasswordGiven(user)
    if "password authentication failed" in low:
        return WrongPassword(user)
    if "does not support ssl" in low or "server does not support ssl" in low:
        return NoTLS(where)
    if "certificate" in low or ("ssl" in low and "verify" in low) or "root certificate" in low:
        return CertificateUntrusted(where, detail)
    if "database" in low and "does not exist" in low:
        return NotATeamDatabase(where, "no database of that name")
    if "permission denied for database" in low or "not permitted to log in" in low:
        return NotAMember(user, where)
    if "no pg_hba.conf entry" in low:
        return NotAMember(user, where)
    return Unreachable(where, detail)


def explain_lost(error: BaseException, url: URL, user: str) -> str:
    """Why a team Sales Calendar that was open cannot be used now, in a member's
    words: :func:`classify`'s sentence when the server answered and refused (a
    password changed meanwhile, a certificate no longer trusted), else the
    error's own sentence (the server cannot be reached)."""
    cause = error.__cause__
    reason = cause
    for _ in range(8):  # down the chain: SQLAlchemy's error, the driver's, its cause
        if reason is None or isinstance(reason, TeamError):
            break
        reason = getattr(reason, "orig", None) or reason.__cause__
    if not isinstance(reason, TeamError):
        reason = None
    if reason is not None:
        return str(reason)
    if cause is not None:
        found = classify(cause, url, user)
        if not isinstance(found, Unreachable):
            return str(found)
    return str(error)


@dataclass(frozen=True)
class TeamServer:
    """This computer's connection to a team Sales Calendar (no password: that is
    in the keyring)."""

    url: str  # as the member typed it, without credentials
    user: str  # the member's email: their database role
    ca_bundle: str = ""

    @property
    def secret_key(self) -> str:
        """Where the password is in the keyring."""
        return f"team-server:{self.user}@{describe(parse_url(self.url))}"

    def address(self) -> URL:
        return secure_url(self.url, self.ca_bundle)

    def engine(self, password: str) -> Engine:
        url = self.address().set(username=self.user, password=password)
        return create_engine(url, pool_pre_ping=True, pool_size=4, max_overflow=4)

    # -- this computer's choice, kept next to the SQLite file
    def save(self, data_dir: Path) -> None:
        path = Path(data_dir) / CONFIG_NAME
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        os.chmod(tmp, 0o600)
        tmp.replace(path)

    @classmethod
    def load(cls, data_dir: Path) -> TeamServer | None:
        path = Path(data_dir) / CONFIG_NAME
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        return cls(data["url"], data["user"], data.get("ca_bundle", ""))

    @staticmethod
    def forget(data_dir: Path) -> None:
        (Path(data_dir) / CONFIG_NAME).unlink(missing_ok=True)


def member_url(url: str) -> str:
    """The address a member keeps: refuses one carrying a password (it belongs
    in the keyring)."""
    parsed = parse_url(url)
    if parsed.password:
        raise BadAddress(
            "Leave the password out of the address: calsync keeps it in the OS keyring "
            "(give it with --password-stdin, or type it when asked)."
        )
    return parsed.set(username=None).render_as_string(hide_password=False)


def check_schema(conn, where: str) -> None:
    """Is this a calsync team database this version can use?"""
    has_team = conn.execute(text("SELECT to_regclass('public.team_settings') IS NOT NULL"))
    if not has_team.scalar():
        raise NotATeamDatabase(where)
    try:
        revision = current_revision(conn)
    except sa_exc.ProgrammingError as exc:
        raise NotATeamDatabase(where, "no schema version") from exc
    if revision is None:
        raise NotATeamDatabase(where, "no schema version")
    if revision not in known_revisions():
        raise SchemaTooNew(where)
    if revision != head_revision():
        raise SchemaTooOld(where)


def open_store(
    server: TeamServer, password: str, clock: Callable[[], datetime] | None = None
) -> Store:
    """The team Sales Calendar as this member, checked: reachable, the password
    right, the certificate trusted, a team database of this version."""
    address = server.address()
    engine = server.engine(password)
    try:
        with engine.connect() as conn:
            check_schema(conn, describe(address))
            member = conn.execute(
                text("SELECT 1 FROM team_members WHERE role = current_user")
            ).scalar()
            if member is None:
                raise NotAMember(server.user, describe(address))
            conn.rollback()
    except TeamError:
        engine.dispose()
        raise
    except (sa_exc.OperationalError, sa_exc.ProgrammingError, StoreUnavailable) as exc:
        engine.dispose()
        if isinstance(exc, sa_exc.ProgrammingError) and "permission denied" in str(exc):
            raise NotAMember(server.user, describe(address)) from exc
        raise classify(exc.__cause__ or exc, address, server.user) from None
    # every later connection (after one was lost) checks the schema again: an
    # administrator may have upgraded the team server meanwhile
    event.listen(engine, "connect", _schema_guard(describe(address)))
    return Store(engine, clock, owner=role_name(server.user))


def _schema_guard(where: str) -> Callable:
    def check(dbapi_connection, _record) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT version_num FROM alembic_version")
            stamped = [row[0] for row in cursor.fetchall()]
        dbapi_connection.rollback()
        problem: TeamError | None = None
        if any(revision not in known_revisions() for revision in stamped):
            problem = SchemaTooNew(where)
        elif stamped != [head_revision()]:
            problem = SchemaTooOld(where)
        if problem is not None:
            import psycopg  # loaded by then (this runs on its connection); not at start

            # as the driver's own error, so that the store says "cannot be used
            # now" and retries later; explain_lost finds the reason in it
            raise psycopg.OperationalError(str(problem)) from problem

    return check


def role_name(email: str) -> str:
    """A member's database role: their email, lower case."""
    return email.strip().lower()
