"""Building, masking and parsing URIs, for every Supabase mode and for custom hosts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supalink.profiles.model import Profile, ProfileError
from supalink.profiles.supabase import Mode
from supalink.profiles.uris import UriError, build_uri, parse_uri

REF = "abcdefghijklmnopqrst"


def pooled(mode: Mode, **changes: object) -> Profile:
    return Profile("p", mode, ref=REF, region="eu-central-1", pooler_index=0).replace(**changes)


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        (
            Profile("p", Mode.DIRECT, ref=REF),
            f"postgresql://postgres@db.{REF}.supabase.co:5432/postgres",
        ),
        (
            pooled(Mode.SESSION),
            f"postgresql://postgres.{REF}@aws-0-eu-central-1.pooler.supabase.com:5432/postgres",
        ),
        (
            pooled(Mode.TRANSACTION, pooler_index=1),
            f"postgresql://postgres.{REF}@aws-1-eu-central-1.pooler.supabase.com:6543/postgres",
        ),
        (
            pooled(Mode.SESSION, user="reader", database="app"),
            f"postgresql://reader.{REF}@aws-0-eu-central-1.pooler.supabase.com:5432/app",
        ),
        (
            Profile("p", Mode.DIRECT, ref=REF, user="reader"),
            f"postgresql://reader@db.{REF}.supabase.co:5432/postgres",
        ),
        (
            pooled(Mode.SESSION, pooler_host="pool.example.com", region=None, pooler_index=None),
            f"postgresql://postgres.{REF}@pool.example.com:5432/postgres",
        ),
    ],
    ids=["direct", "session", "transaction", "custom-role-pooled", "custom-role-direct", "host"],
)
def test_supabase_uris_follow_the_design_table(profile: Profile, expected: str) -> None:
    assert build_uri(profile, with_ssl=False) == expected


def test_the_guide_form_is_not_what_we_build() -> None:
    # The widely copied guide uses postgres.<ref>@<ref>.supabase.co, which is wrong.
    uri = build_uri(Profile("p", Mode.DIRECT, ref=REF))
    assert f"postgres.{REF}@" not in uri
    assert f"@{REF}.supabase.co" not in uri


def test_an_already_suffixed_pooler_user_is_not_suffixed_twice() -> None:
    profile = pooled(Mode.SESSION, user=f"postgres.{REF}")
    assert profile.login_user == f"postgres.{REF}"


def test_password_is_percent_encoded_masked_or_absent() -> None:
    profile = Profile("p", Mode.DIRECT, ref=REF, sslrootcert="/home/me/prod ca.crt")
    password = "p@ss:w/rd%#?& é\"'"
    revealed = build_uri(profile, password)
    assert revealed.startswith(
        "postgresql://postgres:p%40ss%3Aw%2Frd%25%23%3F%26%20%C3%A9%22%27@db."
    )
    assert revealed.endswith("?sslmode=verify-full&sslrootcert=/home/me/prod%20ca.crt")
    assert build_uri(profile, password, masked=True).startswith("postgresql://postgres:****@db.")
    assert ":" not in build_uri(profile).split("//", 1)[1].split("@", 1)[0]


DASHBOARD = {
    "direct": (
        f"postgresql://postgres:[YOUR-PASSWORD]@db.{REF}.supabase.co:5432/postgres",
        {"mode": "direct", "host": f"db.{REF}.supabase.co", "port": 5432, "user": "postgres"},
    ),
    "session": (
        f"postgresql://postgres.{REF}:[YOUR-PASSWORD]@aws-0-us-east-1.pooler.supabase.com:5432/postgres",
        {"mode": "session", "region": "us-east-1", "pooler_index": 0, "port": 5432},
    ),
    "transaction": (
        f"postgres://postgres.{REF}:[YOUR-PASSWORD]@aws-1-ap-southeast-1.pooler.supabase.com:6543/postgres",
        {"mode": "transaction", "region": "ap-southeast-1", "pooler_index": 1, "port": 6543},
    ),
}


@pytest.mark.parametrize("kind", DASHBOARD)
def test_dashboard_uris_parse_into_supabase_profiles(kind: str) -> None:
    uri, expected = DASHBOARD[kind]
    parsed = parse_uri(uri)
    summary = parsed.summary()
    assert summary["ref"] == REF
    assert summary["database"] == "postgres"
    for key, value in expected.items():
        assert summary[key] == value, key
    assert parsed.password is None  # the [YOUR-PASSWORD] placeholder


def test_real_password_and_query_parameters_are_read() -> None:
    parsed = parse_uri(
        f"postgresql://postgres.{REF}:s3cr%3Ft@aws-0-eu-west-2.pooler.supabase.com:6543/postgres"
        "?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.crt&connect_timeout=5"
        "&application_name=agent&pgbouncer=true"
    )
    assert parsed.password == "s3cr?t"
    assert parsed.profile.sslmode == "verify-full"
    assert parsed.profile.sslrootcert == "/tmp/ca.crt"
    assert parsed.profile.connect_timeout == 5
    assert parsed.profile.application_name == "agent"
    assert parsed.ignored_parameters == ("pgbouncer",)


def test_unencoded_password_with_separators_is_read() -> None:
    parsed = parse_uri(f"postgresql://postgres:p@ss:w/rd?#x@db.{REF}.supabase.co:5432/postgres")
    assert parsed.password == "p@ss:w/rd?#x"
    assert parsed.profile.ref == REF


def test_other_hosts_become_custom_profiles() -> None:
    parsed = parse_uri("postgres://app%40corp:pw@[::1]:6000/my%20db?sslmode=require")
    summary = parsed.summary()
    assert summary == {
        "ref": None,
        "mode": None,
        "host": "::1",
        "port": 6000,
        "user": "app@corp",
        "database": "my db",
        "region": None,
        "pooler_index": None,
    }
    assert parsed.profile.sslmode == "require"


def test_unknown_pooler_host_is_kept_as_an_explicit_host() -> None:
    parsed = parse_uri(f"postgresql://postgres.{REF}@aws-0-xx-mars-9.pooler.supabase.com:5432/db")
    assert parsed.profile.pooler_host == "aws-0-xx-mars-9.pooler.supabase.com"
    assert parsed.profile.endpoint().host == "aws-0-xx-mars-9.pooler.supabase.com"


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("https://supabase.com/dashboard", "not a Postgres URI"),
        ("mysql://root@localhost/db", "not a Postgres URI"),
        ("db.example.com:5432", "must start with postgresql://"),
        ("postgresql://", "no valid host"),
        ("postgresql://u@h:99999/db", "port"),
        ("postgresql://u@h:abc/db", "port"),
        ("postgresql://u:100%@h/db", "percent-encoding"),
        ("postgresql://u@h1,h2/db", "several hosts"),
        (
            "postgresql://postgres@aws-0-us-east-1.pooler.supabase.com:5432/postgres",
            "<role>.<project",
        ),
        ("postgresql://postgres:x@db.abc.supabase.co/postgres", "not a project ref"),
        ("postgresql://u@h/db?sslmode=sometimes", "sslmode"),
    ],
)
def test_malformed_uris_give_one_clear_error(uri: str, message: str) -> None:
    with pytest.raises(UriError, match=message):
        parse_uri(uri)


def test_host_names_are_case_insensitive() -> None:
    parsed = parse_uri(f"postgresql://postgres@db.{REF.upper()}.supabase.co/postgres")
    assert parsed.profile.ref == REF


def test_invalid_field_in_a_uri_names_the_field() -> None:
    with pytest.raises(ProfileError, match="connect timeout"):
        parse_uri(f"postgresql://postgres@db.{REF}.supabase.co/postgres?connect_timeout=9999")


passwords = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40)
names = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00\n"), min_size=1)


@settings(max_examples=150, deadline=None)
@given(
    password=passwords,
    user=names,
    database=names,
    mode=st.sampled_from(list(Mode)),
    index=st.integers(0, 9),
)
def test_build_then_parse_round_trips_supabase(
    password: str, user: str, database: str, mode: Mode, index: int
) -> None:
    profile = Profile(
        "p", mode, ref=REF, region="eu-west-1", pooler_index=index, user=user, database=database
    )
    if mode.is_pooled:
        profile = profile.replace(user=user.removesuffix(f".{REF}") or "postgres")
    parsed = parse_uri(build_uri(profile, password))
    assert parsed.password == password
    assert parsed.profile.endpoint() == profile.endpoint()
    assert parsed.profile.mode is mode


@settings(max_examples=100, deadline=None)
@given(
    password=passwords,
    user=names,
    database=names,
    host=st.sampled_from(["localhost", "127.0.0.1", "::1", "db.internal.example"]),
    port=st.integers(1, 65535),
)
def test_build_then_parse_round_trips_custom_hosts(
    password: str, user: str, database: str, host: str, port: int
) -> None:
    profile = Profile("p", host=host, port=port, user=user, database=database)
    parsed = parse_uri(build_uri(profile, password))
    assert parsed.password == password
    assert parsed.profile.endpoint() == profile.endpoint()
