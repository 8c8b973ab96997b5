"""Reading an uploaded file in a child process that cannot hurt the app.

A spreadsheet reader written in Rust aborts the whole process when it cannot
allocate (a 5 KB workbook with one cell at XFD1048576 asks for 512 GB), and a
decoder can spin for minutes on a crafted file. So every upload is read in a
child process with an address-space limit (``resource.setrlimit``) and a
wall-clock limit: whatever happens there, the app process gets back either the
result or one ``RejectedFile`` that says what is wrong and what to do.

The child is ``python -m cetracker.files.bounded``: it reads one pickled job
from stdin, runs one of the ``TASKS`` and writes one pickled reply to stdout.
One child is kept started ahead (a "spare") so that an upload does not wait
for Python to start; each child reads one file and exits.
"""

from __future__ import annotations

import atexit
import importlib
import os
import pickle
import resource
import selectors
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cetracker.errors import RejectedFile

MEMORY_LIMIT = 1 << 30  # bytes of address space for a child: a roster needs a fraction
TIME_LIMIT = 60.0  # seconds a child may take before it is killed
# What a child may run, by name: module and function (imported in the child only).
TASKS = {
    "first_sheet": ("cetracker.files.spreadsheets", "read_first_sheet"),
    "sheets": ("cetracker.files.spreadsheets", "read_sheets"),
    "diagnose": ("cetracker.files.spreadsheets", "diagnose"),
    "picture": ("cetracker.files.pictures", "inspect"),
    "preview": ("cetracker.files.pictures", "preview"),
}
_WARM_MODULE = "cetracker.files.spreadsheets"  # imported by a spare before its job comes
# Two children at once at most: two users' uploads never take more than 2 GiB together.
_RUNNING = threading.BoundedSemaphore(2)
_ROOT = Path(__file__).resolve().parents[2]


class UnreadableFile(RejectedFile):
    """The child died, ran out of time or failed: ``cause`` is "memory", "time" or "bug"."""

    def __init__(self, message: str, cause: str, detail: str = "") -> None:
        super().__init__(message)
        self.cause = cause
        self.detail = detail


@dataclass
class Usage:
    """What the last child of this thread used: peak memory (bytes) and seconds."""

    peak_bytes: int = 0
    seconds: float = 0.0
    outcome: str = ""


_last = threading.local()


def last_usage() -> Usage:
    """The peak memory and time of the child that last ran in this thread (for benchmarks)."""
    found: Usage = getattr(_last, "usage", Usage())
    return found


# -- the parent's side ---------------------------------------------------------------------------


class _Spares:
    """One child started ahead, waiting for its job on stdin; and the children at work."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spare: subprocess.Popen[bytes] | None = None
        self._busy: set[subprocess.Popen[bytes]] = set()
        self.wanted = True  # a spare after each job (``no_spares``: not)

    def take(self) -> subprocess.Popen[bytes]:
        with self._lock:
            child, self._spare = self._spare, None
        if child is None or child.poll() is not None:
            child = _start()
        with self._lock:
            self._busy.add(child)
        return child

    def done(self, child: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._busy.discard(child)

    def refill(self) -> None:
        """Start the next spare: after a job, so that its start does not slow the job."""
        with self._lock:
            if self._spare is None and self.wanted:
                self._spare = _start()

    def close(self) -> None:
        """At exit: the spare goes, and so does a child still reading for a ``Started`` task
        nobody waits for any more (a command that stopped on another error); no spare is
        started after this."""
        with self._lock:
            self.wanted = False
            child, self._spare = self._spare, None
            busy, self._busy = self._busy, set()
        for other in busy:
            _kill(other)  # still ours to kill: run() forgets a child before it reaps it
            try:
                other.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
        if child is not None:
            _kill(child)  # it holds no job
            child.wait()
            for stream in (child.stdin, child.stdout):
                if stream is not None:
                    stream.close()


def _start() -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), env.get("PYTHONPATH")) if p)
    return subprocess.Popen(
        [sys.executable, "-m", "cetracker.files.bounded"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=_ROOT,
        start_new_session=True,  # a Ctrl+C in a terminal goes to the CLI, not to the child
    )


_spares = _Spares()


def stop_children() -> None:
    """The process is ending: the spare goes, and so does any child still at work (at exit,
    or earlier by a command that ends its process itself)."""
    _spares.close()


atexit.register(stop_children)


def no_spares() -> None:
    """This process reads a file or two and ends (the command line): start no child ahead
    of a next job that will not come (its start would take the other core from the work)."""
    _spares.wanted = False


def run(
    task: str,
    data: bytes,
    filename: str,
    *args: Any,
    memory: int = MEMORY_LIMIT,
    seconds: float = TIME_LIMIT,
    on_memory: Callable[[], str | None] | None = None,
) -> Any:
    """Run ``TASKS[task](data, filename, *args)`` in a bounded child; return its result.

    A ``RejectedFile`` raised in the child is raised here as it was. A child that ran out
    of memory, out of time or into a bug becomes ``UnreadableFile``; for memory the
    message is ``on_memory()`` when given (it may look into the file in a child of its own).
    """
    _known(task)
    job = pickle.dumps((TASKS[task], data, filename, args, memory, seconds), protocol=5)
    started = time.perf_counter()
    with _RUNNING:
        child = _spares.take()
        watch = _Watch(child.pid)
        try:
            reply = _exchange(child, job, time.monotonic() + seconds, watch)
        except TimeoutError:
            _kill(child)
            reply = b""
        finally:
            _spares.done(child)  # before it is reaped: its pid is then no longer ours to kill
            code = child.wait()
            for stream in (child.stdin, child.stdout):
                if stream is not None:
                    stream.close()
    usage = Usage(watch.peak, time.perf_counter() - started)
    _spares.refill()
    _last.usage = usage
    try:
        kind, value = pickle.loads(reply) if reply else ("died", code)
    except Exception:
        kind, value = "died", code
    if kind == "died" and (code == -signal.SIGXCPU or usage.seconds >= seconds):
        kind = "time"
    elif kind == "died" and code in (-signal.SIGSEGV, -signal.SIGBUS, -signal.SIGILL):
        kind, value = "bug", f"child ended with signal {-code}"
    elif kind == "died":
        kind, value = "memory", f"child ended with {code}"
    usage.outcome = kind
    if kind == "ok":
        return value
    if kind == "rejected":
        raise RejectedFile(str(value))
    if kind == "bug":
        raise UnreadableFile(_could_not_read(filename), "bug", str(value))
    if kind == "time":
        raise UnreadableFile(
            f"{filename} took more than {seconds:.0f} seconds to read, far longer than a "
            "spreadsheet of rows needs. Copy the rows into a new file (the roster template), "
            "save it, and use that file.",
            "time",
        )
    message = on_memory() if on_memory else None
    if on_memory:  # what the file cost is both children's: the reader's and the explainer's
        explainer = last_usage()
        usage.peak_bytes = max(usage.peak_bytes, explainer.peak_bytes)
        usage.seconds = time.perf_counter() - started
        usage.outcome = kind
        _last.usage = usage
    raise UnreadableFile(message or _too_big(filename), "memory", str(value or ""))


def _known(task: str) -> None:
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}")


class Started:
    """A task running in a bounded child, waited for on a thread of this process: the
    caller goes on meanwhile (the command line opens its database while the child reads,
    on the other core). ``result()`` waits, then returns what ``run`` returns or raises
    what it raises; ``last_usage`` is then the child's."""

    def __init__(self, task: str, data: bytes, filename: str, *args: Any, **limits: Any) -> None:
        _known(task)  # here, on the caller's thread
        self._value: Any = None
        self._error: BaseException | None = None
        self._usage = Usage()
        self._thread = threading.Thread(
            target=self._work,
            args=(task, data, filename, args, limits),
            name="cetracker-bounded",
            daemon=True,
        )
        self._thread.start()

    def _work(
        self, task: str, data: bytes, filename: str, args: tuple[Any, ...], limits: Any
    ) -> None:
        try:
            self._value = run(task, data, filename, *args, **limits)
        except BaseException as exc:  # handed over whole, as run would have raised it
            self._error = exc
        finally:
            self._usage = last_usage()

    def result(self) -> Any:
        self._thread.join()
        _last.usage = self._usage
        if self._error is not None:
            raise self._error
        return self._value


