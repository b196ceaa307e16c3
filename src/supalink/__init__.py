"""Supalink: connect AI agents to a Supabase Postgres database, safely, and watch it."""

__version__ = "0.1.0"

__all__ = ["__version__"]
