"""The app's event loop is selector-based on every OS, so psycopg's async mode works on Windows.

psycopg refuses asyncio's ProactorEventLoop, and qasync's default `QEventLoop` is its IOCP
(proactor) loop when `os.name == "nt"`. Windows is not available here, so two checks stand in:
the loop built on this OS is a real `asyncio.SelectorEventLoop`, and the source of qasync and of
`build_event_loop` show that the selector class is defined and chosen on every OS.
"""

from __future__ import annotations

import ast
import asyncio
import gc
import inspect
import textwrap
import threading
import weakref
from typing import Any

import qasync

from supalink.app.qt import build_event_loop


def test_built_loop_is_qasyncs_selector_loop(qapp: Any) -> None:
    loop = build_event_loop(qapp)
    try:
        assert isinstance(loop, qasync.QSelectorEventLoop)
        assert isinstance(loop, asyncio.SelectorEventLoop)
        assert not any("Proactor" in cls.__name__ for cls in type(loop).__mro__)
    finally:
        loop.close()


def test_build_event_loop_names_the_selector_class_without_asking_the_os() -> None:
    from supalink.ui import event_loop

    source = textwrap.dedent(inspect.getsource(build_event_loop))
    source += textwrap.dedent(inspect.getsource(event_loop.selector_loop_class))
    tree = ast.parse(source)
    attributes = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    classes = [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    assert [ast.unparse(base) for cls in classes for base in cls.bases] == [
        "qasync.QSelectorEventLoop"
    ]
    # No branch on the OS and no use of qasync's OS-dependent default loop.
    assert not {"platform", "name", "QEventLoop", "QIOCPEventLoop"} & attributes
    assert not {"sys", "os", "platform"} & names


def _module_level_assignments(tree: ast.Module) -> dict[str, ast.expr]:
    return {
        target.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def test_qasync_defines_the_selector_loop_on_every_os_and_the_proactor_only_on_windows() -> None:
    tree = ast.parse(inspect.getsource(qasync))
    # Unconditional, top-level: the selector loop and the module it comes from exist on Windows.
    top = _module_level_assignments(tree)
    assert "QSelectorEventLoop" in top
    assert "_SelectorEventLoop" in ast.unparse(top["QSelectorEventLoop"])
    unix_import = [
        node
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        and node.module == "_unix"
        and [alias.name for alias in node.names] == ["_SelectorEventLoop"]
    ]
    assert unix_import, "qasync no longer imports its selector loop unconditionally"
    # The default QEventLoop is the proactor one when os.name == "nt": why the app avoids it.
    windows_branch = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "os.name == 'nt'"
    )
    branch = _module_level_assignments(ast.Module(body=windows_branch.body, type_ignores=[]))
    assert ast.unparse(branch["QEventLoop"]) == "QIOCPEventLoop"
    assert "_ProactorEventLoop" in ast.unparse(branch["QIOCPEventLoop"])
    assert issubclass(qasync.QSelectorEventLoop, asyncio.SelectorEventLoop)


def test_work_from_other_threads_runs_on_the_loop_in_order_and_none_is_lost(qapp: Any) -> None:
    """`call_soon_threadsafe` from plain threads (how executor results come back): every
    call runs, on the main thread, in each thread's order; a cancelled handle does not run."""
    loop = build_event_loop(qapp)
    main = threading.get_ident()
    seen: dict[int, list[int]] = {}
    wrong_thread: list[int] = []
    per_thread = 2000

    def note(sender: int, n: int) -> None:
        if threading.get_ident() != main:
            wrong_thread.append(n)
        seen.setdefault(sender, []).append(n)

    def send(sender: int) -> None:
        for n in range(per_thread):
            loop.call_soon_threadsafe(note, sender, n)
        loop.call_soon_threadsafe(note, sender, -1).cancel()

    async def scenario() -> None:
        threads = [threading.Thread(target=send, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()

        def join_all() -> None:
            for thread in threads:
                thread.join()

        await asyncio.to_thread(join_all)
        deadline = loop.time() + 30
        while sum(map(len, seen.values())) < 4 * per_thread and loop.time() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # a cancelled call would have run by now

    try:
        loop.run_until_complete(scenario())
    finally:
        loop.close()
    assert wrong_thread == []
    assert seen == {i: list(range(per_thread)) for i in range(4)}


def test_executor_work_runs_on_python_threads_not_qthreads(qapp: Any) -> None:
    """qasync's default executor's workers are QThreads (Python sees them as "Dummy-N")."""
    loop = build_event_loop(qapp)

    async def scenario() -> str:
        return await loop.run_in_executor(None, lambda: threading.current_thread().name)

    try:
        thread = loop.run_until_complete(scenario())
    finally:
        loop.close()
    assert thread.startswith("supalink-worker")


def test_garbage_in_cycles_dies_on_the_main_thread_not_in_a_worker(qapp: Any) -> None:
    """A worker thread that allocates would run the collector there, and a Qt object left
    in a cycle would be deleted on the wrong thread (a segfault in Qt's timers)."""
    loop = build_event_loop(qapp)
    assert not gc.isenabled()
    main = threading.get_ident()
    died_on: list[int] = []

    class Node:
        cycle: Any = None

    async def scenario() -> list[int]:
        node = Node()
        node.cycle = node
        weakref.finalize(node, lambda: died_on.append(threading.get_ident()))
        del node
        # Enough tracked objects to cross every threshold of the automatic collector.
        kept: list[list[object]] = await asyncio.to_thread(lambda: [[] for _ in range(100_000)])
        # The main thread's collector timer may fire while the worker allocates (a slow,
        # loaded machine): a death there is right; only one in another thread is wrong.
        in_worker = [thread for thread in died_on if thread != main]
        deadline = loop.time() + 10
        while not died_on and loop.time() < deadline:
            await asyncio.sleep(0.05)
        del kept
        return in_worker

    try:
        in_worker = loop.run_until_complete(scenario())
    finally:
        loop.close()
    assert in_worker == []
    assert died_on == [main]
