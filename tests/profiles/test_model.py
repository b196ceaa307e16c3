"""Per-field validation, as the form shows it beside each field."""

from __future__ import annotations

import pytest

from supalink.profiles.model import Profile, ProfileError
from supalink.profiles.supabase import Mode

REF = "abcdefghijklmnopqrst"


def test_a_complete_pooled_profile_has_no_problems() -> None:
    profile = Profile("p", Mode.SESSION, ref=REF, region="us-west-1", pooler_index=0)
    assert profile.problems() == {}


@pytest.mark.parametrize(
    ("profile", "field"),
    [
        (Profile("", Mode.DIRECT, ref=REF), "name"),
        (Profile(" p", Mode.DIRECT, ref=REF), "name"),
        (Profile("p", Mode.DIRECT, ref="short"), "ref"),
        (Profile("p", Mode.DIRECT, ref=REF.upper()), "ref"),
        (Profile("p", Mode.SESSION, ref=REF, pooler_index=0), "region"),
        (Profile("p", Mode.SESSION, ref=REF, region="mars-1", pooler_index=0), "region"),
        (Profile("p", Mode.TRANSACTION, ref=REF, region="us-east-1"), "pooler_index"),
        (Profile("p", host=None), "host"),
        (Profile("p", host="bad host"), "host"),
        (Profile("p", host="localhost", port=70000), "port"),
        (Profile("p", host="localhost", user=""), "user"),
        (Profile("p", host="localhost", database=""), "database"),
        (Profile("p", host="localhost", sslmode="sometimes"), "sslmode"),
        (Profile("p", host="localhost", connect_timeout=0), "connect_timeout"),
        (Profile("p", host="localhost", application_name="x" * 64), "application_name"),
    ],
)
def test_each_invalid_field_is_named(profile: Profile, field: str) -> None:
    problems = profile.problems()
    assert field in problems
    with pytest.raises(ProfileError) as raised:
        profile.validated()
    assert raised.value.field in problems


def test_pooler_index_message_says_where_to_find_it() -> None:
    problems = Profile("p", Mode.SESSION, ref=REF, region="us-east-1").problems()
    assert "cannot be guessed" in problems["pooler_index"]
    assert "dashboard" in problems["pooler_index"]


def test_mode_summaries_say_what_each_mode_supports() -> None:
    assert "IPv6" in Mode.DIRECT.summary
    assert "IPv4" in Mode.SESSION.summary
    assert "no prepared statements, no LISTEN" in Mode.TRANSACTION.summary
