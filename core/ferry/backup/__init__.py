"""Backups taken before the first write: creating, checking, pruning; PostgreSQL dumps
and SQLite file copies.

The public names of the former ``ferry.backup`` module load from here on
first use (PEP 562), so ``import ferry.backup`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazyexports import lazy_exports

if TYPE_CHECKING:
    from .create import (
        MANIFEST_FORMAT,
        MANIFEST_NAME,
        Backup,
        backup_root,
        create_backup,
        new_backup_id,
        source_files,
    )
    from .faults import (
        BackupError,
    )
    from .files import (
        file_sha256,
        fsync_path,
        private_file,
    )
    from .sqlitecopy import (
        sqlite_digest,
    )

_HOMES = {
    "Backup": ".create",
    "BackupError": ".faults",
    "MANIFEST_FORMAT": ".create",
    "MANIFEST_NAME": ".create",
    "backup_root": ".create",
    "create_backup": ".create",
    "file_sha256": ".files",
    "fsync_path": ".files",
    "new_backup_id": ".create",
    "private_file": ".files",
    "source_files": ".create",
    "sqlite_digest": ".sqlitecopy",
}


__getattr__ = lazy_exports(__name__, _HOMES)


__all__ = [
    "MANIFEST_FORMAT",
    "MANIFEST_NAME",
    "Backup",
    "BackupError",
    "backup_root",
    "create_backup",
    "file_sha256",
    "fsync_path",
    "new_backup_id",
    "private_file",
    "source_files",
    "sqlite_digest",
]
