"""TLS to PostgreSQL up to ``sslmode = "verify-full"`` with a CA file.

The shared test server has no TLS, so this module starts a throwaway cluster (initdb as an
unprivileged user, see tests/pgcluster.py) with ``ssl = on`` and a server certificate for
``localhost`` signed by a CA made here. ``verify-full`` must connect with that CA and that
host name, and refuse — with a clear message, exit code 5 — another CA or another host name.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from faultkit import assert_one_line_error, ferry_run, throwaway_cluster

from ferry.plan import load_plan
from ferry.targets import open_target

pytestmark = [pytest.mark.slow, pytest.mark.pg]

Key = ec.EllipticCurvePrivateKey


_CA_USAGE = x509.KeyUsage(
    digital_signature=True,
    key_cert_sign=True,
    crl_sign=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    encipher_only=False,
    decipher_only=False,
)


def make_ca(name: str) -> tuple[x509.Certificate, Key]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_CA_USAGE, critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def make_server_cert(ca: x509.Certificate, ca_key: Key) -> tuple[x509.Certificate, Key]:
    """A certificate for the host name ``localhost`` only (not for 127.0.0.1)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: Key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """(port, folder with ``ca.crt`` and ``other-ca.crt``) of a TLS-only throwaway cluster."""
    with throwaway_cluster("ferry-tls-") as cluster:
        ca, ca_key = make_ca("Ferry test CA")
        cert, key = make_server_cert(ca, ca_key)
        (cluster.data / "server.crt").write_bytes(pem(cert))
        (cluster.data / "server.key").write_bytes(key_pem(key))
        os.chmod(cluster.data / "server.key", 0o600)
        owner = cluster.data.stat()  # the server's user must own its key
        for name in ("server.crt", "server.key"):
            os.chown(cluster.data / name, owner.st_uid, owner.st_gid)
        # TLS on, and plain TCP connections refused: only hostssl lines let anyone in.
        with (cluster.data / "postgresql.conf").open("a") as conf:
            conf.write("\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n")
        (cluster.data / "pg_hba.conf").write_text(
            "local all all trust\n"
            "hostssl all all 127.0.0.1/32 trust\n"
            "hostssl all all ::1/128 trust\n"
        )
        port = cluster.start()
        certs = tmp_path_factory.mktemp("certs")
        (certs / "ca.crt").write_bytes(pem(ca))
        (certs / "other-ca.crt").write_bytes(pem(make_ca("Some other CA")[0]))
        yield port, certs


PLAN = """name = "tls"

[target]
url = "postgresql://postgres@{host}:{port}/postgres"
sslmode = "{mode}"
{rootcert}
connect_timeout = 5

[[sources]]
name = "jobs"
kind = "json"
path = "jobs.json"

[[tables]]
name = "jobs"
source = "jobs"
key = ["id"]
"""


def tls_plan(
    folder: Path, port: int, mode: str, host: str = "localhost", ca: Path | str | None = None
) -> Path:
    (folder / "jobs.json").write_text('[{"id": 1, "name": "probe"}]', encoding="utf-8")
    plan = folder / "ferry.toml"
    rootcert = f'sslrootcert = "{ca}"' if ca else ""
    plan.write_text(
        PLAN.format(host=host, port=port, mode=mode, rootcert=rootcert), encoding="utf-8"
    )
    return plan


def connection_uses_tls(plan: Path) -> bool:
    async def probe() -> bool:
        spec = load_plan(plan)
        target = open_target(spec.target, spec.base_dir)
        await target.open()
        try:
            rows = await target.fetch_dicts(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", "probing TLS"
            )
        finally:
            await target.finish(commit=False)
        return bool(rows[0]["ssl"])

    return asyncio.run(probe())


