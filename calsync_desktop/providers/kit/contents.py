"""An appointment's contents as the services hold them (SPEC §5, Contents).

The Sales Calendar keeps one text, the *contents*; the services keep a subject
and a body. The rule, the same for a whole appointment and for an edited
occurrence on every service:

- the first line is the subject, at most :data:`SUBJECT_MAX` characters; what a
  longer first line has beyond that starts the body, so nothing is dropped;
- the body is the rest; read back, its line ends are ``\\n`` and its blank
  edges are trimmed, and an HTML body is read as plain text
  (:func:`html_to_text`);
- an empty subject stays empty (an occurrence whose subject was cleared is not
  given the series' subject).

HTML is read by a streaming parser into a text buffer, without building a
document tree, so the work and memory grow with the length of the body only
(a description of a million elements is read in seconds, in memory of the
order of its own size; issue 10 #11).
"""

from __future__ import annotations

import io
import re
from functools import lru_cache

SUBJECT_MAX = 255
"""The longest subject calsync writes: Exchange keeps 255 characters of a
subject ("Subject ... cannot exceed 255 characters", EWS Subject element), and
the same limit is used on every service so that one appointment reads the
same everywhere."""

_HTML_RE = re.compile(
    r"<\s*/?\s*(p|br|div|a|b|i|u|ul|ol|li|span|strong|em|html|body|font|table)\b[^>]*>", re.I
)

_BLOCKS = frozenset(
    {
        "p",
        "div",
        "br",
        "li",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "ul",
        "ol",
        "blockquote",
        "pre",
        "section",
        "article",
        "header",
        "footer",
        "hr",
    }
)
_DROPPED = frozenset({"script", "style", "head", "title", "meta", "noscript", "template", "xml"})


# --------------------------------------------------------------------------- subject and body


def split_contents(contents: str) -> tuple[str, str]:
    """Subject (the first line, at most 255 characters) and body (the rest,
    starting with what the first line has beyond 255 characters)."""
    first, _, rest = contents.partition("\n")
    if len(first) > SUBJECT_MAX:
        return first[:SUBJECT_MAX], first[SUBJECT_MAX:] + ("\n" + rest if rest else "")
    return first, rest


def join_contents(subject: str | None, body: str | None, body_is_html: bool = False) -> str:
    """Contents from a subject and a body: the body on the lines after the
    subject when it has any text (HTML read as plain text, line ends ``\\n``)."""
    body = body or ""
    text = html_to_text(body) if body_is_html else normal_text(body)
    subject = subject or ""
    return f"{subject}\n{text}" if text else subject


def normal_text(text: str) -> str:
    """A plain-text body as the Sales Calendar keeps it: ``\\n`` line ends
    (Exchange and Outlook write ``\\r\\n``), blank edges trimmed."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def stored_contents(contents: str) -> str:
    """Contents as a service holds them: split into subject and body, joined again."""
    return join_contents(*split_contents(contents))


def looks_like_html(body: str) -> bool:
    """Whether a body a service marks only as text is HTML (Google's
    description and an iCalendar DESCRIPTION may be either)."""
    return "<" in body and bool(_HTML_RE.search(body))


# --------------------------------------------------------------------------- HTML


class _TextWriter:
    """The plain text of an HTML document, from the parser's events: paragraphs
    and line breaks kept, list items as "- ", links as "text (url)", script,
    style and the head dropped, runs of white space as one space."""

    def __init__(self) -> None:
        self.out = io.StringIO()
        self.last = ""  # the last character written ("" before any)
        self.pending: list[str] = []  # text not yet written (one string between tags)
        self.dropping = 0  # depth inside a dropped element
        self.links: list[tuple[str, list[str]]] = []  # open <a>: (href, its text)

    def _write(self, piece: str) -> None:
        self.out.write(piece)
        self.last = piece[-1]

    def _newline(self) -> None:
        if self.last and self.last != "\n":
            self._write("\n")

    def _flush(self) -> None:
        if not self.pending:
            return
        raw = "".join(self.pending)
        self.pending.clear()
        text = " ".join(raw.split())
        if raw[:1].isspace() and self.last and self.last not in " \n":
            self._write(" ")
        if text:
            self._write(text)
            for _, label in self.links:
                label.append(text)
            if raw[-1:].isspace():
                self._write(" ")

    # lxml's parser target interface
    def start(self, name, attrs, nsmap=None) -> None:
        self._flush()
        if self.dropping:
            self.dropping += 1
            return
        name = name.lower() if isinstance(name, str) else ""
        if name in _DROPPED:
            self.dropping = 1
            return
        if name == "br":
            self._write("\n")
            return
        if name in _BLOCKS:
            self._newline()
        if name == "li":
            self._write("- ")
        if name == "a":
            self.links.append(((attrs.get("href") or "").strip(), []))

    def end(self, name) -> None:
        self._flush()
        if self.dropping:
            self.dropping -= 1
            return
        name = name.lower() if isinstance(name, str) else ""
        if name == "a" and self.links:
            href, words = self.links.pop()
            label = " ".join(words)
            if (
                href
                and not href.lower().startswith(("javascript:", "#"))
                and href != label
                and href[7:] != label
            ):
                self._write(f" ({href})")
        if name in _BLOCKS and name != "br":
            self._newline()
        elif name in {"td", "th"}:
            self._write(" ")

    def data(self, text: str) -> None:
        if not self.dropping:
            self.pending.append(text)

    def comment(self, text: str) -> None:
        self._flush()

    def close(self) -> str:
        self._flush()
        return self.out.getvalue()


@lru_cache(maxsize=8192)  # the same body is read for the snapshot and the appointment
def html_to_text(html: str) -> str:
    """Plain text of an HTML body: paragraphs and line breaks kept, links as
    "text (url)", script and style dropped, entities decoded.

    libxml2's tolerant HTML parser reads broken markup too; its events are
    written out as they come (no tree, no recursion), so neither deep nesting
    nor a body of a million elements costs more than its length.
    """
    if not html.strip():
        return ""
    # loaded on first use: the window's start does not need it
    from lxml import etree

    writer = _TextWriter()
    parser = etree.HTMLParser(target=writer, recover=True, no_network=True, huge_tree=True)
    try:
        parser.feed(html)
        raw = parser.close()
    except etree.Error:
        raw = writer.close()
    lines = [" ".join(line.split()) for line in raw.split("\n")]
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()
