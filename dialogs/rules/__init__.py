"""Pure policy rules (dates, deadlines, eligibility): no I/O, the clock is always passed in."""
