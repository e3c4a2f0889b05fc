"""Telegram's HTML parse mode as a checker built on the standard `html.parser`.

Independent of the fake Bot API's own regex parser on purpose: two implementations of the
same rules catch more than one. Rules (core.telegram.org/bots/api#html-style): only the
listed tags, properly nested and closed; `<span>` only as `class="tg-spoiler"`; `<a>` needs
`href`; `<tg-emoji>` needs `emoji-id`; `<`, `>` and `&` outside markup must be escaped; the
only named entities are `&lt;`, `&gt;`, `&amp;` and `&quot;`; at most 4096 characters
(UTF-16 code units) of text after parsing.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser

MAX_TEXT = 4096
ALLOWED = frozenset(
    ["b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
     "a", "code", "pre", "blockquote", "tg-emoji"]
)  # fmt: skip
NAMED_ENTITIES = frozenset(["lt", "gt", "amp", "quot"])


class TelegramHtmlError(ValueError):
    """The text would be refused by Telegram with "can't parse entities"."""


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED:
            raise TelegramHtmlError(f"unsupported tag <{tag}>")
        names = dict(attrs)
        if tag == "span" and names.get("class") != "tg-spoiler":
            raise TelegramHtmlError("<span> without class=tg-spoiler")
        if tag == "a" and not names.get("href"):
            raise TelegramHtmlError("<a> without href")
        if tag == "tg-emoji" and not names.get("emoji-id"):
            raise TelegramHtmlError("<tg-emoji> without emoji-id")
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise TelegramHtmlError(f"self-closing <{tag}/> is not Telegram HTML")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            raise TelegramHtmlError(f"unbalanced </{tag}> (open: {self.stack})")
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        for bad in "<>&":
            if bad in data:
                raise TelegramHtmlError(f"unescaped {bad!r} in text")
        self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in NAMED_ENTITIES:
            raise TelegramHtmlError(f"unsupported entity &{name};")
        self.text.append(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        try:
            code = int(name[1:], 16) if name[:1] in "xX" else int(name)
        except ValueError:
            raise TelegramHtmlError(f"bad character reference &#{name};") from None
        if not 0 < code <= 0x10FFFF:
            raise TelegramHtmlError(f"character reference out of range &#{name};")
        self.text.append(chr(code))

    def _refuse(self, what: str) -> None:
        raise TelegramHtmlError(f"{what} is not Telegram HTML")

    def handle_comment(self, data: str) -> None:
        self._refuse("a comment")

    def handle_decl(self, decl: str) -> None:
        self._refuse("a declaration")

    def handle_pi(self, data: str) -> None:
        self._refuse("a processing instruction")

    def unknown_decl(self, data: str) -> None:
        self._refuse("a CDATA section")


def telegram_text(markup: str) -> str:
    """The text Telegram shows for `markup` in HTML mode; TelegramHtmlError if it is refused."""
    checker = _Checker()
    checker.feed(markup)
    checker.close()
    if checker.rawdata:  # html.parser keeps an unfinished '<…' or '&…' here
        raise TelegramHtmlError(f"unfinished markup {checker.rawdata[:20]!r}")
    if checker.stack:
        raise TelegramHtmlError(f"unclosed tags {checker.stack}")
    text = "".join(checker.text)
    if not text.strip():
        raise TelegramHtmlError("message text is empty")
    if len(text.encode("utf-16-le", "surrogatepass")) // 2 > MAX_TEXT:
        raise TelegramHtmlError("message is too long")
    return text
