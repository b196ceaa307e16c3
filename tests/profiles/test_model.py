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


@pytest.mark.parametrize(
    "hidden",
    [
        "\u202e",  # right-to-left override
        "\u061c",  # Arabic letter mark
        "\u200e",  # left-to-right mark
        "\u200f",  # right-to-left mark
        *(chr(code) for code in range(0x202A, 0x202F)),  # embeddings, overrides, pop
        *(chr(code) for code in range(0x2066, 0x206A)),  # isolates
        "\u200b",  # zero-width space (Cf)
        "\ufeff",  # byte order mark (Cf)
        "\u00ad",  # soft hyphen (Cf)
        "\x00",
        "\t",
        "\x1b",  # escape: a terminal obeys what follows
        "\x7f",
        "\x85",  # next line (Cc)
        "\u2028",  # line separator
    ],
)
def test_a_name_holding_a_control_bidi_or_invisible_character_is_refused(hidden: str) -> None:
    profile = Profile(f"prod{hidden}ved", host="localhost")
    message = profile.problems()["name"]
    assert message == (
        "a name cannot hold control, bidirectional or other invisible characters "
        f"(it holds U+{ord(hidden):04X})"
    )
    assert hidden not in message  # said as its code point, never printed


@pytest.mark.parametrize("name", ["prod", "Prod DB (eu)", "base de données", "生产", "prod 🚀"])
def test_names_people_write_are_accepted(name: str) -> None:
    assert Profile(name, host="localhost").problems() == {}
