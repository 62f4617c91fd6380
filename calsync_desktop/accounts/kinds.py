"""The account kinds: one registry that the wizard, the sync runner and the
command line read.

Adding a calendar service means its provider (``providers/``), its account
module (this package), its test server (``tests/fakes/``) and one
:class:`AccountKind` in :data:`KINDS`. Nothing else names a kind: the wizard
builds its pages from the entry (a browser sign-in, or a form of the entry's
:class:`Field` s), the command line builds ``calsync accounts add KIND`` from
the same fields, and the runner asks the entry whether a kind signs in with a
token.

Every account module has the same surface (the registry imports it only when
it is needed: a module loads its service's client library, which is slow):

``connect_account(services, values, interaction) -> PendingAccount``
    sign in or check the details; ``values`` holds one value per field (by
    its name; absent ones are None), ``interaction`` how to reach the person.
    Nothing is saved: the caller saves the pending account after the person
    confirmed the options.
``open_provider(account, services) -> CalendarProvider``
    the provider of a saved account, its secrets read from ``services.secrets``.
``suggest_kind(values) -> Suggestion | None`` (kinds that connect with a form)
    another kind these details belong to, for the wizard to offer while the
    person types (an Office 365 address entered as an Exchange server).
``calendar_exists(account, services) -> bool`` (``process_local`` kinds)
    whether this process holds the account's calendar.
"""

from __future__ import annotations

import importlib
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from types import ModuleType
from typing import Any


class Connect(StrEnum):
    """How a kind connects: the wizard shows the page of that name."""

    SIGN_IN = "sign-in"
    """In the browser (OAuth): a button, then the account signed in with."""
    DETAILS = "details"
    """With details the person enters (server, user name, password), checked
    against the server before anything is saved."""


@dataclass(frozen=True)
class Field:
    """One value a kind connects with: a row of the wizard's form (``on_form``)
    and an option of ``calsync accounts add KIND`` (``--name-with-dashes``)."""

    name: str
    """The key in ``connect_account``'s values; the option is ``--`` + name with dashes."""
    label: str
    """The form's label."""
    help: str
    """The option's help."""
    accessible: str = ""
    """What a screen reader calls the form's field (default: the label)."""
    required: bool = False
    secret: bool = False
    """A password: never echoed; the command line reads it with --password-stdin
    or asks for it."""
    flag: bool = False
    """A yes/no option (command line only)."""
    placeholder: str = ""
    example: str = ""
    """A line under the form's field."""
    default: str | None = None
    metavar: str | None = None
    on_form: bool = True
    """False: the wizard gets this value its own way, or never. A field named
    ``ca_bundle`` is the CA bundle file the wizard offers to choose when the
    server's certificate is not trusted."""

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class Preset:
    """A well-known service of a kind: the wizard offers it in a list that fills
    the form (``values`` by field name) and shows its ``advice``."""

    label: str
    values: dict[str, str]
    advice: str = ""


@dataclass(frozen=True)
class Suggestion:
    """Details that belong to another kind: the kind, and the sentence saying so."""

    kind: str
    message: str


@dataclass(frozen=True)
class AccountKind:
    """One calendar service calsync connects to, as every part of the app sees it."""

    kind: str
    """The name stored with the account and typed on the command line."""
    label: str
    module: str
    """The account module (see this module's docstring for its surface)."""
    connect: Connect
    detail: str = ""
    """One line under the label on the wizard's first page."""
    explanation: str = ""
    """What the wizard's connect page says first."""
    connect_label: str = ""
    """The wizard's connect button."""
    waiting: str = "Waiting for the sign-in in your browser…"
    """What the wizard says while it connects."""
    not_the_service: str = "The address answers, but it is not a calendar service."
    """What the wizard says when the address answers as something else."""
    fields: tuple[Field, ...] = ()
    presets: tuple[Preset, ...] = ()
    """Well-known services of this kind the wizard offers to fill the form for."""
    bad_credentials: str = (
        "Failed to validate access to the server with your credentials, please review your details"
    )
    """What the wizard says when the server refuses the details (default: the
    help article's words)."""
    remote_version: str = "The calendar's version"
    """How the conflict log names the service's side of a conflict."""
    client_library: str = ""
    """The package it talks to its service through (named in the diagnostic report)."""
    signs_in_with_token: bool = False
    """It keeps a sign-in token (refresh token) rather than a password."""
    offered: bool = True
    """False: a test kind, shown only when asked for (and not advertised)."""
    process_local: bool = False
    """Its calendar lives only inside the process that made it."""

    def form_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.on_form)


