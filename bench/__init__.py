"""Benchmarks (`make bench`). Figures, never assertions: tests hold no timings."""
