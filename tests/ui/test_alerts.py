"""Desktop alerts: the coalescing rule on a fake clock (a down told after its grace, back with
its length and cause, a blip not told, a flapping link summed up once a minute, refused
bursts once each), each profile's choice kept in the settings through a rename, the sinks,
and the whole path on a real server stopped and started under a real monitor window: the
alerts, the window's title and the tray's tooltip while it is down."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMenu

from supalink.agent import AuditEntry
from supalink.agent.audit_entry import utc_stamp
from supalink.agent.audit_log import AuditLog
from supalink.monitor import Health, HealthReport, MonitorEngine, Outage
from supalink.profiles import MemorySecretStore, Profile, ProfileRepository, Target
from supalink.profiles.settings import SettingsFile
from supalink.ui.alert_sinks import DBusSink, TraySink, desktop_sink
from supalink.ui.alerts import Alert, AlertRule, Timings, Urgency, down_since_text
from supalink.ui.monitor_alerts import MonitorAlerts
from supalink.ui.monitor_window import MonitorWindow
from supalink.ui.monitors import Monitors
from supalink.ui.panel_parts import clock as hms
from supalink.ui.tray import HealthTray
from tests.support.audit import audit_entry
from tests.support.monitoring import run, wait_until
from tests.support.postgres import PostgresServer, start_postgres
from tests.support.system_tools import SystemTools
from tests.support.tls import TlsFiles
from tests.ui.monitor_support import keep_loop_running_on_close, live_window

WAIT = 60.0
T0 = 1_796_000_000.0  # a wall-clock time for the texts


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class RecordingSink:
    """What the desktop would have shown."""

    def __init__(self) -> None:
        self.shown: list[tuple[str, str, Urgency]] = []

    def show(self, title: str, body: str, urgency: Urgency) -> None:
        self.shown.append((title, body, urgency))


def rule_on(clock: FakeClock) -> tuple[AlertRule, list[Alert]]:
    shown: list[Alert] = []
    return AlertRule(shown.append, clock=clock), shown


def outage(start: float, seconds: float, cause: str = "server restart") -> Outage:
    return Outage(start, start + seconds, cause)


IdleWindow = Callable[..., MonitorWindow]


@pytest.fixture
def idle_window(qasync_loop: asyncio.AbstractEventLoop) -> Iterator[IdleWindow]:
    """Windows on engines that are never started (nothing listens on port 1), closed and
    stopped after the test, whatever it asserted."""
    made: list[MonitorWindow] = []

    def make(name: str, audit_file: Path | None = None) -> MonitorWindow:
        engine = MonitorEngine(Target.from_conninfo("postgresql://u@127.0.0.1:1/db"))
        window = MonitorWindow(engine, name, audit_file=audit_file)
        keep_loop_running_on_close(window)
        made.append(window)  # not qtbot's: its teardown would close them without the loop
        return window

    yield make
    for window in made:
        window.close()
        run(qasync_loop, window.stop(), timeout=10)


def advance(rule: AlertRule, clock: FakeClock, seconds: float) -> None:
    """Move the clock on, ticking whenever the rule said it was due (as its timer would)."""
    end = clock.now + seconds
    while (due := rule.due_at()) is not None and due <= end:
        clock.now = max(clock.now, due)
        rule.tick()
    clock.now = end


# ----- the rule ---------------------------------------------------------------------------
def test_a_down_is_told_once_it_has_lasted_the_grace_then_back_with_its_length_and_cause() -> None:
    clock = FakeClock()
    rule, shown = rule_on(clock)
    rule.down("prod", T0, "connection refused")
    advance(rule, clock, 4.9)
    assert shown == []  # still within the grace
    for _ in range(30):  # every report while down says so again: told once
        rule.down("prod", T0, "connection refused")
        advance(rule, clock, 1.0)
    assert [(a.title, a.body, a.urgency) for a in shown] == [
        ("prod is down", f"Down since {hms(T0)}: connection refused", Urgency.CRITICAL)
    ]
    rule.back("prod", outage(T0, 39))
    advance(rule, clock, 60)
    assert len(shown) == 2
    back = shown[1]
    assert (back.title, back.urgency) == ("prod is back", Urgency.NORMAL)
    assert back.body == f"Back after 39 s ({hms(T0)}\u2013{hms(T0 + 39)}): server restart"
    advance(rule, clock, 600)
    assert len(shown) == 2  # nothing more to tell


def test_a_back_within_the_minute_of_the_down_alert_waits_for_its_end() -> None:
    clock = FakeClock()
    rule, shown = rule_on(clock)
    rule.down("prod", T0, "connection refused")
    advance(rule, clock, 6)
    down_told_at = clock.now - 1
    rule.back("prod", outage(T0, 10))
    assert len(shown) == 1  # one alert a minute per profile
    assert rule.due_at() == pytest.approx(down_told_at + 60)
    advance(rule, clock, 60)
    assert [a.title for a in shown] == ["prod is down", "prod is back"]


def test_a_blip_shorter_than_the_grace_is_not_told() -> None:
    clock = FakeClock()
    rule, shown = rule_on(clock)
    rule.down("prod", T0, "connection lost")
    advance(rule, clock, 3)
    rule.back("prod", outage(T0, 3, "connection lost"))
    # A down and its end in one report (the window shows the last of a batch) is one too.
    advance(rule, clock, 120)
    rule.back("prod", outage(T0 + 120, 1, "connection lost"))
    advance(rule, clock, 600)
    assert shown == []


def test_a_flapping_link_is_told_in_one_summary_a_minute_never_a_storm() -> None:
    clock = FakeClock()
    rule, shown = rule_on(clock)
    # Down for 2 s every 10 s for five minutes: no down lasts the grace.
    for flap in range(30):
        rule.down("prod", T0 + flap * 10, "connection refused")
        advance(rule, clock, 2)
        rule.back("prod", outage(T0 + flap * 10, 2, "connection refused"))
        advance(rule, clock, 8)
    assert 4 <= len(shown) <= 5  # five minutes: at most one a minute
    first = shown[0]
    assert (first.title, first.urgency) == ("prod is flapping", Urgency.NORMAL)
    assert re.fullmatch(
        r"Went down 3 times in the last minute; now up \(the last one: down 2 s .*\): "
        r"connection refused\)",
        first.body,
    )
    assert all(alert.title == "prod is flapping" for alert in shown)
    assert all(re.match(r"Went down [56] times in the last minute", a.body) for a in shown[1:])
    advance(rule, clock, 600)
    quiet = len(shown)
    advance(rule, clock, 600)
    assert len(shown) == quiet


def test_a_link_that_went_down_and_flapped_before_it_came_back_is_summed_up() -> None:
    clock = FakeClock()
    rule, shown = rule_on(clock)
    rule.down("prod", T0, "connection refused")
    advance(rule, clock, 6)  # told: down
    for flap in range(3):
        rule.back("prod", outage(T0, 8 + flap * 10))
        advance(rule, clock, 2)
        rule.down("prod", T0 + 10 + flap * 10, "connection refused")
        advance(rule, clock, 8)
    rule.back("prod", outage(T0 + 40, 5))
    advance(rule, clock, 60)
    assert [a.title for a in shown] == ["prod is down", "prod is flapping"]
    assert shown[1].body.startswith("Went down 4 times in the last minute; now up")


def test_healthy_again_without_an_outage_is_back_too() -> None:
    clock = FakeClock()
    rule, shown = rule_on(clock)
    rule.down("prod", T0, "password authentication failed")
    advance(rule, clock, 120)
    rule.up("prod")  # Retry began the checks afresh: no outage to tell
    rule.up("prod")
    advance(rule, clock, 120)
    assert [(a.title, a.body) for a in shown[1:]] == [("prod is back", "Back")]


def test_profiles_are_coalesced_each_on_its_own() -> None:
    clock = FakeClock()
    rule, shown = rule_on(clock)
    rule.down("prod", T0, "connection refused")
    rule.down("staging", T0, "timeout")
    advance(rule, clock, 6)
    assert sorted(a.title for a in shown) == ["prod is down", "staging is down"]
    rule.forget("staging")  # its window closed: nothing more of it
    rule.back("prod", outage(T0, 70))
    advance(rule, clock, 120)
    assert [a.title for a in shown[2:]] == ["prod is back"]


def test_a_refused_burst_is_told_once_and_bursts_at_most_every_five_minutes() -> None:
    clock = FakeClock()
    rule, shown = rule_on(clock)
    rule.refused_burst("prod", "b1", "read-only")
    rule.refused_burst("prod", "b1", "read-only")  # the same burst, read again
    advance(rule, clock, 30)
    rule.refused_burst("prod", "b2", "read-only")
    rule.refused_burst("staging", "b3", "")  # another profile: its own
    advance(rule, clock, 300)
    rule.refused_burst("prod", "b4", "read-only")
    assert [(a.title, a.body) for a in shown] == [
        ("prod: agent calls refused", "Its agent's calls are refused in a burst (read-only)"),
        ("staging: agent calls refused", "Its agent's calls are refused in a burst"),
        (
            "prod: agent calls refused",
            "Its agent's calls are refused in a burst (read-only); "
            "1 more burst since the last alert",
        ),
    ]


def test_a_profile_turned_off_is_followed_but_not_shown() -> None:
    clock = FakeClock()
    shown: list[Alert] = []
    off = {"prod"}
    rule = AlertRule(shown.append, clock=clock, enabled=lambda profile: profile not in off)
    rule.down("prod", T0, "connection refused")
    advance(rule, clock, 10)
    assert shown == []
    off.clear()  # on again: the down it did not show is not brought back
    advance(rule, clock, 120)
    assert shown == []
    rule.back("prod", outage(T0, 130))
    advance(rule, clock, 1)
    assert [a.title for a in shown] == ["prod is back"]


# ----- each profile's choice --------------------------------------------------------------
def test_the_menu_action_keeps_a_profiles_choice_which_follows_a_rename_and_goes_on_removal(
    idle_window: IdleWindow, tmp_path: Path
) -> None:
    settings = tmp_path / "settings.json"
    repository = ProfileRepository(SettingsFile(settings), MemorySecretStore())
    repository.save(Profile("Production", host="127.0.0.1", port=1, user="u"))
    clock = FakeClock()
    sink = RecordingSink()
    alerts = MonitorAlerts(sink, repository, clock=clock)

    def window_for(name: str) -> MonitorWindow:
        window = idle_window(name)
        alerts.watch(window)
        return window

    window = window_for("Production")
    action = window.alerts_action
    assert action.text() == "Desktop &alerts"
    assert action.isCheckable()
    assert action.isChecked()  # on unless turned off
    menu = window.menuBar().actions()[0].menu()
    assert isinstance(menu, QMenu)
    assert action in menu.actions()
    action.setChecked(False)
    down = HealthReport(Health.DOWN, T0, None, "connection refused", None, since=T0)
    alerts.report("Production", down, None)
    clock.now += 10
    alerts.tick()
    assert sink.shown == []  # off for this profile
    # Kept in the settings file: another process reads it there.
    again = ProfileRepository(SettingsFile(settings), MemorySecretStore())
    assert again.profile_preference("Production", "desktop_alerts") is False
    repository.rename("Production", "Prod")  # as the main window and the CLI rename
    assert not window_for("Prod").alerts_action.isChecked()
    renamed = ProfileRepository(SettingsFile(settings), MemorySecretStore())
    assert MonitorAlerts(sink, renamed).enabled("Prod") is False
    assert renamed.profile_preference("Production", "desktop_alerts") is None
    repository.remove("Prod")
    repository.save(Profile("Prod", host="127.0.0.1", port=1, user="u"))  # new, same name
    assert window_for("Prod").alerts_action.isChecked()
    assert "Prod" not in str(repository.preference("per_profile"))


def test_the_monitors_give_the_alerts_each_window_they_open(
    qasync_loop: asyncio.AbstractEventLoop,
) -> None:
    alerts = MonitorAlerts(RecordingSink())
    alerts.set_enabled("Production", False)  # no repository: kept for this session
    monitors = Monitors(alerts=alerts)
    window = monitors.open("Production", Target.from_conninfo("postgresql://u@127.0.0.1:1/db"))
    keep_loop_running_on_close(window)
    try:
        assert not window.alerts_action.isChecked()
        window.alerts_action.setChecked(True)
        assert alerts.enabled("Production")
    finally:
        run(qasync_loop, monitors.stop_all(), timeout=10)


# ----- the sinks --------------------------------------------------------------------------
def test_the_sink_is_the_tray_when_there_is_one_else_the_log_here(
    qapp: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a tray, the notification service's sink, which connects to the bus only at
    its first alert; here no notification service answers: the log keeps the alert."""
    with_tray = HealthTray(tray_available=True)
    assert isinstance(desktop_sink(with_tray), TraySink)
    with_tray.close()
    without = HealthTray(tray_available=False)
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    sink = desktop_sink(without)
    assert isinstance(sink, DBusSink)
    assert sink.bus is None  # not connected before an alert
    with caplog.at_level(logging.WARNING):
        sink.show("prod is down", "Down since 16:37:50: connection refused", Urgency.CRITICAL)
    assert "alert (critical): prod is down: Down since 16:37:50: connection refused" in (
        caplog.text
    )
    without.close()


