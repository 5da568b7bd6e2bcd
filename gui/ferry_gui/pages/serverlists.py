"""The Connect page's lists of the server's databases and the database's schemas: Refresh
fills the drop-downs, "Create database…" makes one and picks it."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QComboBox, QInputDialog

from ferry import FerryError
from ferry.api import create_database, list_databases, list_schemas
from ferry.plan import TargetSpec

if TYPE_CHECKING:
    from .connect import ConnectPage


async def fetch_lists(spec: TargetSpec) -> tuple[list[str], list[str]]:
    """The server's databases and the URL's database's schemas (in a worker thread)."""
    databases = await asyncio.to_thread(list_databases, spec)
    try:
        schemas = await asyncio.to_thread(list_schemas, spec)
    except FerryError:  # the database does not exist yet: no schemas to offer
        schemas = []
    return databases, schemas


def set_items(combo: QComboBox, names: list[str]) -> None:
    """Offer ``names`` in an editable drop-down, keeping what is typed in it."""
    typed = combo.currentText()
    edit = combo.lineEdit()
    blocked = [w for w in (combo, edit) if w is not None and not w.signalsBlocked()]
    for widget in blocked:  # the settings stay as they are: no "test again"
        widget.blockSignals(True)
    combo.clear()
    combo.addItems(names)
    combo.setEditText(typed)
    for widget in blocked:
        widget.blockSignals(False)


class ServerLists:
    """Lists and creates databases on the server the Connect page's fields describe."""

    def __init__(self, page: ConnectPage) -> None:
        self.page = page
        fields = page.pg_box
        fields.refresh_button.clicked.connect(self.refresh)
        fields.create_db_button.clicked.connect(self._ask_name)

    def offer(self, databases: list[str], schemas: list[str]) -> None:
        """Offer ``databases`` and ``schemas`` in the drop-downs (what is typed stays)."""
        set_items(self.page.pg_box.database_list, databases)
        set_items(self.page.pg_box.pg_schema, schemas)

    def _spec(self) -> TargetSpec | None:
        page = self.page
        if page.sqlite_radio.isChecked():
            return None
        spec = page.candidate_target()
        if spec is not None:
            page.use_password(spec)
        return spec

    def refresh(self) -> bool:
        """List the server's databases and the database's schemas into the drop-downs."""
        spec = self._spec()
        if spec is None or self.page.runner.busy:
            return False

        async def job(emit: Any, cancel: Any) -> tuple[list[str], list[str]]:
            return await fetch_lists(spec)

        return self.page.run_job("list databases", job, self._listed, self._list_failed)

    def _listed(self, lists: Any) -> None:
        databases, schemas = lists
        self.offer(databases, schemas)
        self.page.server.setText(
            f"{len(databases)} database(s) on the server; {len(schemas)} schema(s) in "
            f"{self.page.pg_box.database.text() or 'the database'}."
        )

    def _list_failed(self, exc: BaseException) -> None:
        self.page.server.setText(f"Cannot list the databases: {exc}")
        if isinstance(exc, FerryError) and exc.hint:
            self.page.server.setText(f"Cannot list the databases: {exc}. {exc.hint}")

    def _ask_name(self) -> None:
        name, ok = QInputDialog.getText(self.page, "Create database", "Name of the new database:")
        if ok and name.strip():
            self.create(name.strip())

    def create(self, name: str) -> bool:
        """Create database ``name`` on the server, then pick it."""
        page = self.page
        spec = self._spec()
        if spec is None or page.runner.busy:
            return False

        async def job(emit: Any, cancel: Any) -> tuple[list[str], list[str]]:
            await asyncio.to_thread(create_database, spec, name)
            return await fetch_lists(spec)

        def created(lists: Any) -> None:
            page.pg_box.database.setText(name)
            self._listed(lists)
            page.server.setText(f"Created database {name}. Test the connection to use it.")

        def failed(exc: BaseException) -> None:
            if isinstance(exc, FerryError):
                page.runner.show_error(exc)
            page.server.setText(f"Not created: {exc}")

        return page.run_job("create database", job, created, failed)
