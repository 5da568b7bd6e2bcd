"""The operations' public import paths work after the move into packages (issue 19): a
package named like the module it absorbed hands out that module's public names."""

from __future__ import annotations

import importlib

import pytest

PUBLIC = [
    ("ferry.scan", "scan_folder"),
    ("ferry.check", "check_plan"),
    ("ferry.backup", "create_backup"),
    ("ferry.migrate", "migrate"),
    ("ferry.verify", "verify"),
    ("ferry.rollback", "rollback"),
    ("ferry.report", "write_report"),
    ("ferry.cli", "main"),
]
REEXPORTING = [
    "ferry.backup",
    "ferry.cli",
    "ferry.report",
    "ferry.scan",
    "ferry.values",
    "ferry.verify",
]


@pytest.mark.parametrize(("module", "name"), PUBLIC)
def test_an_operation_imports_from_its_public_path(module: str, name: str) -> None:
    assert callable(getattr(importlib.import_module(module), name))


@pytest.mark.parametrize("package", REEXPORTING)
def test_a_package_hands_out_the_names_of_its_home_modules(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        home = importlib.import_module(module._HOMES[name], package)
        assert getattr(module, name) is getattr(home, name), name


def test_a_name_the_package_does_not_export_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        importlib.import_module("ferry.verify").nothing_here  # noqa: B018
