"""Postgres URIs: build them (every part percent-encoded), mask them, parse pasted ones."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from supalink.errors import BadInput
from supalink.logs import MASK, SecretMasker
from supalink.profiles import supabase
from supalink.profiles.model import SSL_MODES, Profile
from supalink.profiles.supabase import Mode

SCHEMES = ("postgresql://", "postgres://")
# Patterns as text, compiled on first use: see supabase.py.
PLACEHOLDER_PASSWORD = r"(?i)^\[YOUR[-_ ]?PASSWORD\]$"  # noqa: S105 (a pattern, not a password)
_AUTHORITY_AND_REST = (
    r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[^\[\]/:?#@,]*)"
    r"(?::(?P<port>[^/?#]*))?"
    r"(?P<path>/[^?#]*)?"
    r"(?:\?(?P<query>[^#]*))?"
    r"(?:#.*)?$"
)
BAD_PERCENT = r"%(?![0-9A-Fa-f]{2})"
# Parameters of client libraries, not of libpq, that Supabase's dashboard puts in URIs
# (Prisma's): they mean nothing to a connection and libpq refuses a URI that holds them.
CLIENT_PARAMETERS = frozenset(
    ("pgbouncer", "connection_limit", "pool_timeout", "schema", "statement_cache_size")
)
_TLS_KEYS = ("sslmode", "sslrootcert")
_PERCENT_RUN = r"(?:%[0-9A-Fa-f]{2})+"
# The password given as a query parameter, which libpq takes as the password (over the
# userinfo's): as written, up to the next parameter.
QUERY_PASSWORD = re.compile(r"[?&]password=([^&#]*)")


class UriError(BadInput):
    """A URI that cannot be used; the message says what to change."""


@dataclass(frozen=True)
class ParsedUri:
    """A connection string read as a profile and its password."""

    profile: Profile
    password: str | None  # None when absent or the dashboard's [YOUR-PASSWORD] placeholder
    ignored_parameters: tuple[str, ...] = field(default=())

    def summary(self) -> dict[str, Any]:
        """The fields `supalink parse` reports; never the password."""
        profile = self.profile
        endpoint = profile.endpoint()
        return {
            "ref": profile.ref,
            "mode": str(profile.mode) if profile.is_supabase else None,
            "host": endpoint.host,
            "port": endpoint.port,
            "user": endpoint.user,
            "database": endpoint.database,
            "region": profile.region,
            "pooler_index": profile.pooler_index,
        }


def build_uri(
    profile: Profile,
    password: str | None = None,
    *,
    masked: bool = False,
    with_ssl: bool = True,
    extra: dict[str, str] | None = None,
) -> str:
    """The URI for `profile`; the password shown as **** when `masked`, left out when None."""
    endpoint = profile.endpoint()
    userinfo = _encode(endpoint.user)
    if password is not None:
        userinfo += ":" + (MASK if masked else _encode(password))
    host = f"[{endpoint.host}]" if ":" in endpoint.host else endpoint.host
    uri = f"postgresql://{userinfo}@{host}:{endpoint.port}/{_encode(endpoint.database)}"
    params: dict[str, str] = {}
    if with_ssl:
        params["sslmode"] = profile.sslmode
        if profile.sslrootcert and profile.sslmode != "disable":
            params["sslrootcert"] = profile.sslrootcert
    params.update(extra or {})
    if params:
        uri += "?" + "&".join(f"{key}={quote(value, safe='/')}" for key, value in params.items())
    return uri


def is_placeholder(password: str) -> bool:
    """Whether `password` is the dashboard's `[YOUR-PASSWORD]`, which stands for none."""
    return re.match(PLACEHOLDER_PASSWORD, password) is not None


def check_as_written(uri: str) -> str:
    """The URI, stripped, once it can be carried as the person wrote it (a server entry
    keeps it so): a Postgres scheme, no fragment, no stray '%' in the userinfo."""
    uri = uri.strip()
    if not uri.startswith(SCHEMES):
        raise UriError("the URI must start with postgresql:// or postgres://")
    if "#" in uri:
        raise UriError("the URI contains '#': percent-encode it in the password as %23")
    if re.search(BAD_PERCENT, _netloc(uri).rpartition("@")[0]):
        raise UriError("the URI's user or password has a '%' that is not percent-encoded (%25)")
    return uri


def with_tls(uri: str, sslmode: str, sslrootcert: str | None) -> str:
    """`uri` with its sslmode and sslrootcert replaced, the rest as the person wrote it:
    the userinfo keeps its percent-encoding byte for byte, other parameters their order."""
    uri = check_as_written(uri)
    pairs = [pair for pair in uri.partition("?")[2].split("&") if pair]
    kept = [pair for pair in pairs if unquote(pair.partition("=")[0]) not in _TLS_KEYS]
    kept.append(f"sslmode={quote(sslmode, safe='')}")
    if sslrootcert and sslmode != "disable":
        kept.append(f"sslrootcert={quote(sslrootcert, safe='/')}")
    return uri.split("?", 1)[0] + "?" + "&".join(kept)


