"""Dialog engine: state machines and the turn function. Knows nothing of Telegram."""
