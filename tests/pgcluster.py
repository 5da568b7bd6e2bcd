"""A PostgreSQL server for Ferry's tests and benchmarks, found or started on demand.

:func:`provide_server` picks one according to ``FERRY_TEST_PG_MODE``:

``auto`` (default)
    the first that works, in this order: ``url`` when ``FERRY_TEST_PG_URL`` is set, else
    ``cluster``, else ``pgserver``.
``url``
    the server ``FERRY_TEST_PG_URL`` points at, used as is
    (``postgresql://postgres@127.0.0.1:5432/postgres``; it may hold a password). The user
    must be allowed to create databases.
``cluster``
    a throwaway cluster made with the system's ``initdb``/``pg_ctl`` (found on ``PATH`` or
    under ``/usr/lib/postgresql/*/bin``) in a temporary folder, listening on 127.0.0.1 on a
    free port with trust authentication and fsync off. Stopped (``pg_ctl stop -m immediate``)
    and deleted when the session ends, also on failure, Ctrl+C or interpreter exit (atexit).
``pgserver``
    the same, with the PostgreSQL binaries bundled in the ``pgserver`` wheel (installed by the
    ``test`` extra on Python < 3.13). When not running as root the wheel's own
    ``pgserver.get_server()`` starts it (listening on a Unix socket only, so the URL is
    ``postgresql://postgres@/postgres?host=/socket/dir``).

initdb and postgres refuse to run as root: as root the cluster is owned by and run as the
account named by ``FERRY_TEST_PG_USER`` (default ``nobody``).

From a script (a benchmark)::

    with provide_server() as server:
        url = create_database(server.url, "bench")
        ...
        drop_database(server.url, "bench")

Nothing here imports pytest; ``tests/conftest.py`` turns :class:`NoServer` into a skip, or a
failure in CI.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

MODES = ("auto", "url", "cluster", "pgserver")
#: how long initdb, pg_ctl start and pg_ctl stop may take each
COMMAND_TIMEOUT = 120.0
_DEBIAN_BINDIRS = "/usr/lib/postgresql/*/bin"


class NoServer(Exception):
    """No PostgreSQL server could be provided; the message says why and how to get one.

    ``required`` is True when the mode was asked for explicitly (``FERRY_TEST_PG_MODE``), so
    not getting it is an error rather than a reason to skip.
    """

    def __init__(self, message: str, *, required: bool = False) -> None:
        super().__init__(message)
        self.required = required


class ClusterError(RuntimeError):
    """initdb or pg_ctl failed; the message holds their output and the server log's end."""


@dataclass
class PgServer:
    """A reachable PostgreSQL server: its admin ``url`` (database ``postgres``) and origin."""

    url: str
    #: ``url``, ``cluster`` or ``pgserver``
    how: str
    #: one line for reports: version and where it runs
    description: str
    #: seconds it took to provide (initdb + start for a cluster)
    start_seconds: float = 0.0
    _stopper: Callable[[], None] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def stop(self) -> None:
        """Stop the server and delete its files if this module started it; safe to repeat."""
        with self._lock:
            stopper, self._stopper = self._stopper, None
        if stopper is not None:
            stopper()

    def __enter__(self) -> PgServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# --------------------------------------------------------------------------- choosing


def provide_server(mode: str | None = None) -> PgServer:
    """A server as ``mode`` (default: ``FERRY_TEST_PG_MODE``, else ``auto``) says.

    Raises :class:`NoServer` listing what was tried when none can be had.
    """
    mode = (mode or os.environ.get("FERRY_TEST_PG_MODE") or "auto").strip().lower()
    if mode not in MODES:
        raise NoServer(
            f"FERRY_TEST_PG_MODE={mode!r} is not one of {', '.join(MODES)}", required=True
        )
    required = mode != "auto"
    url = os.environ.get("FERRY_TEST_PG_URL", "").strip()
    if mode == "url" or (mode == "auto" and url):
        if not url:
            raise NoServer("FERRY_TEST_PG_MODE=url but FERRY_TEST_PG_URL is not set", required=True)
        return PgServer(url=url, how="url", description=f"FERRY_TEST_PG_URL ({_safe_url(url)})")

    attempts: list[tuple[str, Callable[[], PgServer]]] = []
    if mode in ("auto", "cluster"):
        attempts.append(("cluster", start_system_cluster))
    if mode in ("auto", "pgserver"):
        attempts.append(("pgserver", start_pgserver))
    reasons: list[str] = []
    for name, start in attempts:
        try:
            return start()
        except (NoServer, ClusterError, OSError, subprocess.SubprocessError) as exc:
            reasons.append(f"{name}: {exc}")
    raise NoServer(
        "no PostgreSQL server for the tests. Tried " + "; ".join(reasons) + ". "
        "Set FERRY_TEST_PG_URL=postgresql://user@host:port/postgres (a user that may create "
        "databases), install PostgreSQL (initdb and pg_ctl, e.g. apt install postgresql), "
        "or `pip install pgserver` (Python < 3.13).",
        required=required,
    )


