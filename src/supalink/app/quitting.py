"""How the app quits: a signal quits it as File ▸ Quit does, without its questions (there
may be no one to answer), and on quitting every window closes and every monitor and task
stops, each bounded, before the loop closes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio

    from PySide6.QtWidgets import QApplication

    from supalink.app.session_keeper import SessionKeeper
    from supalink.ui import AppContext, MainWindow


def install_quit_signals(loop: asyncio.AbstractEventLoop, quit_app: Callable[[], object]) -> None:
    """SIGINT and SIGTERM quit the app cleanly instead of killing it mid-write."""
    import signal

    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, quit_app)
        except (NotImplementedError, RuntimeError):  # Windows: no signal handlers on loops
            signal.signal(signum, lambda *_: quit_app())


def quit_signals_through(loop: asyncio.AbstractEventLoop, window: MainWindow) -> None:
    """Once the main window is up, a signal quits through it: its close asks nothing then."""
    install_quit_signals(loop, window.quit_without_questions)


async def shut_down(
    qt_app: QApplication, context: AppContext, session: SessionKeeper | None = None
) -> None:
    """Save the session, then close every window, stop every monitor and task (each
    bounded): nothing is left holding a connection when the process ends."""
    if session is not None:  # first: a monitor closed now stays in the session
        session.finish()
    # Closing the last window must not quit (and stop the loop) a second time.
    qt_app.setQuitOnLastWindowClosed(False)
    for widget in qt_app.topLevelWidgets():
        widget.close()
    if context.monitors is not None:
        await context.monitors.stop_all()
    await context.tasks.shutdown()