def test_the_tray_tooltip_says_since_when_a_monitor_is_down(qapp: Any) -> None:
    tray = HealthTray(tray_available=False)
    tray.update_source("prod", Health.DOWN, "connection refused", T0)
    tray.update_source("staging", Health.HEALTHY, "SELECT 1 in 1.0 ms")
    since = down_since_text(T0)
    assert re.fullmatch(r"Down since \d\d:\d\d", since)
    assert tray.tool_tip() == (
        f"Supalink\nprod: {since} (connection refused)\nstaging: Healthy (SELECT 1 in 1.0 ms)"
    )
    tray.update_source("prod", Health.HEALTHY, "SELECT 1 in 2.0 ms")
    assert "Down since" not in tray.tool_tip()
    tray.close()


NOTIFICATION_SERVICE = """
from PySide6.QtCore import ClassInfo, QCoreApplication, QObject, Slot
from PySide6.QtDBus import QDBusConnection

app = QCoreApplication([])


@ClassInfo({"D-Bus Interface": "org.freedesktop.Notifications"})
class Service(QObject):
    @Slot(str, "uint", str, str, str, "QStringList", "QVariantMap", int, result="uint")
    def Notify(self, app_name, replaces, icon, summary, body, actions, hints, timeout):
        print(repr((app_name, replaces, summary, body, hints.get("urgency"))), flush=True)
        return 1


service = Service()
bus = QDBusConnection.sessionBus()
bus.registerObject("/org/freedesktop/Notifications", service,
                   QDBusConnection.RegisterOption.ExportAllSlots)
print("ready" if bus.registerService("org.freedesktop.Notifications") else "taken", flush=True)
app.exec()
"""