def without_client_parameters(uri: str) -> tuple[str, tuple[str, ...]]:
    """`uri` as libpq can read it, less the CLIENT_PARAMETERS it holds, and their names."""
    base, question, rest = uri.partition("?")
    if not question or not uri.startswith(SCHEMES):
        return uri, ()
    query, hash_, fragment = rest.partition("#")
    pairs = [pair for pair in query.split("&") if pair]
    dropped = tuple(
        key for pair in pairs if (key := unquote(pair.partition("=")[0])) in CLIENT_PARAMETERS
    )
    if not dropped:
        return uri, ()
    kept = [pair for pair in pairs if unquote(pair.partition("=")[0]) not in CLIENT_PARAMETERS]
    return base + ("?" + "&".join(kept) if kept else "") + hash_ + fragment, dropped


def _netloc(uri: str) -> str:
    """What urlsplit calls the netloc, without its check of a bracketed host: that raises
    ValueError quoting the text between the first '[' and ']', which can be the password's."""
    return re.split(r"[/?#]", uri.partition("://")[2], maxsplit=1)[0]


def password_candidates(text: str) -> tuple[str, ...]:
    """Every piece of `text` that may be a password as written, and percent-decoded: after
    the user name up to each '@', and each password= value of the query. For masking the
    message about a URI that could not be read, so a password never comes back in it."""
    rest = text.partition("://")[2] if "://" in text else text
    found: list[str] = []
    for at in (i for i, c in enumerate(rest) if c == "@"):
        found.append(rest[:at].partition(":")[2])
    found += QUERY_PASSWORD.findall(text)
    # libpq splits at the first '@' and quotes the "host" after it: each piece after an '@'.
    found += [form[at + 1 :] for form in list(found) for at, c in enumerate(form) if c == "@"]
    decoded = [unquote(form) for form in found]
    return tuple(dict.fromkeys(form for form in (*found, *decoded) if form))


def mask_candidates(message: str, text: str) -> str:
    """`message` about the URI or conninfo `text`, with whatever may be its password masked."""
    masker = SecretMasker()
    masker.add_secrets(password_candidates(text))
    return masker.mask(message)


def _encode(part: str) -> str:
    return quote(part, safe="")


def _decode(part: str, what: str) -> str:
    if re.search(BAD_PERCENT, part):
        hint = (
            " (or leave it out and type the password into the password field)"
            if what == "password"
            else ""
        )
        raise UriError(
            f"the {what} holds a '%' that is not percent-encoding: write '%' as %25{hint}"
        )
    try:
        return re.sub(_PERCENT_RUN, lambda m: bytes.fromhex(m[0].replace("%", "")).decode(), part)
    except UnicodeDecodeError:
        raise UriError(f"the {what} is not valid UTF-8 once percent-decoded") from None


def parse_uri(uri: str, *, name: str = "imported") -> ParsedUri:
    """Read any URI the Supabase dashboard shows, or any other postgres:// URI.

    The messages quote the person's input; whatever may be the password is masked in them."""
    text = uri.strip()
    try:
        return _parse(text, name)
    except UriError as error:
        raise UriError(mask_candidates(str(error), text)) from None


def _parse(text: str, name: str) -> ParsedUri:
    scheme = next((s for s in SCHEMES if text.lower().startswith(s)), None)
    if scheme is None:
        if "://" in text:
            raise UriError(
                f"not a Postgres URI: {text.split('://', 1)[0]}:// is not postgresql:// or "
                "postgres://"
            )
        raise UriError("not a URI: it must start with postgresql:// or postgres://")
    rest = text[len(scheme) :]
    userinfo, authority = _split_userinfo(rest)
    if userinfo is None and "@" in rest:
        # No '@' leaves a valid host: what follows the last one (the separator, whatever
        # the password holds) is what is wrong, and nothing before it is quoted.
        _explain_host(rest.rpartition("@")[2])
    match = re.match(_AUTHORITY_AND_REST, authority)
    if match is None or not match["host"]:
        if "," in authority.split("/", 1)[0]:
            raise UriError("several hosts in one URI are not supported: give one host")
        raise UriError("the URI has no valid host after '@'")
    host = match["host"].strip("[]")
    port = _parse_port(match["port"])
    database = _decode(match["path"][1:], "database name") if match["path"] else ""
    user, password = _parse_userinfo(userinfo)
    options, ignored = _parse_query(match["query"] or "")
    # libpq reads ?password= after the userinfo, so it is the password that connects.
    if (query_password := options.pop("password", None)) is not None:
        password = None if is_placeholder(query_password) else query_password
    return ParsedUri(
        _profile_for(name, host, port, user, database or supabase.DEFAULT_DATABASE, options),
        password,
        ignored,
    )


