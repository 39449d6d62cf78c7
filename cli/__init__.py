"""`ppcopt`: the command-line door onto the same use cases the API and the jobs call."""

from cli.main import app, main

__all__ = ["app", "main"]
