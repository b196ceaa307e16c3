"""The command line as the tests run it: in this process (`run_cli`), or as a real process
(`spawn_cli`) for the tests that are about the process itself.

`run_cli` calls `supalink.cli.main(argv)` with the streams, environment, working folder and
argv a process would have had, and gives what a process would have given: the exit code and
the bytes written on stdout and stderr (encoded as Python encodes its own streams). Around the
call it puts back what the CLI may change in the process it runs in: the environment, the
working folder, the signal handlers, the handlers and levels of every logger, and keyring's
chosen backend (keyring picks one once per process, from the environment it sees then).

`spawn_cli` starts the `supalink` console script of this interpreter: for what only a
process shows (its argv and environ, signals, a pipe closed under it, a terminal, the real
bytes of its exit).
"""

from __future__ import annotations

import contextlib
import gc
import io
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, TextIO, overload

from supalink.paths import HOME_OVERRIDE_ENV

# The console script installed next to this interpreter (the venv's bin folder).
SUPALINK = str(Path(sys.executable).with_name("supalink"))
RUN_TIMEOUT = 60.0
_SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE]

Environment = Mapping[str, str | None]


def environment_for(
    home: Path | None, env: Environment | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The whole environment of a run: `environ` (else this process's), `env`'s changes on top
    (None removes a variable), and SUPALINK_HOME=`home` when given."""
    result = dict(os.environ if environ is None else environ)
    for key, value in (env or {}).items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    if home is not None:
        result[HOME_OVERRIDE_ENV] = str(home)
    return result


def _as_bytes(stdin: str | bytes | None) -> bytes | None:
    return stdin.encode() if isinstance(stdin, str) else stdin


def _decoded(result: subprocess.CompletedProcess[bytes]) -> subprocess.CompletedProcess[str]:
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode(), result.stderr.decode()
    )


# ----- in this process -------------------------------------------------------------------


@overload
def run_cli(
    *argv: str,
    home: Path | None = ...,
    env: Environment | None = ...,
    environ: Mapping[str, str] | None = ...,
    stdin: str | bytes | None = ...,
    cwd: Path | None = ...,
    timeout: float = ...,
    text: Literal[False] = ...,
) -> subprocess.CompletedProcess[bytes]: ...
@overload
def run_cli(
    *argv: str,
    home: Path | None = ...,
    env: Environment | None = ...,
    environ: Mapping[str, str] | None = ...,
    stdin: str | bytes | None = ...,
    cwd: Path | None = ...,
    timeout: float = ...,
    text: Literal[True],
) -> subprocess.CompletedProcess[str]: ...
def run_cli(
    *argv: str,
    home: Path | None = None,
    env: Environment | None = None,
    environ: Mapping[str, str] | None = None,
    stdin: str | bytes | None = None,
    cwd: Path | None = None,
    timeout: float = RUN_TIMEOUT,
    text: bool = False,
) -> subprocess.CompletedProcess[bytes] | subprocess.CompletedProcess[str]:
    """`supalink ARGV…` in this process: SUPALINK_HOME=`home`, the environment as
    `environment_for` makes it, `stdin` (else an empty, non-terminal stdin, as a process
    started with DEVNULL has), in `cwd`. stdout and stderr as bytes, or decoded with `text`.
    A run past `timeout` is stopped and raises `subprocess.TimeoutExpired`, as
    `subprocess.run` does."""
    result = _run_in_process(
        list(argv), environment_for(home, env, environ), _as_bytes(stdin) or b"", cwd, timeout
    )
    return _decoded(result) if text else result


def _run_in_process(
    argv: list[str], environ: dict[str, str], stdin: bytes, cwd: Path | None, timeout: float
) -> subprocess.CompletedProcess[bytes]:
    from supalink import cli

    out, err = io.BytesIO(), io.BytesIO()
    # As Python sets up a process's streams on pipes under a UTF-8 locale.
    streams = {
        "stdin": io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"),
        "stdout": io.TextIOWrapper(out, encoding="utf-8", errors="strict", write_through=True),
        "stderr": io.TextIOWrapper(
            err, encoding="utf-8", errors="backslashreplace", write_through=True
        ),
    }
    with (
        _process_state_restored(environ, cwd),
        _streams(streams),
        _resources_as_a_process_leaves_them(),
        _bounded(timeout, argv),
    ):
        sys.argv = [SUPALINK, *argv]
        try:
            code: Any = cli.main(argv)
        except SystemExit as exit_:  # argparse's usage errors, --version, --help
            code = exit_.code
        except Exception:  # as the interpreter would say it, and its exit code
            traceback.print_exc()
            code = 1
        if code is None:
            code = 0
        elif not isinstance(code, int):  # sys.exit("words"): printed, exit 1
            print(code, file=sys.stderr)
            code = 1
        for stream in streams.values():
            stream.flush()
    return subprocess.CompletedProcess(["supalink", *argv], code, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def _resources_as_a_process_leaves_them() -> Iterator[None]:
    """A process ignores ResourceWarning (Python's default filters) and its exit closes what
    it left open: keyring's Secret Service backend, for one, leaves its D-Bus connection
    open when it raises KeyringLocked. Here the warning is ignored for the run, and what the
    run left in cycles is collected at its end, not in some later test.

    Only what the run made is looked at: what the test process held before is frozen out of
    that collection (a full one walks some 360,000 objects in a worker that ran the Qt and
    SDK tests: about a second each run on a loaded machine), then unfrozen (both O(1))."""
    frozen_before = gc.get_freeze_count() > 0  # then there is no telling ours from theirs
    if not frozen_before:
        gc.freeze()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            yield
        finally:
            gc.collect()
            if not frozen_before:
                gc.unfreeze()


class _Expired(BaseException):
    """Raised in the main thread when a run's time is up: not an Exception, so that the
    CLI's own handlers let it through, as a process would be killed."""


@contextlib.contextmanager
def _bounded(seconds: float, argv: list[str]) -> Iterator[None]:
    """SIGALRM after `seconds` stops the run (a blocking open or read is interrupted too).
    pytest-timeout's own alarm, when it is due first, is left to fire; when it is due later
    it is set again for the time it had left."""
    outer_handler = signal.getsignal(signal.SIGALRM)
    outer_delay, outer_interval = signal.getitimer(signal.ITIMER_REAL)
    if threading.current_thread() is not threading.main_thread() or (
        outer_delay and outer_delay <= seconds
    ):
        yield
        return
    started = time.monotonic()

    def expired(signum: int, frame: object) -> None:
        raise _Expired

    signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _Expired:
        raise subprocess.TimeoutExpired(["supalink", *argv], seconds) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL if outer_handler is None else outer_handler)
        if outer_delay:
            left = max(outer_delay - (time.monotonic() - started), 0.001)
            signal.setitimer(signal.ITIMER_REAL, left, outer_interval)


@contextlib.contextmanager
def _streams(streams: Mapping[str, TextIO]) -> Iterator[None]:
    saved = {name: getattr(sys, name) for name in streams}
    try:
        for name, stream in streams.items():
            setattr(sys, name, stream)
        yield
    finally:
        for name, stream in saved.items():
            setattr(sys, name, stream)


@contextlib.contextmanager
def _process_state_restored(environ: dict[str, str], cwd: Path | None) -> Iterator[None]:
    """What a run of the CLI may change in the process, as it was before it: each put back
    even when another could not be."""
    with contextlib.ExitStack() as restore:  # callbacks run last first, every one of them
        saved_environ = dict(os.environ)
        restore.callback(_set_environ, saved_environ)
        restore.callback(os.chdir, os.getcwd())
        restore.callback(setattr, sys, "argv", sys.argv)
        for number in _SIGNALS:
            handler = signal.getsignal(number)
            if handler is not None:
                restore.callback(signal.signal, number, handler)
        restore.callback(_restore_collector, gc.isenabled(), gc.get_freeze_count())
        restore.callback(_restore_loggers, _logger_state())
        restore.callback(_set_keyring_choice, _keyring_choice())
        _set_environ(environ)
        if cwd is not None:
            os.chdir(cwd)
        _set_keyring_choice(_NO_CHOICE)  # made afresh, from this run's environment
        yield


def _restore_collector(enabled: bool, frozen: int) -> None:
    """`config verify` freezes the collector before its exit (the SDK's objects would cost
    the interpreter time to collect): here that froze every object of the test process."""
    if gc.get_freeze_count() and not frozen:
        gc.unfreeze()
    (gc.enable if enabled else gc.disable)()


def _set_environ(environ: Mapping[str, str]) -> None:
    os.environ.clear()
    os.environ.update(environ)


# keyring chooses once per process: the backend (keyring.core), and before it the list of
# backends that can work here, each asked once (keyring.backend.get_all_keyring, a `once`).
_KeyringChoice = tuple[object, object, object]
_NOT_LISTED = object()
_NO_CHOICE: _KeyringChoice = (None, _NOT_LISTED, None)


def _keyring_choice() -> _KeyringChoice:
    core, backend = sys.modules.get("keyring.core"), sys.modules.get("keyring.backend")
    if core is None or backend is None:
        return _NO_CHOICE
    listed = getattr(backend.get_all_keyring, "saved_result", _NOT_LISTED)
    return (getattr(core, "_keyring_backend", None), listed, getattr(backend, "_limit", None))


def _set_keyring_choice(choice: _KeyringChoice) -> None:
    core, backend = sys.modules.get("keyring.core"), sys.modules.get("keyring.backend")
    if core is None or backend is None:
        return
    chosen, listed, limit = choice
    core._keyring_backend = chosen  # type: ignore[attr-defined]
    backend._limit = limit  # type: ignore[attr-defined]
    if listed is _NOT_LISTED:
        if hasattr(backend.get_all_keyring, "saved_result"):
            backend.get_all_keyring.reset()
    else:
        backend.get_all_keyring.saved_result = listed


_LoggerState = dict[str, tuple[list[logging.Handler], int, bool, bool]]


def _loggers() -> dict[str, logging.Logger]:
    found = {
        name: logger
        for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    found[""] = logging.getLogger()
    return found


def _logger_state() -> _LoggerState:
    return {
        name: (list(logger.handlers), logger.level, logger.propagate, logger.disabled)
        for name, logger in _loggers().items()
    }


def _restore_loggers(saved: _LoggerState) -> None:
    """Handlers the run added are removed and closed (its log file among them), as a process
    closes them at its exit."""
    for name, logger in _loggers().items():
        handlers, level, propagate, disabled = saved.get(name, ([], logging.NOTSET, True, False))
        for handler in list(logger.handlers):
            if handler not in handlers:
                logger.removeHandler(handler)
                with contextlib.suppress(OSError, ValueError):  # as logging.shutdown at exit
                    handler.flush()
                    handler.close()
        for handler in handlers:
            if handler not in logger.handlers:
                logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
        logger.disabled = disabled


# ----- as a process ----------------------------------------------------------------------


@overload
def spawn_cli(
    *argv: str,
    home: Path | None = ...,
    env: Environment | None = ...,
    environ: Mapping[str, str] | None = ...,
    stdin: str | bytes | None = ...,
    cwd: Path | None = ...,
    timeout: float = ...,
    through: Callable[[list[str]], list[str]] | None = ...,
    text: Literal[False] = ...,
) -> subprocess.CompletedProcess[bytes]: ...
@overload
def spawn_cli(
    *argv: str,
    home: Path | None = ...,
    env: Environment | None = ...,
    environ: Mapping[str, str] | None = ...,
    stdin: str | bytes | None = ...,
    cwd: Path | None = ...,
    timeout: float = ...,
    through: Callable[[list[str]], list[str]] | None = ...,
    text: Literal[True],
) -> subprocess.CompletedProcess[str]: ...
def spawn_cli(
    *argv: str,
    home: Path | None = None,
    env: Environment | None = None,
    environ: Mapping[str, str] | None = None,
    stdin: str | bytes | None = None,
    cwd: Path | None = None,
    timeout: float = RUN_TIMEOUT,
    through: Callable[[list[str]], list[str]] | None = None,
    text: bool = False,
) -> subprocess.CompletedProcess[bytes] | subprocess.CompletedProcess[str]:
    """The `supalink` console script as a process, with the same arguments as `run_cli`;
    stdin is DEVNULL unless given. `through` makes the command line that starts it (e.g.
    `without_root_powers`)."""
    command = spawn_argv(*argv)
    result = subprocess.run(
        command if through is None else through(command),
        input=_as_bytes(stdin),
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        timeout=timeout,
        cwd=cwd,
        env=environment_for(home, env, environ),
        check=False,
    )
    return _decoded(result) if text else result


def spawn_argv(*argv: str) -> list[str]:
    """The command line of the console script: for tests that start it themselves (Popen)."""
    return [SUPALINK, *argv]