def test_without_a_tray_the_desktops_notification_service_gets_it_over_dbus(
    qapp: Any, tmp_path: Path
) -> None:
    """A private session bus with a notification service declaring Notify as the
    specification does (susssasa{sv}i): a uint32 it would refuse as an int32."""
    from PySide6.QtDBus import QDBusConnection

    daemon = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address"],
        stdout=subprocess.PIPE,
        text=True,
    )
    service: subprocess.Popen[str] | None = None
    try:
        assert daemon.stdout is not None
        address = daemon.stdout.readline().strip()
        env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": address, "QT_QPA_PLATFORM": "offscreen"}
        script = tmp_path / "notifications.py"
        script.write_text(NOTIFICATION_SERVICE)
        service = subprocess.Popen(
            [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env
        )
        assert service.stdout is not None
        assert service.stdout.readline().strip() == "ready"
        bus = QDBusConnection.connectToBus(address, f"alerts-{uuid.uuid4().hex[:6]}")
        assert bus.isConnected()
        DBusSink(bus).show("prod is down", "Down since 16:37:50: refused", Urgency.CRITICAL)
        got = service.stdout.readline().strip()
        assert got == repr(("Supalink", 0, "prod is down", "Down since 16:37:50: refused", 2))
        QDBusConnection.disconnectFromBus(bus.name())
    finally:
        for process in (service, daemon):
            if process is not None:
                process.terminate()
                process.communicate(timeout=10)  # closes its pipe too


# ----- end to end -------------------------------------------------------------------------
def burst_call(burst: str | None, **changes: Any) -> AuditEntry:
    return audit_entry(
        at=utc_stamp(),
        statement="DELETE FROM public.items",
        error="refused",
        rule="read-only",
        profile="Production",
        burst=burst,
        **changes,
    )


def test_a_burst_of_refused_calls_read_by_the_agent_tab_is_alerted_once(
    qtbot: Any, idle_window: IdleWindow, tmp_path: Path
) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    log.record(burst_call("old"))  # the backlog: from before the window opened
    window = idle_window("Production", path)
    sink = RecordingSink()
    MonitorAlerts(sink).watch(window)
    log.record(burst_call(None))  # refused, not (yet) a burst
    qtbot.waitUntil(lambda: window.agent.model.calls == 2, timeout=10_000)
    for _ in range(5):
        log.record(burst_call("b1"))
    log.record(burst_call("b1", count=40))
    qtbot.waitUntil(lambda: window.agent.model.calls == 47, timeout=10_000)
    assert sink.shown == [
        (
            "Production: agent calls refused",
            "Its agent's calls are refused in a burst (read-only)",
            Urgency.NORMAL,
        )
    ]


@pytest.fixture(scope="module")
def alerts_pg(
    system_tools: SystemTools, services_root: Path, tls_files: TlsFiles
) -> Iterator[PostgresServer]:
    """A server of this module's own, to stop and start without disturbing `pg`."""
    server = start_postgres(
        system_tools, services_root / f"ui-alerts-{uuid.uuid4().hex[:8]}", tls_files
    )
    yield server
    if server.is_running():
        server.stop("immediate")


@pytest.mark.slow
def test_a_server_stopped_then_started_is_alerted_down_then_back_and_the_title_and_tooltip_say_so(
    qtbot: Any, alerts_pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    server = alerts_pg

    async def scenario() -> dict[str, Any]:
        async with live_window(qtbot, server.uri()) as window:
            sink = RecordingSink()
            # No grace and no hold: each change told as it comes (the rule's timings are
            # the fake clock tests' to check).
            alerts = MonitorAlerts(sink, timings=Timings(down_grace=0, hold=0))
            alerts.watch(window)
            tray = HealthTray(tray_available=False)
            tray.watch(window)
            await wait_until(lambda: window.health_status is Health.HEALTHY, WAIT, "healthy")
            title_up = window.windowTitle()
            await asyncio.to_thread(server.stop, "fast")
            await wait_until(lambda: len(sink.shown) == 1, WAIT, "the down alert")
            down = {
                "title": window.windowTitle(),
                "tooltip": tray.tool_tip(),
                "since": window.down_since,
                "health": window.health_status,
            }
            await asyncio.to_thread(server.start)
            await wait_until(lambda: len(sink.shown) == 2, WAIT, "the back alert")
            await wait_until(lambda: window.down_since is None, WAIT, "up again")
            seen = {
                "title_up": title_up,
                "down": down,
                "shown": list(sink.shown),
                "title_after": window.windowTitle(),
                "tooltip_after": tray.tool_tip(),
            }
            tray.close()
            return seen

    seen = run(qasync_loop, scenario(), timeout=120)
    assert seen["title_up"] == "Test project — Supalink monitor"
    down = seen["down"]
    assert down["health"] is Health.DOWN
    since = down_since_text(down["since"])
    assert down["title"] == f"{since} — Test project — Supalink monitor"
    assert re.fullmatch(r"Down since \d\d:\d\d", since)
    assert down["tooltip"].startswith(f"Supalink\nTest project: {since} (")
    (down_title, down_body, down_urgency), (back_title, back_body, back_urgency) = seen["shown"]
    assert (down_title, down_urgency) == ("Test project is down", Urgency.CRITICAL)
    assert re.fullmatch(r"Down since \d\d:\d\d:\d\d: .+", down_body)
    assert (back_title, back_urgency) == ("Test project is back", Urgency.NORMAL)
    assert re.fullmatch(
        r"Back after \d+ s \(\d\d:\d\d:\d\d\u2013\d\d:\d\d:\d\d\): "
        r"(connection refused|server restart|connection lost|.+)",
        back_body,
    )
    assert seen["title_after"] == "Test project — Supalink monitor"
    assert "Down since" not in seen["tooltip_after"]
