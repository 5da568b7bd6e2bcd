"""Tamper-evident backups and reports (issue 16 item 2): manifests and reports are signed with
a per-user key kept out of the backup (here in the test's ``FERRY_CONFIG_DIR``).

A stored file replaced together with a matching hash in the manifest, or any edit of the
manifest, is refused by ``backup verify`` and ``rollback`` (exit 8); a backup signed with a key
this user lacks or not signed at all is refused with a plain message unless --trust-unsigned;
``ferry verify-report`` proves a report unaltered, or names what changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
from backupkit import backup, dump, ferry, load, make_app, manifest


def _forge_target(folder: Path) -> None:
    """Replace the stored target with another database and fix its size and hash in the
    manifest, as someone without the key would."""
    stored = folder / "target" / "app.db"
    import sqlite3

    stored.unlink()
    conn = sqlite3.connect(stored)
    conn.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    conn.execute("INSERT INTO jobs VALUES (666, 'planted')")
    conn.commit()
    conn.close()
    data = manifest(folder)
    for item in data["items"]:
        if item.get("stored") == "target/app.db":
            item["size"] = stored.stat().st_size
            item["sha256"] = hashlib.sha256(stored.read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(data, indent=2), encoding="utf-8")


def test_a_file_replaced_with_a_matching_manifest_hash_is_refused_by_verify(
    tmp_path: Path,
) -> None:
    made = backup(load(make_app(tmp_path)))
    _forge_target(made.path)

    result = ferry("backup", "verify", made.path)

    assert result.exit_code == 8
    assert (
        "  manifest.json was changed after Ferry wrote it (its signature does not verify)"
        in result.stderr.splitlines()
    )


def test_a_file_replaced_with_a_matching_manifest_hash_is_not_rolled_back(
    tmp_path: Path,
) -> None:
    plan_file = make_app(tmp_path)
    made = backup(load(plan_file))
    before = dump(tmp_path / "app.db")
    _forge_target(made.path)

    result = ferry("rollback", plan_file, "--yes", "--trust-unsigned")

    assert result.exit_code == 8
    assert "manifest.json was changed after Ferry wrote it" in result.stderr
    assert dump(tmp_path / "app.db") == before


def test_an_edited_manifest_is_refused(tmp_path: Path) -> None:
    made = backup(load(make_app(tmp_path)))
    data = manifest(made.path)
    data["created_at"] = "2020-01-01T00:00:00.000000+00:00"
    (made.path / "manifest.json").write_text(json.dumps(data, indent=2), encoding="utf-8")

    result = ferry("backup", "verify", made.path)

    assert result.exit_code == 8
    assert "manifest.json was changed after Ferry wrote it" in result.stderr


def test_a_backup_signed_with_another_users_key_says_how_to_bring_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = backup(load(make_app(tmp_path / "app")))
    key_id = manifest(made.path)["signature"]["key_id"]
    monkeypatch.setenv("FERRY_CONFIG_DIR", str(tmp_path / "other-machine"))

    result = ferry("backup", "verify", made.path)

    assert result.exit_code == 8
    assert (
        f"  manifest.json is signed with key {key_id} that this user does not have: copy the "
        "key: run `ferry key export > ferry-key.txt` on the machine that wrote it, then "
        "`ferry key import ferry-key.txt` here, or use --trust-unsigned to accept it knowingly"
        in result.stderr.splitlines()
    )


def test_an_exported_key_imported_on_another_machine_verifies_the_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = backup(load(make_app(tmp_path / "app")))
    exported = ferry("key", "export")
    (tmp_path / "key.txt").write_text(exported.stdout, encoding="ascii")
    monkeypatch.setenv("FERRY_CONFIG_DIR", str(tmp_path / "other-machine"))

    imported = ferry("key", "import", tmp_path / "key.txt")
    result = ferry("backup", "verify", made.path)

    assert imported.exit_code == 0
    assert result.exit_code == 0, result.stderr
    key_id = manifest(made.path)["signature"]["key_id"]
    assert result.stdout.rstrip().endswith(f"signed by key {key_id}")


def test_an_unsigned_backup_is_refused_unless_trusted_knowingly(tmp_path: Path) -> None:
    made = backup(load(make_app(tmp_path)))
    data = manifest(made.path)
    del data["signature"]  # as an older Ferry wrote it
    (made.path / "manifest.json").write_text(json.dumps(data, indent=2), encoding="utf-8")

    refused = ferry("backup", "verify", made.path)
    trusted = ferry("backup", "verify", made.path, "--trust-unsigned")

    assert refused.exit_code == 8
    assert (
        "  manifest.json is not signed (written by an older Ferry, or its signature was "
        "removed): use --trust-unsigned to accept it knowingly" in refused.stderr.splitlines()
    )
    assert trusted.exit_code == 0
    assert (
        "warning: manifest.json is not signed (accepted: --trust-unsigned)"
        in trusted.stderr.splitlines()
    )


def test_an_unsigned_backup_rolls_back_with_trust_unsigned(tmp_path: Path) -> None:
    plan_file = make_app(tmp_path)
    made = backup(load(plan_file))
    before = dump(tmp_path / "app.db")
    data = manifest(made.path)
    del data["signature"]
    (made.path / "manifest.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    import sqlite3

    conn = sqlite3.connect(tmp_path / "app.db")
    conn.execute("DELETE FROM jobs")
    conn.commit()
    conn.close()

    refused = ferry("rollback", plan_file, "--yes")
    trusted = ferry("rollback", plan_file, "--yes", "--trust-unsigned")

    assert refused.exit_code == 8
    assert trusted.exit_code == 0, trusted.stderr
    assert dump(tmp_path / "app.db") == before


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_the_key_file_is_created_owner_only(tmp_path: Path, ferry_config_dir: str) -> None:
    backup(load(make_app(tmp_path)))

    key_file = Path(ferry_config_dir) / "signing.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(bytes.fromhex(key_file.read_text(encoding="ascii"))) == 32


def test_without_ferry_config_dir_the_key_goes_to_xdg_config_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FERRY_CONFIG_DIR")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr("ferry.safety.passwords.keyring_status", lambda: "no OS keyring")
    backup(load(make_app(tmp_path / "app")))

    assert (tmp_path / "xdg" / "ferry" / "signing.key").is_file()


# -- reports -----------------------------------------------------------------------------------


def _report(tmp_path: Path) -> Path:
    """A real migration's JSON report (the run also made a backup the report names)."""
    plan_file = make_app(tmp_path)
    assert ferry("migrate", plan_file, "-q").exit_code == 0
    (found,) = (tmp_path / "ferry-reports").glob("migrate-*.json")
    return found