EWS_EXAMPLE = "https://outlook.office365.com/EWS/Exchange.asmx"
CALDAV_BAD_CREDENTIALS = (
    "The server refused the username or password. iCloud and Fastmail need an "
    "app-specific password, not your account password; so does Nextcloud when you "
    "sign in with two-factor authentication."
)
CALDAV_BAD_CREDENTIALS_FIX = (
    "Make an app password on your service's website (iCloud: account.apple.com › "
    "Sign-In and Security › App-Specific Passwords; Fastmail: Settings › Privacy & "
    "Security › Manage app passwords; Nextcloud: Settings › Security) and enter it "
    "with your username."
)
CALDAV_PRESETS = (
    Preset(
        "iCloud",
        {"url": "https://caldav.icloud.com/"},
        "Username: your Apple Account email. Password: an app-specific password made at "
        "account.apple.com › Sign-In and Security › App-Specific Passwords (your Apple "
        "Account password is refused).",
    ),
    Preset(
        "Fastmail",
        {"url": "https://caldav.fastmail.com/"},
        "Username: your Fastmail address. Password: an app password made under Settings › "
        "Privacy & Security › Manage app passwords, with CalDAV access.",
    ),
    Preset(
        "Nextcloud",
        {"url": "https://cloud.example.com/remote.php/dav/"},
        "Replace cloud.example.com with your Nextcloud's address. Password: an app password "
        "made under Settings › Security › Devices & sessions.",
    ),
    Preset("Another CalDAV server", {}, "Ask your provider for its CalDAV address."),
)