def _explain_host(after: str) -> None:
    """Raise the UriError that says what is wrong with the host part after the last '@'."""
    authority = re.split(r"[/?#]", after, maxsplit=1)[0]
    if authority.startswith("[") and "]" not in authority:
        raise UriError(f"the IPv6 address {authority!r} after '@' has no closing ']'")
    if authority.startswith("["):
        raise UriError(
            f"{authority!r} after '@' is not an IPv6 address in brackets and a port, "
            "such as [::1]:5432"
        )
    if "," in authority:
        raise UriError("several hosts in one URI are not supported: give one host")
    raise UriError(
        f"{authority!r} after '@' is not a host and a port, such as db.example.com:5432 "
        "(an '@' in the password is written %40)"
    )


def _split_userinfo(rest: str) -> tuple[str | None, str]:
    """Split at the '@' that leaves a well-formed host part.

    People paste passwords unencoded, so '@', ':', '/', '?' and '#' may sit in
    the password: the rightmost '@' that leaves a valid host, port, path and
    query is the separator.
    """
    positions = [i for i, c in enumerate(rest) if c == "@"]
    for at in reversed(positions):
        if re.match(_AUTHORITY_AND_REST, rest[at + 1 :]):
            return rest[:at], rest[at + 1 :]
    return None, rest


def _parse_userinfo(userinfo: str | None) -> tuple[str | None, str | None]:
    if userinfo is None:
        return None, None
    raw_user, has_password, raw_password = userinfo.partition(":")
    user = _decode(raw_user, "user name") if raw_user else None
    if not has_password or is_placeholder(raw_password):
        return user, None
    return user, _decode(raw_password, "password")


def _parse_port(text: str | None) -> int | None:
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise UriError(f"the port {text!r} is not a number between 1 and 65535")
    return int(text)


def _parse_query(query: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    options: dict[str, Any] = {}
    ignored: list[str] = []
    for pair in filter(None, query.split("&")):
        key, _, raw_value = pair.partition("=")
        # libpq decodes only %XX: a '+' in a password is a '+'.
        raw = raw_value if key == "password" else raw_value.replace("+", " ")
        value = _decode(raw, f"parameter {key}")
        if key == "sslmode":
            if value not in SSL_MODES:
                raise UriError(f"sslmode={value} is not one of: {', '.join(SSL_MODES)}")
            options["sslmode"] = value
        elif key == "sslrootcert":
            options["sslrootcert"] = value
        elif key == "connect_timeout":
            if not value.isdigit() or int(value) < 1:
                raise UriError(f"connect_timeout={value} is not a whole number of seconds")
            options["connect_timeout"] = int(value)
        elif key == "application_name":
            options["application_name"] = value
        elif key == "password":
            options["password"] = value
        else:
            ignored.append(key)
    return options, tuple(ignored)


def _profile_for(
    name: str, host: str, port: int | None, user: str | None, database: str, options: dict[str, Any]
) -> Profile:
    host = host.lower() if not host.startswith("/") else host
    if direct := re.match(supabase.DIRECT_HOST_PATTERN, host):
        # The dedicated pooler (PgBouncer) listens on the direct host, on port 6543.
        mode = Mode.DEDICATED if port == supabase.DEDICATED_PORT else Mode.DIRECT
        port = None if port in (None, mode.default_port) else port
        role = user or supabase.DEFAULT_ROLE
        ref = direct["ref"]
        found = Profile(name, mode, ref=ref, user=role, port=port, database=database, **options)
        return found.validated()
    if host.startswith("db.") and host.endswith(".supabase.co"):
        raise UriError(
            f"{host} looks like a Supabase direct host, but {host[3:-12]!r} is not a project ref "
            "(20 lowercase letters and digits)"
        )
    if host.endswith(supabase.POOLER_DOMAIN):
        return _pooler_profile(name, host, port, user, database, options)
    role = user or supabase.DEFAULT_ROLE
    custom = Profile(name, host=host, port=port, user=role, database=database, **options)
    return custom.validated()


def _pooler_profile(
    name: str, host: str, port: int | None, user: str | None, database: str, options: dict[str, Any]
) -> Profile:
    role, dot, ref = (user or "").rpartition(".")
    if not dot or supabase.ref_problem(ref):
        raise UriError(
            "a Supabase pooler user has the form <role>.<project ref>, such as "
            f"postgres.abcdefghijklmnopqrst; got {user or 'no user'!r}"
        )
    mode = Mode.TRANSACTION if port == supabase.TRANSACTION_PORT else Mode.SESSION
    default_port = supabase.TRANSACTION_PORT if mode is Mode.TRANSACTION else supabase.SESSION_PORT
    known = re.match(supabase.POOLER_HOST_PATTERN, host)
    region_known = known is not None and supabase.region_problem(known["region"]) is None
    return Profile(
        name,
        mode,
        ref=ref,
        region=known["region"] if known and region_known else None,
        pooler_index=int(known["index"]) if known and region_known else None,
        pooler_host=None if region_known else host,
        port=None if port in (None, default_port) else port,
        user=role,
        database=database,
        **options,
    ).validated()
