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
        Backup,
        create_backup,
    )
    from .faults import (
        BackupError,
    )
    from .files import (
        file_sha256,
        fsync_path,
        private_file,
    )
    from .layout import (
        MANIFEST_FORMAT,
        MANIFEST_NAME,
        backup_root,
        new_backup_id,
        source_files,
    )
    from .sqlitecopy import (
        sqlite_digest,
    )

_HOMES = {
    "Backup": ".create",
    "BackupError": ".faults",
    "MANIFEST_FORMAT": ".layout",
    "MANIFEST_NAME": ".layout",
    "backup_root": ".layout",
    "create_backup": ".create",
    "file_sha256": ".files",
    "fsync_path": ".files",
    "new_backup_id": ".layout",
    "private_file": ".files",
    "source_files": ".layout",
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
