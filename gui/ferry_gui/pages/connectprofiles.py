"""The Connect page's saved connection profiles: pick one to fill the fields, or save the
fields as one (never with a password)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from ferry import FerryError
from ferry.api import load_profiles, make_profile, save_profile

if TYPE_CHECKING:
    from .connect import ConnectPage


class ProfileBar(QWidget):
    """ "Profile: [list] [Save as profile…]" above the Connect page's fields."""

    def __init__(self, page: ConnectPage) -> None:
        super().__init__()
        self.page = page
        self.combo = QComboBox()
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.save_button = QPushButton("Sa&ve as profile…")
        label = QLabel("Profi&le:")
        label.setBuddy(self.combo)
        row = QHBoxLayout(self)
        # Laid out as a row of the target box: no margins, and no share of its spare height.
        row.setContentsMargins(0, 0, 0, 0)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        row.addWidget(label)
        row.addWidget(self.combo, 1)
        row.addWidget(self.save_button)
        self.combo.activated.connect(self._picked)
        self.save_button.clicked.connect(self._ask_name)

    def load(self) -> None:
        """Fill the list from the saved profiles (a broken file is named)."""
        self.combo.clear()
        self.combo.addItem("(none: the fields below)")
        try:
            profiles = load_profiles()
        except FerryError as exc:
            self.combo.setToolTip(f"{exc.message}. {exc.hint}")
            return
        self.combo.setToolTip("")
        for name in profiles:
            self.combo.addItem(name)

    def _picked(self, index: int) -> None:
        if index > 0:
            self.use(self.combo.itemText(index))

    def use(self, name: str) -> bool:
        """Fill the page's fields from saved profile ``name``."""
        page = self.page
        try:
            profile = load_profiles().get(name)
        except FerryError as exc:
            page.runner.show_error(exc)
            return False
        if profile is None:
            return False
        page.fill_from_url(profile.url)
        page.pg_box.pg_schema.setEditText(profile.pg_schema or "")
        page.pg_box.set_sslmode(profile.sslmode)
        self.combo.setCurrentText(name)
        return True

    def _ask_name(self) -> None:
        name, ok = QInputDialog.getText(
            self.page, "Save as profile", "Name (e.g. staging); the password is never saved:"
        )
        if ok and name.strip():
            self.save_as(name)

    def save_as(self, name: str) -> bool:
        """Save the page's fields as connection profile ``name`` (no password: refused)."""
        page = self.page
        url = page.target_url()
        if page.password_in_fields(url):
            return False
        sqlite = page.sqlite_radio.isChecked()
        try:
            profile = make_profile(
                name,
                url,
                None if sqlite else page.pg_box.schema(),
                None if sqlite else page.pg_box.chosen_sslmode(),
            )
            path = save_profile(profile)
        except FerryError as exc:
            page.runner.show_error(exc)
            return False
        except OSError as exc:
            page.runner.show_error(FerryError(f"cannot save the profile: {exc}"))
            return False
        self.load()
        self.combo.setCurrentText(profile.name)
        page.server.setText(f"Saved profile {profile.name} in {path} (without password).")
        return True
