"""What can go wrong talking to the Management API: one class each, carrying its data; the
sentences are in sentences.py.

No message holds the token, nor a header or a request that carried it; commands/ adds
what to type, ui/ what to press."""

from __future__ import annotations

from supalink import sentences
from supalink.errors import BadInput, SupalinkError


class ApiError(SupalinkError):
    """The Management API could not give what was asked; nothing was saved."""


class ApiUrlRefused(BadInput):
    """SUPALINK_SUPABASE_API names a base URL the token must not be sent to."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(sentences.api_url_refused(url, reason))
        self.url = url
        self.reason = reason


class InvalidRef(BadInput):
    """A project ref that cannot be one: refused before it goes into a request's path."""

    def __init__(self, ref: str, reason: str) -> None:
        super().__init__(sentences.invalid_ref(ref, reason))
        self.ref = ref
        self.reason = reason


class InvalidToken(BadInput):
    """What cannot be a personal access token (it goes in an HTTP header), never saved; its
    message is token_problem's, which a window shows beside its field."""


class NotSignedIn(ApiError):
    def __init__(self, store: str) -> None:
        super().__init__(sentences.not_signed_in(store))
        self.store = store


class TokenRejected(ApiError):
    def __init__(self) -> None:
        super().__init__(sentences.token_rejected())


class MissingPermissions(ApiError):
    def __init__(self, what: str, permissions: tuple[str, ...], message: str | None) -> None:
        super().__init__(sentences.missing_permissions(what, permissions, message))
        self.what = what
        self.permissions = permissions


class ProjectNotFound(ApiError):
    def __init__(self, ref: str) -> None:
        super().__init__(sentences.project_not_found(ref))
        self.ref = ref


class ProjectNotReady(ApiError):
    """The project is paused, coming up, failed or otherwise not ACTIVE_HEALTHY."""

    def __init__(self, ref: str, name: str, status: str) -> None:
        super().__init__(sentences.project_not_ready(ref, name, status, paused=status in PAUSED))
        self.ref = ref
        self.status = status


PAUSED = frozenset(("INACTIVE", "PAUSING", "GOING_DOWN"))


class NoDedicatedPooler(ApiError):
    def __init__(self, ref: str) -> None:
        super().__init__(sentences.no_dedicated_pooler(ref))
        self.ref = ref


class ApiUnreachable(ApiError):
    def __init__(self, url: str, cause: str) -> None:
        super().__init__(sentences.api_unreachable(url, cause))
        self.url = url
        self.cause = cause


class RateLimited(ApiError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(sentences.rate_limited(retry_after))
        self.retry_after = retry_after


class UnexpectedAnswer(ApiError):
    """A status or a body the published description does not give."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(sentences.unexpected_answer(path, detail))
        self.path = path
        self.detail = detail