def start_system_cluster() -> PgServer:
    """A throwaway cluster run by the system's PostgreSQL binaries."""
    bindir = find_bindir()
    if bindir is None:
        raise NoServer(f"initdb and pg_ctl are neither on PATH nor under {_DEBIAN_BINDIRS}")
    return start_cluster(bindir, how="cluster")


def start_pgserver() -> PgServer:
    """A throwaway cluster run by the PostgreSQL binaries of the ``pgserver`` wheel."""
    try:
        with warnings.catch_warnings():
            # platformdirs warns at import when XDG_RUNTIME_DIR is unset; harmless here.
            warnings.simplefilter("ignore")
            import pgserver  # type: ignore[import-not-found, unused-ignore]
    except ImportError as exc:
        raise NoServer(
            "the pgserver wheel is not installed (pip install pgserver; Python < 3.13)"
        ) from exc
    if os.geteuid() == 0:
        # As root, pgserver would add a system user and open up every parent folder of the
        # wheel and the data folder; its binaries run as FERRY_TEST_PG_USER instead.
        bindir = Path(pgserver.__file__).parent / "pginstall" / "bin"
        if not _has_binaries(bindir):
            raise NoServer(f"the pgserver wheel has no initdb/pg_ctl in {bindir}")
        return start_cluster(bindir, how="pgserver")
    return _start_pgserver_api(pgserver)


def _start_pgserver_api(pgserver: object) -> PgServer:
    started = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="ferry-pgserver-"))
    try:
        server = pgserver.get_server(root / "data", cleanup_mode="delete")  # type: ignore[attr-defined]
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    elapsed = time.monotonic() - started
    # get_uri() gives postgresql://postgres:@/postgres?host=...; drop the empty password.
    url = str(server.get_uri()).replace("postgres:@", "postgres@", 1)

    def stop() -> None:
        try:
            server.cleanup()
        finally:
            shutil.rmtree(root, ignore_errors=True)

    result = PgServer(
        url=url,
        how="pgserver",
        description=f"pgserver.get_server() in {root}",
        start_seconds=elapsed,
        _stopper=stop,
    )
    atexit.register(result.stop)
    return result


# --------------------------------------------------------------------------- the cluster


def find_bindir() -> Path | None:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``: from PATH (symlinks
    resolved), else the newest ``/usr/lib/postgresql/<version>/bin``; None if neither."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        candidate = Path(initdb).resolve().parent
        if _has_binaries(candidate):
            return candidate
    found = [p for p in Path("/").glob(_DEBIAN_BINDIRS.lstrip("/")) if _has_binaries(p)]
    found.sort(key=lambda p: _version_key(p.parent.name), reverse=True)
    return found[0] if found else None


def _has_binaries(bindir: Path) -> bool:
    return all(os.access(bindir / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres"))


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)) or (0,)


@dataclass(frozen=True)
class _RunAs:
    """The account commands run as: None fields mean the current one."""

    uid: int | None = None
    gid: int | None = None
    name: str = ""


def _run_as() -> _RunAs:
    if os.geteuid() != 0:
        return _RunAs()
    name = os.environ.get("FERRY_TEST_PG_USER", "nobody")
    try:
        entry = pwd.getpwnam(name)
    except KeyError as exc:
        raise NoServer(
            f"running as root, initdb needs an unprivileged user and {name!r} does not exist "
            "(set FERRY_TEST_PG_USER)"
        ) from exc
    return _RunAs(entry.pw_uid, entry.pw_gid, name)


def _temp_parent(run_as: _RunAs) -> str | None:
    """Where the cluster folder goes: the usual temp folder, unless the unprivileged user
    cannot reach it (a TMPDIR under /root), then /tmp."""
    if run_as.uid is None:
        return None
    parent = Path(tempfile.gettempdir()).resolve()
    for folder in (parent, *parent.parents):
        if not folder.stat().st_mode & 0o001:
            return "/tmp"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_cluster(bindir: Path, *, how: str = "cluster") -> PgServer:
    """initdb a new cluster in a temporary folder and start it on a free 127.0.0.1 port.

    The result's :meth:`PgServer.stop` (also registered with atexit) stops it with
    ``pg_ctl stop -m immediate`` and deletes the folder. Raises :class:`ClusterError`.
    """
    started = time.monotonic()
    run_as = _run_as()
    root = Path(tempfile.mkdtemp(prefix="ferry-pg-", dir=_temp_parent(run_as)))
    cluster = _Cluster(bindir, root, run_as)
    try:
        if run_as.uid is not None and run_as.gid is not None:
            os.chown(root, run_as.uid, run_as.gid)
        cluster.initdb()
        port = cluster.start()
    except BaseException:  # also KeyboardInterrupt: never leave a server or a folder behind
        cluster.stop()
        raise
    elapsed = time.monotonic() - started
    version = cluster.version()
    user = f" as {run_as.name}" if run_as.name else ""
    server = PgServer(
        url=f"postgresql://postgres@127.0.0.1:{port}/postgres",
        how=how,
        description=f"{version} from {bindir}, port {port}{user}, in {root}",
        start_seconds=elapsed,
        _stopper=cluster.stop,
    )
    atexit.register(server.stop)
    return server


