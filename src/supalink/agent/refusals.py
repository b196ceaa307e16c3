"""What the guard says when it refuses a statement: one reason per rule, so that a refusal
names the rule that made it (the audit and the agent both read it)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from supalink.errors import SupalinkError


class Refusal(StrEnum):
    EMPTY = "there is no statement in the text"
    SEVERAL = "one statement per call: the text holds several; send them one call at a time"
    UNTERMINATED = "the text ends inside a quote or a comment"
    UNBALANCED = "the parentheses do not balance (outside strings, quoted names and comments)"
    TRANSACTION = "transaction control is the server's: each call runs in a transaction of its own"
    SESSION = (
        "session settings and roles are the server's: each call starts from the same "
        "settings (qualify names with their schema instead of setting search_path)"
    )
    PREPARED = "prepared statements are the server's: send the statement itself, with params"
    COPY = "COPY is refused: select the rows instead"
    PROCEDURAL = "DO and CALL are refused: they run code outside the call's checks"
    LISTEN = "LISTEN and NOTIFY are refused here: use the notifications tool to listen"
    LOCK = "explicit locks are refused: a statement takes the locks it needs"
    KIND = "only a plain query runs here: SELECT, WITH … SELECT, VALUES, TABLE, SHOW or EXPLAIN"
    KIND_OR_WRITE = (
        "only a plain query or write runs here: SELECT, WITH …, VALUES, TABLE, SHOW, EXPLAIN, "
        "INSERT, UPDATE, DELETE or MERGE"
    )
    WITH = (
        "WITH must end in its own SELECT, VALUES, TABLE, INSERT, UPDATE, DELETE or MERGE, "
        "outside parentheses"
    )
    READ_ONLY = "this server is read-only: it runs no INSERT, UPDATE, DELETE or MERGE"
    SELECT_INTO = "SELECT … INTO creates a table: select the rows without INTO"
    EXPLAIN_ANALYZE = "EXPLAIN ANALYZE runs the statement: ask for the plan without ANALYZE"
    EXPLAINABLE = "EXPLAIN takes a query or a write: SELECT, WITH, VALUES, TABLE, INSERT, …"
    EXPLAIN = "give explain the statement itself; it never runs ANALYZE"
    UESCAPE = "a quoted name's UESCAPE must be a plain one-character string, e.g. UESCAPE '!'"
    SIDE_EFFECT = "its effect outlives the call's transaction"
    DEFINER = (
        "it runs with its owner's rights (SECURITY DEFINER), where no check of this "
        "statement can follow it"
    )
    LOGIN_READ_ONLY = (
        "this login can do more than an agent needs, so the server runs no INSERT, UPDATE, "
        "DELETE or MERGE for it (the server's log says what it can do)"
    )


# Not frozen: whatever re-raises an exception (a context manager does) sets its traceback.
@dataclass(eq=False)
class StatementRefused(SupalinkError):
    refusal: Refusal
    keyword: str = ""
    why: str = ""  # said instead of the refusal's own text (a side effect's reason)

    def __str__(self) -> str:
        reason = self.why or self.refusal
        if self.keyword:
            return f"refused ({self.keyword}): {reason}"
        return f"refused: {reason}"
