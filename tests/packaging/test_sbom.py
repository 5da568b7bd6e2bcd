"""The bundle's SBOM and constraints (packaging/build.py), without building the bundle:
``write_sbom`` run on this test's own environment gives a CycloneDX JSON document listing every
installed distribution at its version, with Ferry as the root component; the constraints file
pins every package exactly (``name==version``), Ferry itself excepted."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging"))
import build  # noqa: E402


@pytest.fixture(scope="module")
def sbom(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    if importlib.util.find_spec("cyclonedx_py") is None:
        reason = "cyclonedx-bom (test and packaging extras) is not installed"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    out = build.write_sbom(Path(sys.executable), tmp_path_factory.mktemp("sbom") / "x.cdx.json")
    data: dict[str, object] = json.loads(out.read_text(encoding="utf-8"))
    return data


def test_the_sbom_is_cyclonedx_json_with_ferry_as_the_root(sbom: dict[str, object]) -> None:
    assert sbom["bomFormat"] == "CycloneDX"
    metadata = sbom["metadata"]
    assert isinstance(metadata, dict)
    assert metadata["component"]["name"] == "ferry-migrate"
    assert metadata["component"]["type"] == "application"


def test_the_sbom_lists_the_installed_dependencies_at_their_versions(
    sbom: dict[str, object],
) -> None:
    components = sbom["components"]
    assert isinstance(components, list)
    listed = {c["name"].lower(): c["version"] for c in components}
    for name in ("sqlalchemy", "psycopg", "python-dotenv", "pydantic"):
        assert listed[name] == version(name), name


def test_the_constraints_pin_every_package_exactly_but_ferry() -> None:
    lines = (ROOT / "packaging" / "constraints.txt").read_text(encoding="utf-8").splitlines()
    pins = [line for line in lines if line and not line.startswith("#")]
    assert [p for p in pins if not re.fullmatch(r"[A-Za-z0-9._-]+==[A-Za-z0-9.+!-]+", p)] == []
    names = {p.split("==")[0].lower().replace("_", "-") for p in pins}
    assert "ferry-migrate" not in names
    assert {"sqlalchemy", "pyside6-essentials", "pyinstaller", "cyclonedx-bom"} <= names
