"""Through the dedicated pooler (PgBouncer in transaction mode) the agent's server keeps no
session state and refuses LISTEN, as through the shared transaction pooler."""

from __future__ import annotations

import asyncio

import pytest

from supalink.agent.listen import AgentListener, ListenRefused
from supalink.agent.options import ServeOptions
from supalink.agent.session import AgentDatabase
from supalink.profiles import Mode, Profile, Target

REF = "mnbvcxzlkjhgfdsapoiu"


@pytest.mark.parametrize("mode", list(Mode))
def test_the_session_is_kept_only_where_the_pooler_keeps_it(mode: Mode) -> None:
    target = Target.from_profile(
        Profile("p", mode, ref=REF, region="eu-west-1", pooler_index=0), None
    )
    database = AgentDatabase(target, ServeOptions())
    assert database.own_session is (mode in (Mode.DIRECT, Mode.SESSION))


def test_the_dedicated_pooler_cannot_listen() -> None:
    listener = AgentListener(Target.from_profile(Profile("p", Mode.DEDICATED, ref=REF), None))
    with pytest.raises(ListenRefused, match="transaction pooler"):
        asyncio.run(listener.collect("anything", 0))
