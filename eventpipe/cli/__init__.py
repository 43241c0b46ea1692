"""Typer command-line interface: parses, builds a config, calls one library function."""