def test_an_intact_report_is_proven(tmp_path: Path) -> None:
    report = _report(tmp_path)
    key_id = json.loads(report.read_text(encoding="utf-8"))["signature"]["key_id"]

    from_json = ferry("verify-report", report)
    from_html = ferry("verify-report", report.with_suffix(".html"))

    assert from_json.exit_code == 0, from_json.stderr
    assert from_json.stdout.startswith(f"intact, signed by key {key_id}")
    assert "manifest SHA-256 matches" in from_json.stdout
    assert from_html.exit_code == 0, from_html.stderr


def test_a_report_edited_by_one_byte_is_not_proven(tmp_path: Path) -> None:
    report = _report(tmp_path)
    text = report.read_text(encoding="utf-8")
    report.write_text(
        text.replace('"plan_name": "jobs"', '"plan_name": "jobz"', 1), encoding="utf-8"
    )

    result = ferry("verify-report", report)

    assert result.exit_code == 8
    assert (
        f"  the report {report.name} was changed after Ferry wrote it (its signature does not "
        "verify)" in result.stderr.splitlines()
    )


def test_an_edited_html_page_is_named(tmp_path: Path) -> None:
    report = _report(tmp_path)
    page = report.with_suffix(".html")
    page.write_bytes(page.read_bytes().replace(b"</body>", b"<p>ok</p></body>"))

    result = ferry("verify-report", page)

    assert result.exit_code == 8
    assert (
        f"  the HTML report {page.name} was changed after Ferry wrote it"
        in result.stderr.splitlines()
    )


def test_a_changed_backup_manifest_is_named_by_the_report(tmp_path: Path) -> None:
    report = _report(tmp_path)
    (folder,) = (tmp_path / "ferry-backups").iterdir()
    (folder / "manifest.json").write_text(
        (folder / "manifest.json").read_text(encoding="utf-8") + " ", encoding="utf-8"
    )

    result = ferry("verify-report", report)

    assert result.exit_code == 8
    assert (
        f"  the backup manifest {folder / 'manifest.json'} differs from the one the report "
        "names (SHA-256)" in result.stderr.splitlines()
    )


def test_with_an_os_keyring_the_key_is_kept_there_and_no_file_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keyring
    from keyrings.alt.file import PlaintextKeyring

    # A real file-backed keyring inside the test's folder, chosen as a user would choose one.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / "config"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    monkeypatch.delenv("FERRY_CONFIG_DIR")
    previous = keyring.get_keyring()
    keyring.set_keyring(PlaintextKeyring())
    try:
        made = backup(load(make_app(tmp_path / "app")))
        stored = keyring.get_password("ferry", "signing-key")
        verified = ferry("backup", "verify", made.path)
    finally:
        keyring.set_keyring(previous)

    assert stored is not None
    assert (
        manifest(made.path)["signature"]["key_id"]
        == (hashlib.sha256(bytes.fromhex(stored)).hexdigest()[:8])
    )
    assert not (tmp_path / "home" / "config" / "ferry" / "signing.key").exists()
    assert verified.exit_code == 0, verified.stderr
