"""The WeChat Official Account (公众号) edge: `yibao wechat`, a webhook server on the engine.

One module per job: `crypto` (signatures, the AES envelope), `xml` (parse and build the
message XML), `render` (one text per turn: numbered choices, the 2048-byte cut), `server`
(the aiohttp app: verification, messages, events, resends), `customer_service` (late
replies and the menu push through WeChat's API), `menu` (the custom menu from the menus
data), `settings` and `cli`. The engine knows nothing of WeChat: chats are `wx:<openid>`.
"""