KINDS: dict[str, AccountKind] = {
    k.kind: k
    for k in (
        AccountKind(
            "google",
            "Google Calendar",
            "calsync_desktop.accounts.google",
            Connect.SIGN_IN,
            detail="Google Workspace or Gmail",
            explanation="Your browser opens Google's sign-in page. Pick the account to sync "
            "(or add another one), then allow access to your calendar.",
            connect_label="Sign in with Google",
            signs_in_with_token=True,
            remote_version="Google's version",
            client_library="google-api-python-client",
            fields=(
                Field(
                    "client_secrets",
                    "Client secrets",
                    "Google OAuth client-secrets file "
                    "(default: Settings › Advanced, or the bundled one)",
                    metavar="FILE",
                    on_form=False,
                ),
                Field(
                    "no_browser",
                    "No browser",
                    "do not open a browser; print the sign-in address to open by hand",
                    flag=True,
                    on_form=False,
                ),
            ),
        ),
        AccountKind(
            "office365",
            "Office 365",
            "calsync_desktop.accounts.office365",
            Connect.SIGN_IN,
            detail="Microsoft 365, Outlook on the web",
            explanation="Office 365 no longer accepts passwords for calendar sync, so you sign "
            "in with your Microsoft account in the browser.",
            connect_label="Sign in with Microsoft",
            signs_in_with_token=True,
            remote_version="Outlook's version",
            client_library="msal",
            fields=(
                Field(
                    "device_code",
                    "Device code",
                    "sign in on another device with a code (for machines without a browser)",
                    flag=True,
                    on_form=False,
                ),
            ),
        ),
        AccountKind(
            "exchange",
            "Exchange Server",
            "calsync_desktop.accounts.exchange",
            Connect.DETAILS,
            detail="Your company's own Exchange server",
            explanation="Enter your username and password, and the server URL. If you don't "
            "know the URL, ask your IT contact.",
            connect_label="Save Account Settings",
            waiting="Connecting to the server…",
            not_the_service="The address answers, but it is not an Exchange Web Services "
            "endpoint. It usually ends in /EWS/Exchange.asmx.",
            remote_version="Outlook's version",
            client_library="exchangelib",
            fields=(
                Field(
                    "username",
                    "Username",
                    "user name (DOMAIN\\user or email)",
                    required=True,
                    placeholder="name@company.com or DOMAIN\\name",
                ),
                Field(
                    "password",
                    "Password",
                    "read the password from standard input (otherwise it is asked for)",
                    secret=True,
                ),
                Field(
                    "server_url",
                    "Server URL",
                    "the EWS address, …/EWS/Exchange.asmx",
                    required=True,
                    placeholder=EWS_EXAMPLE,
                    example=f"For example {EWS_EXAMPLE}. That one is Office 365's address, "
                    "which needs “Sign in with Microsoft”: for it, choose Office 365 instead. For "
                    "your company's own server, ask IT for the address.",
                ),
                Field(
                    "email",
                    "Email (optional)",
                    "email address, if not the user name",
                    accessible="Email address",
                    placeholder="only if it differs from the username",
                ),
                Field(
                    "ca_bundle",
                    "CA bundle",
                    "CA bundle file to trust the server with",
                    metavar="FILE",
                    on_form=False,  # the wizard offers a file chooser when the certificate fails
                ),
            ),
        ),
        AccountKind(
            "caldav",
            "Other (CalDAV)",
            "calsync_desktop.accounts.caldav",
            Connect.DETAILS,
            detail="iCloud, Fastmail, Nextcloud or any CalDAV server",
            explanation="Enter your server's address, your username and an app password. "
            "Choose your service below to fill in its address.",
            connect_label="Save Account Settings",
            waiting="Connecting to the server…",
            not_the_service="The address answers, but it is not a CalDAV server. Check the "
            "address (your provider's help names its CalDAV address).",
            bad_credentials=CALDAV_BAD_CREDENTIALS,
            presets=CALDAV_PRESETS,
            remote_version="The server's version",
            client_library="caldav",
            fields=(
                Field(
                    "url",
                    "Server URL",
                    "the CalDAV address (https://…; a host name alone is taken as https)",
                    required=True,
                    placeholder="https://caldav.example.com/",
                    metavar="URL",
                ),
                Field(
                    "username",
                    "Username",
                    "user name (often the email address)",
                    required=True,
                    placeholder="name@example.com",
                    metavar="NAME",
                ),
                Field(
                    "password",
                    "App password",
                    "read the password from standard input (otherwise it is asked for)",
                    accessible="App password",
                    secret=True,
                ),
                Field(
                    "ca_bundle",
                    "CA bundle",
                    "CA bundle file to trust the server with",
                    metavar="FILE",
                    on_form=False,  # the wizard offers a file chooser when the certificate fails
                ),
            ),
        ),
        AccountKind(
            "memory",
            "Local test calendar",
            "calsync_desktop.accounts.memory",
            Connect.SIGN_IN,
            detail="Try Calendar Sync without connecting a real calendar",
            explanation="A calendar that lives in this app only: for trying Calendar Sync out.",
            connect_label="Connect the test calendar",
            waiting="Connecting…",
            offered=False,
            process_local=True,
            fields=(
                Field(
                    "email",
                    "Address",
                    "the test calendar's address",
                    accessible="Test calendar address",
                    default="me@example.com",
                ),
            ),
        ),
    )
}
"""Every kind, in the order the wizard and ``calsync accounts add`` offer them."""


def kind_module(kind: str) -> ModuleType:
    """The module that connects accounts of ``kind``."""
    try:
        return importlib.import_module(KINDS[kind].module)
    except KeyError as exc:
        raise ValueError(f"Unknown account kind {kind!r}.") from exc


def kind_label(kind: str) -> str:
    """A kind as a person reads it; an unknown one (a newer version's) by its name."""
    return KINDS[kind].label if kind in KINDS else kind


def offered_kinds() -> list[str]:
    return [k for k, entry in KINDS.items() if entry.offered]


OpenBrowser = Callable[[str], Any]


@dataclass(frozen=True)
class Interaction:
    """How a sign-in reaches the person, given by the window or the command line.

    ``open_browser(url)`` shows a sign-in page (None: the system browser);
    ``show(message)`` tells the person something to do (a device code, the
    browser having been opened).
    """

    open_browser: OpenBrowser | None = None
    show: Callable[[str], None] | None = None
    console: bool = False
    """The person reads this process's standard output (the command line): a
    sign-in may print the address to open there."""

    def tell(self, message: str) -> None:
        if self.show is not None:
            self.show(message)


def system_browser_available() -> bool:
    """Whether a system browser can be opened here."""
    try:
        webbrowser.get()
    except webbrowser.Error:
        return False
    return True
