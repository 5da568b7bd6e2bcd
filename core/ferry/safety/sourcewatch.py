"""Notice a source that changed while Ferry read it (the application was still running).

``migrate`` (and so ``preview``) and ``verify`` make a :class:`SourceWatch` when they open the
sources and ask it for :meth:`SourceWatch.changes` once every row is read.

Each file a source reads is fingerprinted before the read and again after it: size,
modification and change times, inode, and for files up to :data:`HASH_LIMIT` a SHA-256 of the
content (a rewrite within one timestamp tick still shows). A SQLite source's ``-wal`` file is
watched too: in WAL mode a writer's commits land there and the main file stays as it was.

What a change means differs by kind, and the message says so: a SQLite source is read inside
one read transaction, so the target holds the consistent snapshot taken when reading began and
the later changes are simply not in it; a JSON, text or .env file replaced the safe way (a new
file renamed over it) was read whole through the handle already open, one version of it; one
rewritten in place is read as a stream, so the rows may mix the content from before and after
the rewrite. Either way the fix is the same — stop the application, then run again (unchanged
rows are not written twice).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..sources import SourceReader

#: files up to this size are hashed on both sides of the read; larger ones are compared by
#: size and times alone (hashing gigabytes twice would double a run's reading)
HASH_LIMIT = 32 * 1024 * 1024

_SNAPSHOT_KINDS = frozenset({"sqlite"})


@dataclass(frozen=True)
class FileState:
    """A file's fingerprint; ``size`` None means the file did not exist."""

    size: int | None
    mtime_ns: int = 0
    ctime_ns: int = 0
    inode: int = 0
    sha256: str | None = None

    @classmethod
    def of(cls, path: Path, hash_limit: int = HASH_LIMIT) -> FileState:
        """Fingerprint ``path`` now (a file that vanished is ``size=None``)."""
        try:
            st = path.stat()
            digest = _sha256(path) if st.st_size <= hash_limit else None
            after = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return cls(None)
        except OSError:
            return cls(-1)  # unreadable now: compared as it is, so a change still shows
        if (after.st_mtime_ns, after.st_size) != (st.st_mtime_ns, st.st_size):
            digest = None  # written while hashing: the times already tell
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, digest)

    def describe(self) -> str:
        """``1234 bytes`` or ``missing``, for messages."""
        return "missing" if self.size is None else f"{self.size} bytes"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class SourceChange:
    """One source file that changed during the read, and what that means for the run."""

    source: str
    path: str
    before: str
    after: str
    #: True when the source was read from one consistent snapshot (SQLite)
    snapshot: bool
    message: str

    def sync_message(self) -> str:
        """What the change means in a ``ferry sync`` cycle: the app is meant to keep writing
        then, and the next cycle reads what this one missed (stopping the app is advice for
        the cutover, not for a cycle)."""
        head = self.message.split(" Stop the application", 1)[0]
        return f"{head} The next sync cycle picks up the later changes."

    def verify_message(self) -> str:
        """What the change means for a verification (which compares while it reads)."""
        return (
            f"source {self.source!r}: {self.path} changed while Ferry verified it; a difference "
            "found may be the application's new writes. Stop the application, then verify again."
        )


def _unchanged(before: FileState, after: FileState, wal: bool) -> bool:
    if wal and not before.size and not after.size:
        return True  # a reader may create an empty -wal; missing and empty are the same
    if before.sha256 is not None and after.sha256 is not None:
        # Same content: a touch or a rewrite with identical bytes changes nothing read.
        return before.sha256 == after.sha256 and before.size == after.size
    return before == after