class _Watch:
    """The child's peak resident memory (VmHWM), read from /proc while it runs."""

    def __init__(self, pid: int) -> None:
        self.path = f"/proc/{pid}/status"
        self.peak = 0

    def look(self) -> None:
        try:
            with open(self.path, "rb") as status:
                for line in status:
                    if line.startswith(b"VmHWM:"):
                        self.peak = max(self.peak, int(line.split()[1]) * 1024)
                        return
        except (OSError, ValueError):
            pass


def _exchange(child: subprocess.Popen[bytes], job: bytes, deadline: float, watch: _Watch) -> bytes:
    """Send the job, then read the reply until the child closes its output or time is up."""
    assert child.stdin is not None and child.stdout is not None
    try:
        child.stdin.write(job)
        child.stdin.close()
    except (BrokenPipeError, OSError):
        pass  # it died; its exit code tells why
    chunks = []
    fd = child.stdout.fileno()
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready = selector.select(min(left, 0.02))
            watch.look()
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    child.stdout.close()
    return b"".join(chunks)


def _could_not_read(filename: str) -> str:
    return (
        f"{filename} could not be read. Open it in Excel or LibreOffice, save it again as .xlsx, "
        "and use the new file."
    )


def _too_big(filename: str) -> str:
    return (
        f"{filename} needs more than {MEMORY_LIMIT // 2**20:,} MB of memory to open, far more "
        "than a spreadsheet of rows needs: it may reach far beyond its rows or unpack to "
        "gigabytes. Copy the rows into a new workbook (the roster template), save it, and use "
        "that file."
    )


def _kill(child: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        child.kill()


# -- the child's side ----------------------------------------------------------------------------


def _limit(memory: int, seconds: float) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # an abort leaves no core file behind
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(used.ru_utime + used.ru_stime + seconds) + 2
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))


def _child() -> None:
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print() must not corrupt the reply
    importlib.import_module(_WARM_MODULE)
    job = sys.stdin.buffer.read()
    if not job:
        return  # a spare the parent no longer needs
    (module, name), data, filename, args, memory, seconds = pickle.loads(job)
    del job
    _limit(memory, seconds)
    try:
        result = ("ok", getattr(importlib.import_module(module), name)(data, filename, *args))
    except RejectedFile as exc:
        result = ("rejected", exc.message)
    except MemoryError:
        result = ("memory", None)
    except RecursionError:
        result = ("memory", None)
    except Exception:
        result = ("bug", traceback.format_exc(limit=20))
    del data
    try:
        reply = pickle.dumps(result, protocol=5)
    except MemoryError:
        reply = pickle.dumps(("memory", None))
    out.write(reply)
    out.flush()
    out.close()


if __name__ == "__main__":
    _child()
    # The reply is sent: end now. Python's way out would free the file's cells one object
    # at a time (40 ms for a 100,000-row roster) while the parent waits for the exit.
    os._exit(0)
