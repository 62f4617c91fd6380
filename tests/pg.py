"""A real PostgreSQL server for the tests: Debian's ``postgresql`` package,
started in a temporary data directory on a loopback port, with TLS.

PostgreSQL refuses to run as root (and CI runs as root), so as root the server
runs as the unprivileged ``postgres`` user the package creates (else
``nobody``). One cluster serves a whole test session; each test gets a fresh
database copied from a template that already holds the team schema, which is
far cheaper than migrating each time.
"""

from __future__ import annotations

import datetime as dt
import glob
import ipaddress
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

ADMIN = "calsync_admin"
ADMIN_PASSWORD = "admin-secret-for-tests"
TEMPLATE = "calsync_template"
MEMBERS = {  # present in every team database the fixtures hand out
    "ann@team.example": ("Ann Archer", "ann-password-1"),
    "bob@team.example": ("Bob Baker", "bob-password-2"),
}


def pg_bin() -> Path:
    """The newest installed server (≥ 15)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4])
    )
    found = [p for p in found if int(p.split("/")[4]) >= 15]
    if not found:
        raise RuntimeError(
            "PostgreSQL ≥ 15 is not installed: run scripts/setup (it installs Debian's "
            "postgresql package)."
        )
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_as() -> list[str]:
    if os.geteuid() != 0:
        return []
    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        return ["runuser", "-u", user, "--"]
    raise RuntimeError("No unprivileged user to run PostgreSQL as")


def _owner_ids() -> tuple[int, int] | None:
    if os.geteuid() != 0:
        return None
    for user in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(user)
        except KeyError:
            continue
        return entry.pw_uid, entry.pw_gid
    return None


def make_ca(directory: Path, name: str, hosts: list[str]) -> tuple[Path, Path, Path]:
    """A certificate authority and a server certificate for ``hosts``: returns
    (ca.pem, server.crt, server.key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    alt = []
    for h in hosts:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(h)))
        except ValueError:
            alt.append(x509.DNSName(h))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    ca_path, crt, keyfile = (
        directory / f"{name}-ca.pem",
        directory / f"{name}.crt",
        directory / f"{name}.key",
    )
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return ca_path, crt, keyfile


@dataclass
class PostgresCluster:
    """One PostgreSQL server for the test session."""

    root: Path
    port: int = field(default_factory=_free_port)
    bin: Path = field(default_factory=pg_bin)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def ca(self) -> Path:
        """The CA that signed the server's certificate (for localhost,
        127.0.0.1 and db.team.example)."""
        return self.root / "tls" / "server-ca.pem"

    @property
    def other_ca(self) -> Path:
        """A CA the server's certificate does not come from."""
        return self.root / "tls" / "other-ca.pem"

    def _pg(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*_run_as(), str(self.bin / args[0]), *args[1:]],
            check=check,
            capture_output=True,
            text=True,
            cwd="/",
        )

    def initdb(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)
        pwfile = self.root / "pw"
        pwfile.write_text(ADMIN_PASSWORD)
        tls = self.root / "tls"
        make_ca(tls, "server", ["localhost", "127.0.0.1", "db.team.example"])
        make_ca(tls, "other", ["localhost"])
        ids = _owner_ids()
        self.data.mkdir()
        if ids:
            for path in (self.root, self.data, pwfile, tls, *tls.iterdir()):
                os.chown(path, *ids)
        os.chmod(tls / "server.key", 0o600)
        self._pg(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            ADMIN,
            f"--pwfile={pwfile}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"""
listen_addresses = '127.0.0.1'
port = {self.port}
unix_socket_directories = '{self.data}'
max_connections = 200
shared_buffers = 64MB
fsync = off
synchronous_commit = off
full_page_writes = off
ssl = on
ssl_cert_file = '{tls / "server.crt"}'
ssl_key_file = '{tls / "server.key"}'
log_min_messages = warning
"""
            )

    def start(self) -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """``mode`` ``immediate`` is a crash: no shutdown checkpoint, every
        connection cut."""
        self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def restart(self) -> None:
        self.start()

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg.connect(self.dsn("postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    # -- addresses
    def url(self, database: str, user: str | None = None, password: str | None = None) -> str:
        auth = ""
        if user:
            from urllib.parse import quote

            auth = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "") + "@"
        return f"postgresql://{auth}127.0.0.1:{self.port}/{database}"

    def admin_url(self, database: str) -> str:
        return self.url(database, ADMIN, ADMIN_PASSWORD)

    def dsn(self, database: str, user: str = ADMIN, password: str = ADMIN_PASSWORD) -> str:
        return (
            f"host=127.0.0.1 port={self.port} dbname={database} user={user} "
            f"password={password} sslmode=disable"
        )

    def admin(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(self.dsn(database), autocommit=True)

    def as_member(self, database: str, email: str, password: str | None = None):
        """A raw psycopg connection under a member's own role, as any SQL client
        would open it."""
        password = password or MEMBERS[email][1]
        return psycopg.connect(self.dsn(database, email, password), autocommit=True)

    # -- databases
    def create_database(self, name: str, template: str | None = None) -> None:
        with self.admin() as conn:
            statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template:
                statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            conn.execute(statement)

    def drop_database(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def drop_role(self, name: str) -> None:
        with self.admin() as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
            if exists:
                for (db,) in conn.execute(
                    "SELECT datname FROM pg_database WHERE datallowconn"
                ).fetchall():
                    with psycopg.connect(self.dsn(db), autocommit=True) as other:
                        other.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
                conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def start_cluster() -> PostgresCluster:
    root = Path(tempfile.mkdtemp(prefix="calsync-pg-"))
    cluster = PostgresCluster(root)
    cluster.initdb()
    cluster.start()
    cluster.wait_ready()
    return cluster


def remove_cluster(cluster: PostgresCluster) -> None:
    cluster.stop("immediate")
    shutil.rmtree(cluster.root, ignore_errors=True)