class SourceWatch:
    """Fingerprints of every file the readers read, taken when the watch is made."""

    def __init__(self, readers: Mapping[str, SourceReader], hash_limit: int = HASH_LIMIT) -> None:
        self.hash_limit = hash_limit
        self._readers = readers
        self._files: list[tuple[str, Path, bool, bool]] = []  # source, path, snapshot, wal
        for name, reader in readers.items():
            snapshot = reader.spec.kind in _SNAPSHOT_KINDS
            for path in reader.files():
                self._files.append((name, path, snapshot, False))
                if snapshot:
                    self._files.append((name, Path(f"{path}-wal"), snapshot, True))
        self._made_ns = time.time_ns()
        self._before = [self._state(p, snapshot, wal) for _, p, snapshot, wal in self._files]

    def _state(self, path: Path, snapshot: bool, wal: bool) -> FileState:
        # A SQLite file is never opened here, only stat'ed: closing any handle of a database
        # drops every POSIX lock this process holds on it, the reader's read lock included,
        # which would let the app write into the snapshot Ferry is reading. Its size and
        # nanosecond times tell a change; the -wal carries no locks and is hashed.
        return FileState.of(path, -1 if snapshot and not wal else self.hash_limit)

    def fingerprint(self, source: str, racy_seconds: float = 2.0) -> list[list[Any]] | None:
        """The states of ``source``'s files when the watch was made, for the journal
        (:mod:`ferry.load.rerun`); None when a file changed within ``racy_seconds`` before that (a
        write in the same clock tick could hide behind equal times)."""
        states = []
        for (name, path, _, _), before in zip(self._files, self._before, strict=True):
            if name != source:
                continue
            if before.size is not None and self._made_ns - before.mtime_ns < racy_seconds * 1e9:
                return None
            states.append([str(path), before.size, before.mtime_ns, before.ctime_ns, before.inode])
        return states or None

    def changes(self) -> list[SourceChange]:
        """The files that differ from their fingerprint now, one entry per source file (a
        SQLite file and its ``-wal`` count as one)."""
        found: dict[tuple[str, str], SourceChange] = {}
        for (name, path, snapshot, wal), before in zip(self._files, self._before, strict=True):
            after = self._state(path, snapshot, wal)
            if _unchanged(before, after, wal):
                continue
            main = Path(str(path).removesuffix("-wal")) if wal else path
            if (name, str(main)) in found:
                continue
            found[(name, str(main))] = SourceChange(
                source=name,
                path=str(main),
                before=before.describe(),
                after=after.describe(),
                snapshot=snapshot,
                message=_message(name, main, before, after, snapshot, wal),
            )
        return [*found.values(), *self._new_files()]

    def _new_files(self) -> list[SourceChange]:
        """Files a source's pattern matches now that it did not match when reading began
        (a new ``heartbeat_*.txt``): their rows are not in this run."""
        known = {(name, path) for name, path, _, _ in self._files}
        changes = []
        for name, reader in self._readers.items():
            if reader.spec.kind in _SNAPSHOT_KINDS:
                continue
            for path in reader.files_now():
                if (name, path) in known:
                    continue
                after = FileState.of(path, self.hash_limit)
                changes.append(
                    SourceChange(
                        source=name,
                        path=str(path),
                        before=FileState(None).describe(),
                        after=after.describe(),
                        snapshot=False,
                        message=(
                            f"source {name!r}: {path} appeared while Ferry read the source "
                            "(it matches the source's path); its rows are not in this run. "
                            "Stop the application, then run again (unchanged rows are not "
                            "written twice)."
                        ),
                    )
                )
        return changes


def _message(
    name: str, path: Path, before: FileState, after: FileState, snapshot: bool, wal: bool
) -> str:
    what = "was written to (its -wal grew)" if wal else _what(before, after)
    head = f"source {name!r}: {path} {what} while Ferry read it"
    if snapshot:
        return (
            f"{head}; the target holds the consistent snapshot taken when reading began, "
            "without the later changes. Stop the application, then run again."
        )
    if after.size is not None and before.size is not None and before.inode != after.inode:
        # Saved the safe way (a new file renamed over the old): the open handle kept reading
        # one whole version.
        return (
            f"{head}; Ferry read one whole version of it, which may not be the newest. Stop "
            "the application, then run again (unchanged rows are not written twice)."
        )
    return (
        f"{head}; the rows read may mix its old and new content. Stop the application, "
        "then run again (unchanged rows are not written twice)."
    )


def _what(before: FileState, after: FileState) -> str:
    if after.size is None:
        return "was removed"
    if before.size is None:
        return "appeared"
    if before.inode != after.inode:
        return "was replaced"
    if before.size != after.size:
        return f"changed ({before.size} -> {after.size} bytes)"
    return "changed"
