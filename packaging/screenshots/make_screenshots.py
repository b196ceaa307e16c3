"""Rerunnable screenshots for the README and the AppStream metainfo: offscreen grabs of
the main window, a failed test with its diagnosis, the config diff and the live monitor.

    .venv/bin/python packaging/screenshots/make_screenshots.py [--theme light|dark]
        [--size 1024x768] [--out DIR]

--size gives every window that size (to look at a small screen); --out writes elsewhere
than this folder (the README's images are the light theme at the default sizes).

Needs the PostgreSQL server programs (it starts a throwaway server with supalink.demo);
writes nothing outside this folder and a temporary one: no keyring, no real config file.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "src"))

from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from supalink.app.qt import build_event_loop, configure_application  # noqa: E402
from supalink.demo import DEMO_CHANNEL, run_notifier, start_demo_server  # noqa: E402
from supalink.mcp import Host  # noqa: E402
from supalink.paths import AppPaths  # noqa: E402
from supalink.profiles import (  # noqa: E402
    MemorySecretStore,
    Mode,
    Profile,
    ProfileRepository,
    Target,
)
from supalink.profiles.settings import SettingsFile  # noqa: E402
from supalink.ui.config_dialog import ConfigDialog  # noqa: E402
from supalink.ui.context import AppContext  # noqa: E402
from supalink.ui.main_window import PROBE_TASK, MainWindow  # noqa: E402
from supalink.ui.monitors import Monitors  # noqa: E402
from supalink.ui.tasks import TaskRunner  # noqa: E402
from supalink.ui.theme import Theme, apply_theme  # noqa: E402
from supalink.ui.tray import HealthTray  # noqa: E402

REF = "abcdefghijklmnopqrst"  # an example ref: no such project


class ExampleKeyring(MemorySecretStore):
    """Secrets in memory, labelled as a desktop's keyring is: nothing is written."""

    description = "Secret Service (GNOME Keyring)"  # the service that answers, as the app says


def example_ca(folder: Path) -> str | None:
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    path = folder / "prod-ca-2021.crt"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(folder / "ca.key"), "-out", str(path), "-days", "3650",
         "-subj", "/CN=Example Root 2021 CA"],
        check=True, capture_output=True,
    )  # fmt: skip
    return str(path)


class Shots:
    """Where the grabs go and the size they are taken at (None: each window's own)."""

    out: Path = HERE
    size: tuple[int, int] | None = None


def save(widget: QWidget, name: str) -> None:
    QApplication.processEvents()
    path = Shots.out / name
    widget.grab().save(str(path))
    print(f"wrote {path}")


def sized(widget: QWidget, width: int, height: int) -> None:
    widget.resize(*(Shots.size or (width, height)))


async def settle(seconds: float) -> None:
    await asyncio.sleep(seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--theme", choices=["light", "dark"], default="light")
    parser.add_argument("--size", help="WIDTHxHEIGHT for every window")
    parser.add_argument("--out", type=Path, default=HERE, help="the folder to write to")
    args = parser.parse_args()
    Shots.out = args.out
    if args.size:
        width, height = (int(part) for part in args.size.lower().split("x"))
        Shots.size = (width, height)
    qt_app = QApplication(sys.argv)
    configure_application(qt_app)
    apply_theme(qt_app, Theme(args.theme))
    loop = build_event_loop(qt_app)
    asyncio.set_event_loop(loop)
    server = start_demo_server()
    try:
        with tempfile.TemporaryDirectory(prefix="supalink-screenshots-") as scratch:
            return shoot(qt_app, loop, server, Path(scratch))
    finally:
        server.stop()


def shoot(
    qt_app: QApplication, loop: asyncio.AbstractEventLoop, server: object, scratch: Path
) -> int:
    from supalink.demo import DemoServer

    assert isinstance(server, DemoServer)
    paths = AppPaths.under(scratch)
    keyring = ExampleKeyring()
    repository = ProfileRepository(SettingsFile(paths.settings_file), keyring)
    production = Profile(
        "Production", Mode.SESSION, ref=REF, region="eu-central-1", pooler_index=0,
        sslrootcert=example_ca(scratch), application_name="claude-agent",
        environment="production",
    )  # fmt: skip
    # Made up here, like the demo server's: the screenshots show them masked only.
    example_password = secrets.token_urlsafe(15)
    repository.save(production, example_password)
    repository.save(
        Profile("Staging", Mode.TRANSACTION, ref="zyxwvutsrqponmlkjihg", region="us-east-1",
                pooler_index=1, environment="staging"),
        None, save_password=False,
    )  # fmt: skip
    demo = server.profile().replace(name="Local demo", environment="development")
    repository.save(demo, server.password)
    context = AppContext(repository, TaskRunner(), paths.backup_dir, keyring.description, True)
    context.monitors = Monitors(HealthTray(tray_available=False))

    window = MainWindow(context)
    sized(window, 1120, 820)
    window.show()
    window.profiles.list.setCurrentRow(0)
    save(window, "main-window.png")

    # A failed test: the right server, the wrong password.
    window.profiles.list.setCurrentRow(2)
    window.form.password.setText(secrets.token_urlsafe(15))
    window.test()
    loop.run_until_complete(wait_for(lambda: not context.tasks.is_running(PROBE_TASK)))
    window.form.password.setText(server.password)
    window.dirty = False
    save(window, "failed-test.png")

    # The config diff, against an existing Claude Desktop config.
    home = scratch / "home"
    config = home / ".config" / "Claude" / "claude_desktop_config.json"
    config.parent.mkdir(parents=True)
    config.write_text(
        '{\n  "globalShortcut": "Ctrl+Space",\n  "mcpServers": {\n    "filesystem": {\n'
        '      "command": "npx",\n      "args": ["-y", "@modelcontextprotocol/server-filesystem",'
        ' "~/Documents"]\n    }\n  }\n}\n'
    )
    dialog = ConfigDialog(
        context.tasks, context.backup_dir, Target.from_profile(production, example_password),
        password_in_keyring=True, host=Host("linux", {}, home),
    )  # fmt: skip
    sized(dialog, 900, 640)
    dialog.show()
    save(dialog, "config-diff.png")
    dialog.close()

    # The monitor on the demo database, with notifications flowing.
    target = Target.from_profile(demo, server.password)
    monitor = context.monitors.open(demo.name, target, channels=[DEMO_CHANNEL])
    sized(monitor, 1240, 860)
    notifier = loop.create_task(run_notifier(target.connection_kwargs(), 0.4))
    loop.run_until_complete(settle(9))
    table = monitor.notifications.table
    if table.model().rowCount():
        table.selectRow(table.model().rowCount() - 1)
    save(monitor, "monitor.png")
    notifier.cancel()
    loop.run_until_complete(asyncio.gather(notifier, return_exceptions=True))
    loop.run_until_complete(context.monitors.stop_all())
    window.close()
    loop.close()
    return 0


async def _poll(condition: object, timeout: float) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


def wait_for(condition: object, timeout: float = 30) -> object:
    return _poll(condition, timeout)


if __name__ == "__main__":
    sys.exit(main())
