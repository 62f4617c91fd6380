"""The contents rule, once for every service (calsync_desktop/providers/kit/contents.py).

The providers' occurrence paths and the engine's mapping call these functions;
the end-to-end contract (tests/sync/e2e_contract.py) checks that each service's
edited occurrences follow them through the real client library.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from calsync_desktop.providers.kit.contents import (
    SUBJECT_MAX,
    html_to_text,
    join_contents,
    looks_like_html,
    normal_text,
    split_contents,
    stored_contents,
)

LONG = "x" * 300

SPLITS = [
    # contents, subject, body
    ("Title", "Title", ""),
    ("Title\nBody\nmore", "Title", "Body\nmore"),
    ("", "", ""),
    ("\nOnly a body", "", "Only a body"),
    ("x" * SUBJECT_MAX + "\nrest", "x" * SUBJECT_MAX, "rest"),
    (LONG, "x" * 255, "x" * 45),
    (LONG + "\nrest", "x" * 255, "x" * 45 + "\nrest"),
    ("Title\n\n\nafter blank lines", "Title", "\n\nafter blank lines"),
]


@pytest.mark.parametrize(("contents", "subject", "body"), SPLITS)
def test_the_first_line_is_the_subject_up_to_255_characters_and_the_rest_starts_the_body(
    contents, subject, body
):
    assert split_contents(contents) == (subject, body)
    assert len(subject) <= SUBJECT_MAX


JOINS = [
    # subject, body, body is HTML, contents
    ("Title", "", False, "Title"),
    ("Title", "Body", False, "Title\nBody"),
    ("Title", "  \n\n", False, "Title"),
    ("Title", "\nBody\n\n", False, "Title\nBody"),
    ("Title", "Line one\r\nLine two\r\n", False, "Title\nLine one\nLine two"),
    ("Title", "Line one\rLine two", False, "Title\nLine one\nLine two"),
    ("", "Agenda to follow", False, "\nAgenda to follow"),
    (None, None, False, ""),
    ("", "", False, ""),
    ("Web", "<p>Hello<br>there</p>", True, "Web\nHello\nthere"),
    ("Web", "<p>  </p>", True, "Web"),
]


@pytest.mark.parametrize(("subject", "body", "html", "contents"), JOINS)
def test_contents_are_the_subject_then_the_body_as_plain_text(subject, body, html, contents):
    assert join_contents(subject, body, html) == contents


@pytest.mark.parametrize(
    ("contents", "stored"),
    [
        ("Quarterly review\nLine one\n\nLine three", "Quarterly review\nLine one\n\nLine three"),
        (LONG + "\nbody", "x" * 255 + "\n" + "x" * 45 + "\nbody"),
        ("Title\nbody\n\n", "Title\nbody"),
        ("", ""),
    ],
)
def test_stored_contents_are_split_and_joined_again_and_stable(contents, stored):
    assert stored_contents(contents) == stored
    assert stored_contents(stored) == stored


def test_subject_is_at_most_255_characters():
    subject, body = split_contents("x" * 300 + "\nrest")
    assert len(subject) == 255 and body == "x" * 45 + "\nrest"
    assert split_contents("Title\nBody\nmore") == ("Title", "Body\nmore")
    assert join_contents("Title", "") == "Title"


@pytest.mark.parametrize(
    ("text", "normal"),
    [("a\r\nb", "a\nb"), ("a\rb", "a\nb"), ("\n a \n", "a"), ("a\n\n\nb", "a\n\n\nb")],
)
def test_plain_text_bodies_have_plain_line_ends_and_no_blank_edges(text, normal):
    assert normal_text(text) == normal


@pytest.mark.parametrize(
    ("body", "html"),
    [
        ("<p>Hello</p>", True),
        ("Hello<br>there", True),
        ("<DIV class='x'>a</DIV>", True),
        ("</b>", True),
        ("<font face=Arial>a</font>", True),
        ("5 < 6 > 4", False),
        ("<not a tag>", False),
        ("plain", False),
        ("", False),
    ],
)
def test_a_text_body_is_html_when_it_has_html_tags(body, html):
    assert looks_like_html(body) is html


HTML = [
    (
        "<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>"
        "<p>Hello&nbsp;&amp; welcome</p><p>See <a href='https://example.com/x'>the deck</a>"
        "<br>Thanks</p><ul><li>one</li><li>two</li></ul></body></html>",
        "Hello & welcome\nSee the deck (https://example.com/x)\nThanks\n- one\n- two",
    ),
    (
        '<p>At <b>Luigi&#39;s</b></p><p><a href="https://luigi.example">menu</a></p>'
        "<script>alert(1)</script>",
        "At Luigi's\nmenu (https://luigi.example)",
    ),
    ("<a href='http://x.example'>x.example</a>", "x.example"),
    ("<a href='#top'>Top</a> <a href='javascript:go()'>Go</a>", "Top Go"),
    ("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc"),
    ("a<!-- hidden -->b", "ab"),
    ("<p>one</p>\n\n\n\n<p>two</p>", "one\ntwo"),
    ("<br><br><br><br>x", "x"),
    ("<p>a</p><br><br><br><p>b</p>", "a\n\nb"),
    ("<h1>Title</h1>text<hr>more", "Title\ntext\nmore"),
    ("  spaced   out  <i> words </i> ", "spaced out words"),
    ("<p>unclosed <b>bold", "unclosed bold"),
    ("<pre>  keep\n  lines</pre>", "keep lines"),
    ("<div>" * 200_000 + "deep" + "</div>" * 200_000, "deep"),
    ("", ""),
]


@pytest.mark.parametrize(("html", "text"), HTML, ids=[str(i) for i in range(len(HTML))])
def test_html_bodies_are_read_as_plain_text(html, text):
    assert html_to_text(html) == text


def test_html_body_becomes_plain_text():
    html = (
        "<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>"
        "<p>Hello&nbsp;&amp; welcome</p><p>See <a href='https://example.com/x'>the deck</a>"
        "<br>Thanks</p><ul><li>one</li><li>two</li></ul></body></html>"
    )
    assert html_to_text(html) == (
        "Hello & welcome\nSee the deck (https://example.com/x)\nThanks\n- one\n- two"
    )


@pytest.mark.parametrize(
    ("odd", "text"),
    [
        ("<p>unclosed <b>bold", "unclosed bold"),
        ("<<<>>>", "<<<>>>"),
        ("<div><table><tr><td>a<td>b</table>", "a b"),
        ("&bogus; &#xZZ;", "&bogus; &#xZZ;"),
        ("<p>" * 5000 + "deep", "deep"),
        ("", ""),
    ],
)
def test_odd_html_converts_to_the_text_it_holds(odd, text):
    assert html_to_text(odd) == text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("one<br>two", "one\ntwo"),
        ("one<br><br>two", "one\n\ntwo"),  # an empty line stays one empty line
        ("one<br><br><br><br>two", "one\n\ntwo"),  # never more than one
        ("text<div>block</div>", "text\nblock"),  # a block starts on a line of its own
        ("<b>bold</b> <i>italic</i>", "bold italic"),  # the space between inline tags
        ("<b>bold</b><i>italic</i>", "bolditalic"),  # and none where there was none
        ("word <b>bold</b>", "word bold"),
        ("<span>a </span>b", "a b"),
        ("<a href='https://example.com'>https://example.com</a>", "https://example.com"),
        ("<!-- hidden --><p>seen</p>", "seen"),
    ],
)
def test_html_line_breaks_and_the_spaces_between_inline_tags_are_kept(html, text):
    assert html_to_text(html) == text


_MILLION = """
import resource, sys
from calsync_desktop.providers.kit.contents import html_to_text
body = "<p><b>x</b> y</p>" * 500_000  # 10^6 elements, 9 MB
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
text = html_to_text(body)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
assert text.count("x y") == 500_000, text[:80]
print((after - before) * 1024)
"""


def test_an_html_body_of_a_million_elements_is_read_in_memory_of_the_order_of_its_size():
    # issue 10 #11: 1.1 GB peak when the body was first built into a document
    # tree; read as a stream, the process grows by less than the body's size
    # (measured in a process of its own: ru_maxrss is a high-water mark)
    done = subprocess.run(
        [sys.executable, "-c", _MILLION], capture_output=True, text=True, check=True
    )
    grown = int(done.stdout.strip())
    assert grown < 9_000_000 * 4, f"grew by {grown / 2**20:.0f} MB"
