"""The flat reader (`bot.wechat.xml._flat`, a regular expression) reads every body it takes
exactly as expat does, and leaves every other body to expat: generated bodies mix WeChat's
shape with what XML makes special (references, CDATA ends, CR, forbidden characters,
comments, declarations, nesting, attributes), and `parse` must give expat's fields or
expat's refusal for each."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.wechat import xml

# Characters XML treats specially, and a few it forbids or rewrites, among plain ones.
TRICKY = ["<", ">", "&", "]", "]]>", "<![CDATA[", "\r", "\r\n", "\n", "\t", " ", "\x00", "\x0b"]
TRICKY += ["\ufffe", "\ufdd0", "\U0001f600", "&amp;", "&#20013;", "&lt;", "<!-- c -->", "<b/>"]
PLAIN = st.sampled_from(["积分", "a b", "1", "\n", "", "oLoad01", "+/=", "'\"", "\U0001f600"])
# Mostly what WeChat sends (so the flat reader's own path is well covered), some of the rest.
TEXT = st.lists(PLAIN | PLAIN | PLAIN | st.sampled_from(TRICKY) | st.text(max_size=3), max_size=5)
NAMES = st.sampled_from(["ToUserName", "Content", "MsgId", "A", "_x"] * 3 + ["a-b", "1a", "xml"])
SPACE = st.sampled_from(["", "", "", " ", "\n", "\t", "\r\n", "  \n"])


@st.composite
def field(draw: st.DrawFn) -> str:
    name = draw(NAMES)
    value = "".join(draw(TEXT))
    form = draw(st.sampled_from(["cdata", "plain"] * 4 + ["mixed", "attr", "empty"]))
    if form == "cdata":
        inner = f"<![CDATA[{value}]]>"
    elif form == "mixed":
        inner = f"{value}<![CDATA[{''.join(draw(TEXT))}]]>"
    elif form == "empty":
        return f"<{name}/>"
    else:
        inner = value
    attrs = ' k="v"' if form == "attr" else ""
    return f"{draw(SPACE)}<{name}{attrs}>{inner}</{name}>"


@st.composite
def wechat_body(draw: st.DrawFn) -> str:
    """WeChat's own shape: the flat reader's path."""
    fields = draw(st.lists(st.tuples(SPACE, NAMES, st.lists(PLAIN, max_size=4), st.booleans())))
    inner = "".join(
        f"{space}<{name}>{'<![CDATA[' if cdata else ''}{''.join(value)}{']]>' if cdata else ''}"
        f"</{name}>"
        for space, name, value, cdata in fields
        if name.isidentifier()
    )
    return f"<xml>{inner}{draw(SPACE)}</xml>{draw(SPACE)}"


@st.composite
def body(draw: st.DrawFn) -> str:
    head = draw(
        st.sampled_from([""] * 6 + ['<?xml version="1.0"?>', "<!DOCTYPE xml>", " ", "\ufeff"])
    )
    root = draw(st.sampled_from(["xml"] * 8 + ["other", "XML"]))
    fields = "".join(draw(st.lists(field(), max_size=8)))
    tail = draw(st.sampled_from([""] * 6 + [" ", "\n", "x", "<!-- c -->", "<xml/>"]))
    return f"{head}<{root}>{fields}{draw(SPACE)}</{root}>{tail}"


def expat_reads(raw: bytes) -> dict[str, str] | str:
    try:
        return xml._expat(raw)
    except xml.XmlError:
        return "refused"


def parse_reads(raw: bytes) -> dict[str, str] | str:
    try:
        return xml.parse(raw)
    except xml.XmlError:
        return "refused"


@settings(max_examples=1500, deadline=None)
@given(wechat_body() | body())
@example("<xml><A><![CDATA[x]]>y]]></A></xml>")
@example("<xml><A><![CDATA[x]]></A><B>a]]>b</B></xml>")
@example("<xml><A>a\rb</A></xml>")
@example("<xml>\r\n<A>x</A>\r\n</xml>\r\n")
def test_the_flat_reader_reads_as_expat_does(doc: str) -> None:
    raw = doc.encode("utf-8", "surrogatepass")
    assert parse_reads(raw) == expat_reads(raw)


def test_wechat_shapes_are_read_without_expat(monkeypatch: pytest.MonkeyPatch) -> None:
    """A message and an envelope as WeChat sends them take the flat reader."""

    def no_expat(_body: object) -> dict[str, str]:
        raise AssertionError("expat used")

    monkeypatch.setattr(xml, "_expat", no_expat)
    message = (
        "<xml><ToUserName><![CDATA[gh_1]]></ToUserName>\n<FromUserName><![CDATA[o1]]>"
        "</FromUserName><CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        "<Content><![CDATA[天津新生儿 <医保> & 更多\n第二行]]></Content><MsgId>1234567890123456"
        "</MsgId></xml>"
    )
    assert xml.parse(message.encode())["Content"] == "天津新生儿 <医保> & 更多\n第二行"
    envelope = (
        "<xml>\n  <ToUserName><![CDATA[gh_1]]></ToUserName>\n"
        "  <Encrypt><![CDATA[a+b/c=]]></Encrypt>\n</xml>\n"
    )
    assert xml.parse(envelope.encode()) == {"ToUserName": "gh_1", "Encrypt": "a+b/c="}


def test_too_many_fields_are_refused_either_way() -> None:
    fields = "".join(f"<F{i}>x</F{i}>" for i in range(xml.MAX_FIELDS))
    assert len(xml.parse(f"<xml>{fields}</xml>".encode())) == xml.MAX_FIELDS
    for extra in ("<G>y</G>", "<F0>y</F0>"):
        with pytest.raises(xml.XmlError):
            xml.parse(f"<xml>{fields}{extra}</xml>".encode())
