"""The account's custom menu (自定义菜单), built from the main menu in menus.yaml.

WeChat allows three top-level buttons (names up to 16 bytes, i.e. five 汉字) with up to
five sub-buttons each (60 bytes). The main menu's guided flows become top-level CLICK
buttons with short names from ui_wechat.yaml (`wx_menu_<flow>`); its other buttons, plus
help, go under a third one (`wx_menu_more`). Each CLICK button's key is the engine's own
callback (`f:tianjin`, `m:suzhou` …), so a click is handled exactly like a pressed button.
"""

from __future__ import annotations

from typing import Any

from dialogs import callbacks as cb
from knowledge.loader import KnowledgeBase

MAX_TOP = 3
MAX_SUB = 5
TOP_BYTES = 16
SUB_BYTES = 60
KEY_BYTES = 128
HELP_KEY = "h:help"  # a click on 使用帮助 (the engine's help is a typed word, not a callback)


def _callback(action: str) -> str:
    return cb.from_action(action)


def _button(name: str, key: str, limit: int) -> dict[str, str]:
    if len(name.encode()) > limit or len(key.encode()) > KEY_BYTES:
        raise ValueError(f"menu button {name!r} is too long for WeChat ({limit} bytes)")
    return {"type": "click", "name": name, "key": key}


def menu_json(kb: KnowledgeBase) -> dict[str, Any]:
    """The body of WeChat's menu/create call."""
    top: list[dict[str, Any]] = []
    sub: list[dict[str, Any]] = []
    for row in kb.menus["main"].buttons:
        for b in row:
            kind, _, target = b.action.partition(":")
            short = kb.ui.get(f"wx_menu_{target}")
            if kind == "flow" and short and len(top) < MAX_TOP - 1:
                top.append(_button(short, _callback(b.action), TOP_BYTES))
            else:
                sub.append(_button(b.label, _callback(b.action), SUB_BYTES))
    sub = [*sub[: MAX_SUB - 1], _button(kb.text("wx_menu_help"), HELP_KEY, SUB_BYTES)]
    name = kb.text("wx_menu_more")
    if len(name.encode()) > TOP_BYTES:
        raise ValueError("the menu's third button name is too long for WeChat")
    return {"button": [*top, {"name": name, "sub_button": sub}]}
