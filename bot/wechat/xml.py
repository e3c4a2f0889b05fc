"""The message XML: parsed with expat (no tree, no DTD), built as a string with CDATA.

WeChat posts a flat `<xml>` element of fields (ToUserName, FromUserName, CreateTime,
MsgType, Content, MsgId, Event, EventKey, Encrypt …). The body comes from the network, so
the parser refuses what defusedxml refuses — a DOCTYPE (hence any entity declaration:
billion laughs, XXE) and external references — and expat itself rejects an undeclared
entity. It reads the fields straight from expat's callbacks instead of building an
ElementTree (a third of the time per message, which is parsed twice in safe mode). Text of
elements nested inside a field (a few events have them) is ignored, as before. Replies put
every string in CDATA (as WeChat's own samples do), splitting a "]]>" inside the text so it
cannot close the section.
"""

from __future__ import annotations

from collections.abc import Mapping
from xml.parsers import expat

MAX_FIELDS = 64  # a WeChat message has about a dozen


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


def build(fields: Mapping[str, str | int]) -> str:
    """`<xml>` with one element per field: strings in CDATA, integers as they are."""
    inner = "".join(
        f"<{name}>{value}</{name}>"
        if isinstance(value, int)
        else f"<{name}>{cdata(value)}</{name}>"
        for name, value in fields.items()
    )
    return f"<xml>{inner}</xml>"


def text_reply(to_user: str, from_user: str, content: str, now: int) -> str:
    """A passive text reply (被动回复 文本消息)."""
    return build(
        {
            "ToUserName": to_user,
            "FromUserName": from_user,
            "CreateTime": now,
            "MsgType": "text",
            "Content": content,
        }
    )


def encrypted_reply(encrypted: str, msg_signature: str, timestamp: int, nonce: str) -> str:
    """The envelope of a reply in safe mode."""
    return build(
        {
            "Encrypt": encrypted,
            "MsgSignature": msg_signature,
            "TimeStamp": timestamp,
            "Nonce": nonce,
        }
    )
