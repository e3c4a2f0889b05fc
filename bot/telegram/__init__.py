"""The Telegram edge: PTB application, handlers, HTML rendering, webhook server."""
