"""The message XML: parsed with defusedxml, built with CDATA.

WeChat posts a flat `<xml>` element of fields (ToUserName, FromUserName, CreateTime,
MsgType, Content, MsgId, Event, EventKey, Encrypt …). The body comes from the network, so it
is parsed with `defusedxml`, which refuses DTDs, entity declarations and external references
(billion laughs, XXE) instead of expanding them. Replies put every string in CDATA (as
WeChat's own samples do), splitting a "]]>" inside the text so it cannot close the section.
"""

from __future__ import annotations

from collections.abc import Mapping

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

MAX_FIELDS = 64  # a WeChat message has about a dozen


class XmlError(ValueError):
    """A body that is not a WeChat message."""


def parse(body: bytes) -> dict[str, str]:
    """The fields of a message; XmlError for anything WeChat would not send."""
    try:
        root = ElementTree.fromstring(body, forbid_dtd=True)
    except (DefusedXmlException, ElementTree.ParseError, ValueError) as exc:
        raise XmlError(type(exc).__name__) from None
    if root.tag != "xml" or len(root) > MAX_FIELDS:
        raise XmlError("not a message")
    return {child.tag: (child.text or "") for child in root}


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
