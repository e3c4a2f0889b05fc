"""Edges: Telegram, terminal chat, JSON-lines replay and the command line."""