class _Cluster:
    """initdb / pg_ctl for one data folder, run as the unprivileged user when root."""

    def __init__(self, bindir: Path, root: Path, run_as: _RunAs) -> None:
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.log = root / "postgres.log"
        self.run_as = run_as
        self.started = False

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        try:
            result = subprocess.run(
                args,
                cwd=self.root,  # postgres wants a working folder its user can enter
                env=env,
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT,
                stdin=subprocess.DEVNULL,
                user=self.run_as.uid,
                group=self.run_as.gid,
                extra_groups=[] if self.run_as.uid is not None else None,
            )
        except subprocess.TimeoutExpired as exc:
            raise ClusterError(f"{Path(args[0]).name} took over {COMMAND_TIMEOUT:.0f} s") from exc
        if check and result.returncode != 0:
            raise ClusterError(
                f"{Path(args[0]).name} failed (exit {result.returncode}): "
                f"{(result.stderr or result.stdout).strip()}{self._log_tail()}"
            )
        return result

    def _log_tail(self) -> str:
        try:
            lines = self.log.read_text(errors="replace").strip().splitlines()[-15:]
        except OSError:
            return ""
        return ("\nserver log:\n" + "\n".join(lines)) if lines else ""

    def version(self) -> str:
        result = self._run(str(self.bindir / "postgres"), "--version", check=False)
        return result.stdout.strip() or "PostgreSQL"

    def initdb(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        )

    def start(self, attempts: int = 3) -> int:
        """Start on a free port (another one if it was taken meanwhile); return the port."""
        for attempt in range(attempts):
            port = _free_port()
            options = " ".join(
                [
                    "-c listen_addresses=127.0.0.1",
                    f"-p {port}",
                    f"-k {shlex.quote(str(self.root))}",
                    "-c fsync=off",
                    "-c synchronous_commit=off",
                    "-c full_page_writes=off",
                ]
            )
            self.started = True
            ctl = str(self.bindir / "pg_ctl")
            result = self._run(
                ctl, "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                "-o", options, "start", check=False,
            )  # fmt: skip
            if result.returncode == 0:
                return port
            log = self._log_tail()
            if attempt + 1 < attempts and "already in use" in log:
                continue
            raise ClusterError(
                f"pg_ctl start failed (exit {result.returncode}): "
                f"{(result.stderr or result.stdout).strip()}{log}"
            )
        raise AssertionError("unreachable")

    def stop(self) -> None:
        """Stop the server (immediate mode) if it was started, then delete the folder."""
        try:
            if self.started and (self.data / "postmaster.pid").exists():
                try:
                    result = self._run(
                        str(self.bindir / "pg_ctl"), "-D", str(self.data),
                        "stop", "-m", "immediate", "-w", "-t", "30", check=False,
                    )  # fmt: skip
                    stopped = result.returncode == 0
                except ClusterError:
                    stopped = False
                if not stopped:
                    self._kill_postmaster()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def _kill_postmaster(self) -> None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((self.data / "postmaster.pid").read_text().splitlines()[0])
            os.kill(pid, signal.SIGKILL)


# --------------------------------------------------------------------------- databases


def with_database(url: str, database: str) -> str:
    """``url`` pointing at ``database`` instead (user, host, port and query kept)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


def without_password(url: str) -> tuple[str, str | None]:
    """``url`` minus its password, and the password (None when it had none)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url, None
    userinfo, _, hostinfo = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}@{hostinfo}")), parts.password


def _safe_url(url: str) -> str:
    bare, password = without_password(url)
    return bare if password is None else bare.replace("@", ":***@", 1)


@contextlib.contextmanager
def _admin(server_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as conn:
        yield conn


def create_database(server_url: str, name: str) -> str:
    """Create database ``name`` on the server and return its URL."""
    with _admin(server_url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_database(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    """Drop database ``name`` (closing its open connections); no error when it is gone."""
    with _admin(server_url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
