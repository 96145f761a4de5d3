"""A learner's notebook in its own sandboxed Jupyter kernel.

:class:`Sandbox` copies the notebook into a fresh temporary folder and starts an IPython kernel
there with this interpreter, under limits:

* its own network namespace (no network) and PID namespace (when the kernel ends, every process
  it started ends too), through ``unshare``;
* an unprivileged user id of its own (so it cannot write to the instructor's files, and the
  process limit counts only its own processes), through ``setpriv``;
* resource limits on address space, CPU time, processes and file size, through ``prlimit``;
* ``HOME``, ``TMPDIR`` and the working directory inside the temporary folder, and a short
  environment (no credentials leak in);
* a wall-clock limit per cell and per notebook; a cell past its limit is interrupted.

The OS features are used where available (Linux, as root); :func:`isolation` says which, and the
grader prints it. Afterwards every process of the sandbox is killed and the folder removed.
The kernel talks over Unix sockets in its folder (it has no network), and its stdout and stderr
go to a log file there, never to the instructor's terminal.
"""

from __future__ import annotations

import functools
import os
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SYSTEM_ENV = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "LECTURE_CODE_DATA", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
              "VIRTUAL_ENV")
MARKER = "LECTURE_CODE_SANDBOX"  # in each sandboxed process's environment: MARKER=<TAG value><random token>
TAG = "LECTURE_CODE_SANDBOX_TAG"
MAX_REPLY = 512 * 2**20  # bytes


class KernelGone(RuntimeError):
    """The kernel died or had to be killed; ``reason`` is a status (crashed, timeout, memory)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class Limits:
    """What one submission may use. Times in seconds, sizes in GiB."""

    cell_timeout: float = 600.0
    wall: float = 1800.0
    memory_gb: float = 3.0
    cpu: float | None = None  # default: the wall limit
    processes: int = 128
    file_gb: float = 1.0


@dataclass
class Problem:
    """Something a notebook did that ended or limited its run: a status and a sentence."""

    status: str
    message: str


@dataclass
class Isolation:
    """Which OS features the sandboxes use on this machine."""

    namespaces: bool
    own_user: bool
    limits: bool
    parent_death: bool = False
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        parts = [("no network, own PID namespace" if self.namespaces else "network and PIDs NOT isolated"),
                 ("own unprivileged user" if self.own_user else "runs as the grader's user"),
                 ("memory/CPU/process limits" if self.limits else "NO resource limits")]
        return "sandbox: " + ", ".join(parts) + "".join(f"; {n}" for n in self.notes)


def _works(cmd: list[str], env: dict[str, str] | None = None) -> bool:
    try:
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=60, cwd="/", env=env).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


# An unprivileged user must be able to run this Python, import the kernel and lecture_code, and read the data.
_PROBE = ("import os, ipykernel, lecture_code; d = os.environ.get('LECTURE_CODE_DATA'); "
          "assert d is None or os.access(d, os.R_OK | os.X_OK)")


@functools.lru_cache(maxsize=1)
def isolation() -> Isolation:
    """Which of the OS features this machine allows (checked once, by trying them)."""
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    ns = bool(shutil.which("unshare")) and _works(["unshare", "--net", "--pid", "--fork", "--kill-child", "true"])
    env = {k: os.environ[k] for k in SYSTEM_ENV if k in os.environ}
    user = root and bool(shutil.which("setpriv")) and _works(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", sys.executable, "-c", _PROBE], env)
    lim = bool(shutil.which("prlimit")) and _works(["prlimit", "--as=4294967296", "true"])
    pdeath = bool(shutil.which("setpriv")) and _works(["setpriv", "--pdeathsig", "KILL", "--", "true"])
    notes = []
    if not ns:
        notes.append("`unshare` unavailable: processes are tracked by an environment marker instead")
    if not user:
        notes.append("not root, no `setpriv`, or this Python/lecture_code/data not readable by other users: "
                     "a submission can write wherever the grader can")
    if not lim:
        notes.append("no `prlimit`: no memory, CPU or process limits")
    return Isolation(ns, user, lim, pdeath, notes)


def _uid() -> int:
    """A user id of this sandbox's own (no account needed): unique among sandboxes running at once."""
    return 200_000 + os.getpid() % 1_000_000


