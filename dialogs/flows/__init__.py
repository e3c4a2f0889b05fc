"""Guided flows (transitions state machines), registered by name."""
