"""Benchmarks for sitegen: `make bench` runs them all and prints a Markdown table."""