class Sandbox:
    """One notebook's kernel. Use as a context manager; see the module docstring."""

    def __init__(self, notebook: Path, limits: Limits, source: bytes | None = None) -> None:
        """``source``: the notebook's bytes as read before grading began (see :func:`.grade.grade_notebook`);
        without it, the file is copied when the kernel starts."""
        self.notebook = notebook
        self.source = source
        self.limits = limits
        self.iso = isolation()
        self.uid = _uid() if self.iso.own_user else None
        self.token = os.environ.get(TAG, "")[:40] + secrets.token_hex(8)  # marks its processes
        self.dir = Path(tempfile.mkdtemp(prefix="lc-grade-"))
        self.work = self.dir / "work"
        self.proc: subprocess.Popen[bytes] | None = None
        self.client: Any = None
        self.gone: KernelGone | None = None
        self.started = 0.0

    # -------------------------------------------------------------------------- start and stop

    def __enter__(self) -> Sandbox:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _command(self, connection_file: Path) -> list[str]:
        cmd = [sys.executable, "-m", "ipykernel_launcher", "-f", str(connection_file), "--HistoryManager.enabled=False"]
        if self.uid is not None:
            # changing user clears the parent-death signal that `unshare --kill-child` set: set it again
            cmd = ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups",
                   *(["--pdeathsig", "KILL"] if self.iso.parent_death else []), "--", *cmd]
        if self.iso.limits:
            lim = self.limits
            cpu = int(lim.cpu or lim.wall)
            cmd = ["prlimit", f"--as={int(lim.memory_gb * 2**30)}", f"--cpu={cpu}:{cpu}", f"--nproc={lim.processes}",
                   f"--fsize={int(lim.file_gb * 2**30)}", "--core=0", "--", *cmd]
        if self.iso.namespaces:
            cmd = ["unshare", "--net", "--pid", "--fork", "--kill-child", "--", *cmd]
        if self.iso.parent_death:  # if the grader itself is killed, the sandbox goes with it
            cmd = ["setpriv", "--pdeathsig", "KILL", "--", *cmd]
        return cmd

    def _env(self) -> dict[str, str]:
        env = {k: os.environ[k] for k in SYSTEM_ENV if k in os.environ}
        home = self.dir / "home"
        env.update(HOME=str(home), TMPDIR=str(self.dir / "tmp"), IPYTHONDIR=str(home / ".ipython"),
                   MPLCONFIGDIR=str(home / ".matplotlib"), JUPYTER_RUNTIME_DIR=str(self.dir / "runtime"),
                   LECTURE_CODE_CACHE=str(self.dir / "cache"), PYTHONDONTWRITEBYTECODE="1",
                   MPLBACKEND="agg", **{MARKER: self.token})
        env.setdefault("OMP_NUM_THREADS", "1")
        return env

    def _start(self) -> None:
        from jupyter_client import BlockingKernelClient
        from jupyter_client.connect import write_connection_file

        for sub in ("work", "home", "tmp", "runtime", "cache", "ipc"):
            (self.dir / sub).mkdir()
        if self.source is None:
            shutil.copy2(self.notebook, self.work / self.notebook.name)
        else:
            (self.work / self.notebook.name).write_bytes(self.source)
        conn, _ = write_connection_file(str(self.dir / "runtime" / "kernel.json"), ip=str(self.dir / "ipc" / "k"),
                                        transport="ipc", key=secrets.token_hex(16).encode())
        if self.uid is not None:
            for p in [self.dir, *self.dir.rglob("*")]:
                os.chown(p, self.uid, self.uid, follow_symlinks=False)
        log = open(self.dir / "kernel.log", "wb")  # kept open for the kernel's lifetime
        try:
            self.proc = subprocess.Popen(self._command(Path(conn)), cwd=self.work, env=self._env(),
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        finally:
            log.close()
        self.started = time.monotonic()
        self.client = BlockingKernelClient()
        self.client.load_connection_file(conn)
        self.client.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
        try:  # a reply larger than this is dropped (the call then times out) rather than filling our memory
            import zmq

            self.client.shell_channel.socket.setsockopt(zmq.MAXMSGSIZE, MAX_REPLY)
        except Exception:  # an older pyzmq or channel class: the reply size is then checked after receiving
            pass
        deadline = time.monotonic() + 120
        while True:
            msg_id = self.client.kernel_info()
            try:
                self._reply(msg_id, min(5.0, max(0.1, deadline - time.monotonic())))
                return
            except KernelGone:
                if self.gone is not None or time.monotonic() > deadline:
                    raise KernelGone("crashed", "the kernel did not start: " + self.log_tail()) from None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None and self.gone is None

    def log_tail(self, n: int = 300) -> str:
        try:
            text = (self.dir / "kernel.log").read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return ""
        return text[-n:].replace("\n", " | ")

    def kill(self) -> None:
        """End the kernel and every process it started."""
        if self.proc is not None and self.proc.poll() is None:
            for child in self._children(self.proc.pid):  # the namespace's init first, so unshare reaps it
                try:
                    os.kill(child, signal.SIGKILL)
                except OSError:
                    pass
            try:
                self.proc.wait(timeout=2 if self.iso.namespaces else 0.01)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except OSError:
                    self.proc.kill()
        if self.proc is not None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        for _ in range(5):
            if not self._sweep():
                break
            time.sleep(0.1)

    @staticmethod
    def _children(pid: int) -> list[int]:
        try:
            return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except (OSError, ValueError):
            return []

    def _sweep(self) -> bool:
        """Kill any process left of this sandbox (its user id, or its environment marker); True if any was found."""
        found = False
        me = os.getpid()
        for entry in Path("/proc").glob("[0-9]*"):
            pid = int(entry.name)
            if pid == me:
                continue
            try:
                if self.uid is not None:
                    ours = entry.stat().st_uid == self.uid
                else:
                    ours = f"{MARKER}={self.token}".encode() in (entry / "environ").read_bytes()
                if ours:
                    found = True
                    os.kill(pid, signal.SIGKILL)
            except (OSError, ValueError):
                continue
        return found

    def close(self) -> None:
        """Kill everything, close the client, remove the folder. Never raises."""
        try:
            if self.client is not None:
                self.client.stop_channels()
        except Exception:  # closing must not fail the grade
            pass
        try:
            self.kill()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    # -------------------------------------------------------------------------- running code

    def _reply(self, msg_id: str, timeout: float) -> dict[str, Any]:
        """The shell reply to ``msg_id``; KernelGone('timeout') after ``timeout`` s or if the kernel dies."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise KernelGone("timeout", f"no reply within {timeout:g} s")
            try:
                msg = self.client.get_shell_msg(timeout=min(0.25, remaining))
            except queue.Empty:
                if not self.alive():
                    raise self._died() from None
                continue
            except Exception:  # a malformed message (the kernel's serialiser was tampered with): skip it
                time.sleep(0.05)
                continue
            if not isinstance(msg, dict) or not isinstance(msg.get("parent_header"), dict):
                continue
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return msg.get("content", {})

    def _died(self) -> KernelGone:
        if self.gone is None:
            code = None if self.proc is None else self.proc.poll()
            how = f"killed by signal {-code}" if code is not None and code < 0 else f"exited with status {code}"
            hint = " (a CPU-time or memory limit?)" if code == -signal.SIGKILL else ""
            self.gone = KernelGone("crashed", f"the kernel stopped: {how}{hint}")
        return self.gone

    def execute(self, code: str, timeout: float, *, silent: bool = False, wall: bool = True,
                expressions: dict[str, str] | None = None) -> dict[str, Any]:
        """Run ``code``; interrupt it after ``timeout`` s (KernelGone('timeout')), kill the kernel if that fails.

        With ``wall``, the notebook's wall-clock limit also caps ``timeout``.
        """
        if not self.alive():
            raise self._died()
        if wall:
            timeout = min(timeout, max(0.0, self.limits.wall - (time.monotonic() - self.started)))
        msg_id = self.client.execute(code, silent=silent, store_history=not silent, user_expressions=expressions,
                                     allow_stdin=False, stop_on_error=False)
        try:
            return self._reply(msg_id, timeout)
        except KernelGone as gone:
            if gone.reason != "timeout":
                raise
        self.interrupt()
        try:
            self._reply(msg_id, 5.0)
        except KernelGone:
            self.kill()
            self.gone = KernelGone("timeout", f"ran longer than {timeout:g} s, did not stop when interrupted, "
                                   "and the kernel was killed")
            raise self.gone from None
        raise KernelGone("timeout", f"ran longer than {timeout:g} s and was interrupted")

    def interrupt(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGINT)
            except OSError:
                pass

    def run_notebook(self) -> list[Problem]:
        """Run every code cell in order (an error does not stop the rest); what went wrong on the way."""
        import nbformat

        problems: list[Problem] = []
        try:
            book = nbformat.read(self.work / self.notebook.name, as_version=4)
        except Exception as err:  # an unreadable notebook is a grade
            return [Problem("error", f"the notebook could not be read: {str(err).splitlines()[0][:200]}")]
        for i, cell in enumerate(book.cells, 1):
            if cell.get("cell_type") != "code" or not cell.get("source", "").strip():
                continue
            try:
                reply = self.execute(cell.source, self.limits.cell_timeout)
            except KernelGone as gone:
                problems.append(Problem(gone.reason, f"cell {i}: {gone}"))
                if not self.alive():
                    break
                continue
            if reply.get("status") == "error":
                ename, evalue = str(reply.get("ename", ""))[:100], str(reply.get("evalue", ""))[:200]
                if "MemoryError" in ename or "allocate memory" in evalue:  # NumPy, Python; torch's allocator
                    problems.append(Problem("memory", f"cell {i} ran out of memory ({ename}: {evalue})"))
                elif ename == "BlockingIOError":
                    problems.append(Problem("processes", f"cell {i} reached the process limit ({evalue})"))
        return problems
