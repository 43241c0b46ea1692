"""Benchmarks: library functions returning plain dicts; the CLI prints them as JSON and a table."""
