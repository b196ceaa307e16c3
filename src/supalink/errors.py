"""Errors whose message is meant for the person at the keyboard."""

from __future__ import annotations


class SupalinkError(Exception):
    """A failure to report as one clear line; the CLI exits 1."""


class UsageError(SupalinkError):
    """Bad input from the user; the CLI exits 2."""
