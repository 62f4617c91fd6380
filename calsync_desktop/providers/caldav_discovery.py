"""Finding a CalDAV account's calendars, for
:class:`calsync_desktop.providers.caldav.CalDAVProvider` (RFC 6764 §5,
RFC 5397, RFC 4791 §6.2.1): the URL given, or the host's ``/.well-known/caldav``,
names the current user's principal; the principal names its calendar home set
and addresses; the home set lists the calendars. A saved account keeps its
calendar's URL and skips all of it."""

from __future__ import annotations

import posixpath
from urllib.parse import urljoin

from calsync_desktop.providers.base import (
    BadCredentials,
    CalendarInfo,
    MalformedResponse,
    NeedsSignIn,
    NotACalendarService,
    ProviderError,
)
from calsync_desktop.providers.caldav_wire import CALDAV, DAV, NS, propfind_body, tag


class Discovery:
    """The discovery half of the provider: it needs the provider's ``connection``,
    ``_dav``, ``_call``, ``_client`` and ``_absolute``, and keeps what it found in
    ``_email``, ``_calendars`` and ``_calendar_url``."""

    def _principal(self) -> tuple[str, list[str]]:
        """The current user's principal and its calendar home sets (RFC 6764 §6)."""
        body = propfind_body("<d:current-user-principal/>")
        try:
            entries, _ = self._dav("PROPFIND", self.connection.url, body)
        except NeedsSignIn:
            raise
        except ProviderError as exc:
            if exc.transient and not isinstance(exc, MalformedResponse):
                raise
            entries = []  # not the DAV root (a web page, a forbidden path): ask the host
        principal = next(
            (e.hrefs(tag(DAV, "current-user-principal")) for e in entries if e.props), []
        )
        if not principal or not principal[0]:
            well_known = self._well_known()
            entries, _ = self._dav("PROPFIND", well_known, body)
            principal = next(
                (e.hrefs(tag(DAV, "current-user-principal")) for e in entries if e.props), []
            )
        if not principal or not principal[0]:
            raise NotACalendarService("The address answers, but it is not a CalDAV server.")
        principal_url = self._absolute(principal[0])
        entries, _ = self._dav(
            "PROPFIND",
            principal_url,
            propfind_body("<c:calendar-home-set/>", "<c:calendar-user-address-set/>"),
        )
        homes: list[str] = []
        for entry in entries:
            homes += [self._absolute(h) for h in entry.hrefs(tag(CALDAV, "calendar-home-set"))]
            for address in entry.hrefs(tag(CALDAV, "calendar-user-address-set")):
                if address.lower().startswith("mailto:") and not self._email:
                    self._email = address[7:]
        if not homes:
            raise NotACalendarService("The server names no calendars for this account.")
        return principal_url, homes

    def _well_known(self) -> str:
        """Where ``/.well-known/caldav`` on the host leads (RFC 6764 §5): its redirect
        is followed here, so that the PROPFIND is not turned into a GET."""
        target = urljoin(self.connection.url, "/.well-known/caldav")
        client = self._client()

        def probe():
            response = client.session.request(
                "PROPFIND",
                target,
                data=propfind_body("<d:current-user-principal/>"),
                headers={"Depth": "0", "Content-Type": "application/xml"},
                auth=client.auth,
                timeout=self.connection.timeout,
                verify=self.connection.ca_bundle or True,
                allow_redirects=False,
            )
            if response.status_code in (301, 302, 303, 307, 308):
                return urljoin(target, response.headers.get("Location", "/"))
            if response.status_code == 401 and client.auth is None:
                client.build_auth_object()
                return None
            return target

        found = self._call(probe)
        return found if found is not None else self._call(probe) or target

    def list_calendars(self) -> list[CalendarInfo]:
        if self._calendars is not None:
            return self._calendars
        _principal, homes = self._principal()
        calendars: list[CalendarInfo] = []
        for home in homes:
            entries, _ = self._dav(
                "PROPFIND",
                home,
                propfind_body(
                    "<d:resourcetype/>",
                    "<d:displayname/>",
                    "<c:supported-calendar-component-set/>",
                    "<d:current-user-privilege-set/>",
                ),
                depth=1,
            )
            for entry in entries:
                kind = entry.props.get(tag(DAV, "resourcetype"))
                if kind is None or kind.find("c:calendar", NS) is None:
                    continue
                comps = entry.props.get(tag(CALDAV, "supported-calendar-component-set"))
                if (
                    comps is not None
                    and len(comps)
                    and not any(c.get("name", "").upper() == "VEVENT" for c in comps)
                ):
                    continue  # a task list
                privileges = entry.props.get(tag(DAV, "current-user-privilege-set"))
                can_write = privileges is None or any(
                    p.find("d:write", NS) is not None or p.find("d:all", NS) is not None
                    for p in privileges.findall("d:privilege", NS)
                )
                name = entry.text(tag(DAV, "displayname")) or posixpath.basename(
                    entry.href.rstrip("/")
                )
                calendars.append(CalendarInfo(self._absolute(entry.href), name, False, can_write))
        if not calendars:
            raise NotACalendarService("The server has no calendar for events on this account.")
        first = next((c for c in calendars if c.can_write), calendars[0])
        self._calendars = [CalendarInfo(c.id, c.name, c is first, c.can_write) for c in calendars]
        return self._calendars

    def calendar_url(self) -> str:
        if not self._calendar_url:
            self._calendar_url = next(c.id for c in self.list_calendars() if c.primary)
        return self._calendar_url

    def account_email(self) -> str:
        if not self._email and "@" not in self.connection.username:
            try:
                self._principal()
            except NotACalendarService:
                pass
        return self._email or self.connection.username

    def check_access(self) -> list[CalendarInfo]:
        """Sign in and list the calendars (what adding an account checks)."""
        try:
            return self.list_calendars()
        except NeedsSignIn as exc:
            raise BadCredentials(str(exc)) from None
