"""What can go wrong talking to the Management API: one line each, carrying its data.

No message holds the token, nor a header or a request that carried it; commands/ adds
what to type, ui/ what to press."""

from __future__ import annotations

from supalink.errors import SupalinkError, UsageError


class ApiError(SupalinkError):
    """The Management API could not give what was asked; nothing was saved."""


class ApiUrlRefused(UsageError):
    """SUPALINK_SUPABASE_API names a base URL the token must not be sent to."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"SUPALINK_SUPABASE_API={url!r} is refused: {reason}")
        self.url = url
        self.reason = reason


class NotSignedIn(ApiError):
    def __init__(self, store: str) -> None:
        super().__init__(f"not signed in to Supabase: no access token in {store}")
        self.store = store


class TokenRejected(ApiError):
    def __init__(self) -> None:
        super().__init__(
            "Supabase rejected the access token (401): it is wrong, expired or revoked"
        )


class MissingPermissions(ApiError):
    def __init__(self, what: str, permissions: tuple[str, ...], message: str | None) -> None:
        named = ", ".join(permissions) if permissions else None
        lacks = f"lacks {named}" if named else f"lacks a permission ({message or 'no detail'})"
        super().__init__(f"the access token may not read {what} (403): it {lacks}")
        self.what = what
        self.permissions = permissions


class ProjectNotFound(ApiError):
    def __init__(self, ref: str) -> None:
        super().__init__(f"no project {ref!r} among those the access token can see")
        self.ref = ref


class ProjectNotReady(ApiError):
    """The project is paused, coming up, failed or otherwise not ACTIVE_HEALTHY."""

    def __init__(self, ref: str, name: str, status: str) -> None:
        state = "paused" if status in PAUSED else "not healthy"
        super().__init__(
            f"project {name!r} ({ref}) is {state} (status {status}): "
            "restore or wait for it in the Supabase dashboard, then try again"
        )
        self.ref = ref
        self.status = status


PAUSED = frozenset(("INACTIVE", "PAUSING", "GOING_DOWN"))


class NoDedicatedPooler(ApiError):
    def __init__(self, ref: str) -> None:
        super().__init__(
            f"project {ref!r} has no dedicated pooler (it comes with Micro compute and up)"
        )
        self.ref = ref


class ApiUnreachable(ApiError):
    def __init__(self, url: str, cause: str) -> None:
        super().__init__(f"cannot reach the Supabase Management API at {url}: {cause}")
        self.url = url
        self.cause = cause


class RateLimited(ApiError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"the Supabase Management API is rate limiting this token (429): "
            f"try again in {retry_after} s"
        )
        self.retry_after = retry_after


class UnexpectedAnswer(ApiError):
    """A status or a body the published description does not give."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(f"the Supabase Management API answered {path} unexpectedly: {detail}")
        self.path = path
        self.detail = detail