def test_verify_full_with_the_right_ca_and_host_migrates_over_tls(
    tls_server: tuple[int, Path], tmp_path: Path
) -> None:
    port, certs = tls_server
    plan = tls_plan(tmp_path, port, "verify-full", ca=certs / "ca.crt")

    done = ferry_run("migrate", plan, "--no-backup", "-q", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert connection_uses_tls(plan)


def test_a_relative_ca_file_is_taken_from_the_plans_folder(
    tls_server: tuple[int, Path], tmp_path: Path
) -> None:
    port, certs = tls_server
    shutil.copy(certs / "ca.crt", tmp_path / "ca.crt")
    plan = tls_plan(tmp_path, port, "verify-full", ca="ca.crt")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    done = ferry_run("check", plan, cwd=elsewhere)

    assert done.returncode == 0, done.stdout + done.stderr


def test_verify_full_with_another_ca_is_refused_clearly(
    tls_server: tuple[int, Path], tmp_path: Path
) -> None:
    port, certs = tls_server
    plan = tls_plan(tmp_path, port, "verify-full", ca=certs / "other-ca.crt")

    done = ferry_run("migrate", plan, "--no-backup", cwd=tmp_path)

    line = assert_one_line_error(done.stderr, done.returncode, 5)
    assert f"localhost:{port}" in line
    assert "certificate" in line.lower()


def test_verify_full_with_a_host_name_the_certificate_does_not_hold_is_refused(
    tls_server: tuple[int, Path], tmp_path: Path
) -> None:
    port, certs = tls_server
    plan = tls_plan(tmp_path, port, "verify-full", host="127.0.0.1", ca=certs / "ca.crt")

    done = ferry_run("migrate", plan, "--no-backup", cwd=tmp_path)

    line = assert_one_line_error(done.stderr, done.returncode, 5)
    assert "127.0.0.1" in line and "host name" in line.lower()
    assert "the TLS connection failed" in line


def test_verify_ca_accepts_the_ip_address_the_certificate_does_not_name(
    tls_server: tuple[int, Path], tmp_path: Path
) -> None:
    port, certs = tls_server
    plan = tls_plan(tmp_path, port, "verify-ca", host="127.0.0.1", ca=certs / "ca.crt")

    done = ferry_run("migrate", plan, "--no-backup", "-q", cwd=tmp_path)

    assert done.returncode == 0, done.stderr


def test_a_missing_ca_file_is_named(tls_server: tuple[int, Path], tmp_path: Path) -> None:
    port, _ = tls_server
    plan = tls_plan(tmp_path, port, "verify-full", ca=tmp_path / "nope.crt")

    done = ferry_run("migrate", plan, "--no-backup", cwd=tmp_path)

    line = assert_one_line_error(done.stderr, done.returncode, 5)
    assert "nope.crt" in line


def test_disable_against_a_tls_only_server_is_refused(
    tls_server: tuple[int, Path], tmp_path: Path
) -> None:
    port, _ = tls_server
    plan = tls_plan(tmp_path, port, "disable")

    done = ferry_run("migrate", plan, "--no-backup", cwd=tmp_path)

    line = assert_one_line_error(done.stderr, done.returncode, 5)
    assert f"localhost:{port}" in line


def test_require_against_a_server_without_tls_is_refused(
    pg_server_url: str, tmp_path: Path
) -> None:
    import psycopg

    with psycopg.connect(pg_server_url) as conn:
        if conn.execute("SHOW ssl").fetchone() != ("off",):
            pytest.skip("the shared server has TLS on")
        port = conn.info.port
    plan = tls_plan(tmp_path, port, "require", host="127.0.0.1")

    done = ferry_run("migrate", plan, "--no-backup", cwd=tmp_path)

    line = assert_one_line_error(done.stderr, done.returncode, 5)
    assert "does not support" in line.lower() and "ssl" in line.lower()


def test_backup_and_verify_go_over_tls_with_a_relative_ca_file(
    tls_server: tuple[int, Path], tmp_path: Path
) -> None:
    """pg_dump (or Ferry's own dump) and verify get the same TLS settings as the migration."""
    port, certs = tls_server
    shutil.copy(certs / "ca.crt", tmp_path / "ca.crt")
    plan = tls_plan(tmp_path, port, "verify-full", ca="ca.crt")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    migrated = ferry_run("migrate", plan, "-q", cwd=elsewhere)  # backs up first
    verified = ferry_run("verify", plan, cwd=elsewhere)

    assert migrated.returncode == 0, migrated.stderr
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert list((tmp_path / "ferry-backups").iterdir())
