"""The log file, ``calsync-desktop.log``: rotating, 0600, and never a secret in it.

Two layers keep codes, tokens and passwords out, whichever logger writes:

- The client libraries that see them are quieted to warnings
  (:data:`QUIET_LOGGERS`): google-auth-oauthlib logs the loopback callback
  line, with the authorization code, and the consent address at INFO;
  oauthlib, requests-oauthlib, MSAL, exchangelib and urllib3 log requests,
  bodies or tokens at DEBUG.
- The log file's formatter redacts what still looks like a secret in the
  finished line, tracebacks included (:func:`redact`): query and form
  parameters and JSON members named like secrets, Authorization headers,
  JWTs, and Google's and Microsoft's token and code formats.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path

from calsync_desktop.files import FILE_MODE, make_private, open_private

LOG_NAME = "calsync-desktop.log"
MAX_BYTES = 1_000_000
BACKUPS = 5
REDACTED = "[redacted]"

QUIET_LOGGERS = (
    "google_auth_oauthlib",
    "oauthlib",
    "requests_oauthlib",
    "google.auth",
    "googleapiclient",
    "msal",
    "exchangelib",
    "urllib3",
    "requests",
    "httplib2",
    "spnego",
)
"""Libraries that log sign-in codes, tokens or request bodies below WARNING."""

_SECRET_NAMES = (
    "code|state|access_token|refresh_token|id_token|client_secret|client_assertion|assertion"
    "|password|passwd|pwd|code_verifier|code_challenge|device_code|user_code|token|secret"
    "|session_state|client_info|sig|signature"
)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # query strings and form bodies: code=4/abc&state=xyz
    (re.compile(rf"(?i)\b({_SECRET_NAMES})=([^&\s\"'<>;,]+)"), rf"\1={REDACTED}"),
    # JSON and Python reprs: "refresh_token": "1//abc", 'password': 'x'
    (
        re.compile(
            rf"(?i)([\"']({_SECRET_NAMES}|[a-z_]*(?:token|secret|password))[\"']\s*:\s*)([\"'])(?:\\.|(?!\3).)*\3"
        ),
        rf"\1\3{REDACTED}\3",
    ),
    # headers: Authorization: Bearer …, Basic …, NTLM …
    (
        re.compile(
            r"(?i)\b(authorization[\"']?\s*[:=]\s*[\"']?(?:bearer|basic|ntlm|negotiate)\s+)[^\s\"',}]+"
        ),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\1{REDACTED}"),
    # "Generated new state …" (requests-oauthlib), "device code …"
    (re.compile(r"(?i)\b(state|code|token)(\s+)([A-Za-z0-9._~-]{16,})"), rf"\1\2{REDACTED}"),
    # XML elements of EWS and SOAP that carry a password
    (re.compile(r"(?i)(<[\w:]*password[^>]*>)[^<]*"), rf"\1{REDACTED}"),
    # JSON Web Tokens (id tokens, Microsoft access tokens)
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), REDACTED),
    # Google access tokens, refresh tokens and authorization codes
    (re.compile(r"\bya29\.[A-Za-z0-9._-]+"), REDACTED),
    (re.compile(r"(?<![\w/])1//[A-Za-z0-9._-]{8,}"), REDACTED),
    (re.compile(r"(?<![\w/])4/[A-Za-z0-9._-]{10,}"), REDACTED),
)


def redact(text: str) -> str:
    """``text`` with whatever looks like a code, token or password replaced."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFormatter(logging.Formatter):
    """A formatter whose every line (message, arguments, traceback) is redacted."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log file created 0600 (its rotated copies keep the mode)."""

    def _open(self):  # logging's hook: the file is created 0600
        return open_private(Path(self.baseFilename), self.mode, encoding=self.encoding)


def quiet_libraries(level: int = logging.WARNING) -> None:
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < level:
            logger.setLevel(level)


def log_file_handler(log_dir: Path) -> logging.Handler:
    """The handler of ``log_dir/calsync-desktop.log``; existing log files are
    made private first (an older version wrote them 0644)."""
    path = log_dir / LOG_NAME
    make_private([path, *(path.with_name(f"{LOG_NAME}.{n}") for n in range(1, BACKUPS + 1))])
    handler = PrivateRotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    return handler


__all__ = [
    "FILE_MODE",
    "LOG_NAME",
    "QUIET_LOGGERS",
    "RedactingFormatter",
    "log_file_handler",
    "quiet_libraries",
    "redact",
]
