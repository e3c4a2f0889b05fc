"""The message XML: read by one regular expression when it has WeChat's flat shape, else by
expat (no tree, no DTD); built as a string with CDATA.

WeChat posts a flat `<xml>` element of fields (ToUserName, FromUserName, CreateTime,
MsgType, Content, MsgId, Event, EventKey, Encrypt …). The body comes from the network, so
the parser refuses what defusedxml refuses — a DOCTYPE (hence any entity declaration:
billion laughs, XXE) and external references — and expat itself rejects an undeclared
entity. It reads the fields straight from expat's callbacks instead of building an
ElementTree (a third of the time per message, which is parsed twice in safe mode). Text of
elements nested inside a field (a few events have them) is ignored, as before.

What WeChat posts (a message, or the safe-mode envelope around one) is `<xml>` and fields
that are each one CDATA section or plain text: `_flat` reads that with a regular expression
in a fifth of expat's time (no parser to build, no callback per element). It takes only
bodies whose fields it reads exactly as expat would: no declaration, DOCTYPE, comment,
attribute, reference (`&...;`), nesting or mixed content, no character XML forbids and no
carriage return (which expat turns into a line feed). Anything else goes to expat, which
refuses what it must; tests/bot/wechat/test_wechat_xml.py holds the two to the same fields.
Replies put every string in CDATA (as WeChat's own samples do), splitting a "]]>" inside
the text so it cannot close the section.
"""

from __future__ import annotations

import re
from xml.parsers import expat

MAX_FIELDS = 64  # a WeChat message has about a dozen
# The flat shape: `<xml>`, then fields each of one CDATA section or of plain text (no markup,
# no reference), whitespace between them. A field holds no "]" (so no "]]>", which ends a
# section and is an error outside one), no CR (expat would turn it into LF), no character
# XML forbids: a body with any of these is expat's to read.
_KEPT = r"[^\]\x00-\x08\x0b-\x1f\ufffe\uffff"
_OPEN = re.compile(r"[ \t\n]*<xml>")
_FIELD = re.compile(
    rf"[ \t\n]*<([A-Za-z_][A-Za-z0-9_]*)>(?:<!\[CDATA\[({_KEPT}]*)\]\]>|({_KEPT}<&]*))</\1>"
)
_CLOSE = re.compile(r"[ \t\n]*</xml>[ \t\n]*")


class XmlError(ValueError):
    """A body that is not a WeChat message."""


class _Fields:
    """expat callbacks collecting the text of `<xml>`'s children."""

    __slots__ = ("depth", "fields", "name", "text")

    def __init__(self) -> None:
        self.depth = 0
        self.fields: dict[str, str] = {}
        self.name = ""
        self.text: list[str] = []

    def start(self, tag: str, _attrs: object) -> None:
        self.depth += 1
        if self.depth == 1:
            if tag != "xml":
                raise XmlError("not a message")
        elif self.depth == 2:
            if len(self.fields) >= MAX_FIELDS:
                raise XmlError("not a message")
            self.name, self.text = tag, []

    def end(self, _tag: str) -> None:
        if self.depth == 2:
            self.fields[self.name] = "".join(self.text)
        self.depth -= 1

    def data(self, text: str) -> None:
        if self.depth == 2:
            self.text.append(text)

    @staticmethod
    def refuse(*_args: object) -> int:
        raise XmlError("DTDs and external entities are not accepted")


def parse(body: bytes | str) -> dict[str, str]:
    """The fields of a message; XmlError for anything WeChat would not send."""
    if isinstance(body, str):
        return _expat(body)
    try:
        fields = _flat(body.decode())  # strict UTF-8, as expat reads it: no lone surrogate
    except UnicodeDecodeError:
        fields = None
    return _expat(body) if fields is None else fields


def _flat(text: str) -> dict[str, str] | None:
    """The fields of a body of the flat shape, as expat reads them; None for any other."""
    opened = _OPEN.match(text)
    if opened is None:
        return None
    fields: dict[str, str] = {}
    pos = opened.end()
    while (field := _FIELD.match(text, pos)) is not None:
        name, section, plain = field.groups()
        if len(fields) >= MAX_FIELDS:
            return None
        fields[name] = plain if section is None else section
        pos = field.end()
    return fields if _CLOSE.fullmatch(text, pos) else None


def _expat(body: bytes | str) -> dict[str, str]:
    into = _Fields()
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler = into.start
    parser.EndElementHandler = into.end
    parser.CharacterDataHandler = into.data
    parser.StartDoctypeDeclHandler = into.refuse
    parser.EntityDeclHandler = into.refuse
    parser.ExternalEntityRefHandler = into.refuse
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        raise XmlError(expat.ErrorString(exc.code)) from None
    if into.depth:
        raise XmlError("not a message")
    return into.fields


def cdata(text: str) -> str:
    """`text` as one or more CDATA sections (a "]]>" inside is split across two)."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(to_user: str, from_user: str, content: str, now: int) -> str:
    """A passive text reply (被动回复 文本消息): strings in CDATA, the time as it is. A
    template rather than a loop over fields: built on every message."""
    return (
        f"<xml><ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName><CreateTime>{now}</CreateTime>"
        f"<MsgType><![CDATA[text]]></MsgType><Content>{cdata(content)}</Content></xml>"
    )


def encrypted_reply(encrypted: str, msg_signature: str, timestamp: int, nonce: str) -> str:
    """The envelope of a reply in safe mode."""
    return (
        f"<xml><Encrypt>{cdata(encrypted)}</Encrypt>"
        f"<MsgSignature>{cdata(msg_signature)}</MsgSignature>"
        f"<TimeStamp>{timestamp}</TimeStamp><Nonce>{cdata(nonce)}</Nonce></xml>"
    )
