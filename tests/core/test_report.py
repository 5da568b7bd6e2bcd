"""Run reports (ferry.report.write): one HTML page and one JSON file from the same dict."""

from __future__ import annotations

import json
import os
import re
import stat
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ferry import __version__
from ferry.migrate import Reject, RunResult, TableResult
from ferry.plan import Plan, plan_from_dict
from ferry.report.html import HTML_MAX_REJECTS, render_html
from ferry.report.write import (
    ReportPaths,
    report_dict,
    save_report,
    write_report,
)

posix_only = pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")

BACKUP = {
    "id": "20250102T030405Z-ab12",
    "path": "/srv/app/ferry-backups/20250102T030405Z-ab12",
    "manifest_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
}


@pytest.fixture
def plan(tmp_path: Path) -> Plan:
    return plan_from_dict(
        {
            "name": "shop-state",
            "target": {"url": "postgresql://app@db.example:5432/shop", "password_env": "SHOP_PW"},
            "sources": [
                {"name": "orders", "kind": "json", "path": "data/orders.json"},
                {"name": "legacy", "kind": "postgres", "url": "postgresql://ro@old.example/shop"},
            ],
            "tables": [
                {"name": "orders", "source": "orders", "key": ["id"]},
                {"name": "customers", "source": "legacy.customers", "conflict": "insert"},
            ],
            "assertions": [{"name": "no negative totals", "sql": "SELECT 0", "expect": 0}],
        },
        tmp_path,
    )


def run_result(**changes: Any) -> dict[str, Any]:
    result = RunResult(
        run_id="0123456789abcdef",
        plan_name="shop-state",
        plan_hash="c0ffee" * 10 + "c0ff",
        mode="migrate",
        status="completed",
        target="app@db.example:5432/shop",
        started_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        finished_at=datetime(2025, 1, 2, 3, 4, 7, 500000, tzinfo=UTC),
        tables=[
            TableResult(
                "orders",
                "orders",
                rows_read=1234,
                inserted=1200,
                updated=30,
                unchanged=3,
                rejected=1,
                created=True,
                seconds=1.25,
            ),
            TableResult("customers", "legacy.customers", rows_read=57, inserted=50, conflicts=7),
        ],
        ddl=["CREATE TABLE orders (id TEXT PRIMARY KEY, total NUMERIC)"],
        warnings=["orders: field 'coupon' is not migrated"],
        rejects=[Reject("orders", "id='o-9'", "total: 'abc' is not a number", {"id": "o-9"})],
        rejected_total=1,
    )
    data = result.to_dict()
    data.update(changes)
    return data


def verify_result(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "verdict": "PASS",
        "run_id": "fedcba9876543210",
        "plan_name": "shop-state",
        "target": "app@db.example:5432/shop",
        "started_at": "2025-01-02T03:05:00+00:00",
        "finished_at": "2025-01-02T03:05:01+00:00",
        "tables": [
            {
                "name": "orders",
                "source": "orders",
                "expected_rows": 1233,
                "target_rows": 1233,
                "checksum": "PASS",
                "mismatches": [],
                "orphans": 0,
                "verdict": "PASS",
            }
        ],
        "assertions": [
            {
                "name": "no negative totals",
                "sql": "SELECT count(*) FROM orders WHERE total < 0",
                "op": "==",
                "expect": 0,
                "actual": 0,
                "verdict": "PASS",
            }
        ],
        "warnings": [],
    }
    data.update(changes)
    return data


def failing_assertion() -> dict[str, Any]:
    return {
        "name": "at least 2000 orders",
        "sql": "SELECT count(*) FROM orders",
        "op": ">=",
        "expect": 2000,
        "actual": 1233,
        "verdict": "FAIL",
    }


@posix_only
def test_files_are_written_owner_only_in_a_new_private_folder(tmp_path: Path, plan: Plan) -> None:
    folder = tmp_path / "reports" / "nested"
    paths = write_report("migrate", run_result(), plan, folder)
    assert paths == ReportPaths(
        html=folder / "migrate-0123456789abcdef.html",
        json=folder / "migrate-0123456789abcdef.json",
    )
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(paths.html.stat().st_mode) == 0o600
    assert stat.S_IMODE(paths.json.stat().st_mode) == 0o600


def test_only_the_two_report_files_are_left_in_the_folder(tmp_path: Path, plan: Plan) -> None:
    write_report("migrate", run_result(), plan, tmp_path)
    write_report("migrate", run_result(), plan, tmp_path)  # a rewrite replaces both
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "migrate-0123456789abcdef.html",
        "migrate-0123456789abcdef.json",
    ]


def test_a_run_id_cannot_lead_out_of_the_folder(tmp_path: Path, plan: Plan) -> None:
    paths = write_report("verify", verify_result(run_id="../../etc/x"), plan, tmp_path / "r")
    assert paths.json.parent == tmp_path / "r"
    assert paths.json.name == "verify-_.._etc_x.json"


def test_json_holds_the_plan_without_secrets_and_the_counts(tmp_path: Path, plan: Plan) -> None:
    paths = write_report("migrate", run_result(), plan, tmp_path)
    report = json.loads(paths.json.read_text(encoding="utf-8"))
    assert report["kind"] == "migrate"
    assert report["ferry_version"] == __version__
    assert report["plan"]["name"] == "shop-state"
    assert report["plan"]["target"] == {
        "url": "postgresql://app@db.example:5432/shop",
        "password_env": "SHOP_PW",
    }
    orders = report["result"]["tables"][0]
    assert (orders["name"], orders["rows_read"], orders["inserted"], orders["updated"]) == (
        "orders",
        1234,
        1200,
        30,
    )
    assert report["result"]["tables"][1]["conflicts"] == 7
    assert report["result"]["rejected_total"] == 1


def test_passwords_in_urls_are_masked_in_both_files(tmp_path: Path, plan: Plan) -> None:
    data = run_result(
        target="postgresql://app:hunter2@db.example:5432/shop",
        warnings=["retried postgresql://u:p@ss@old.example/shop?password=s3cret&x=1"],
    )
    paths = write_report("migrate", data, plan, tmp_path)
    text = paths.json.read_text(encoding="utf-8") + paths.html.read_text(encoding="utf-8")
    assert "hunter2" not in text
    assert "s3cret" not in text
    assert "p@ss" not in text
    report = json.loads(paths.json.read_text(encoding="utf-8"))
    assert report["result"]["target"] == "postgresql://app:***@db.example:5432/shop"
    assert report["result"]["warnings"] == [
        "retried postgresql://u:***@old.example/shop?password=***&x=1"
    ]


def test_backup_location_and_manifest_hash_are_in_both_files(tmp_path: Path, plan: Plan) -> None:
    paths = write_report("migrate", run_result(), plan, tmp_path, backup=BACKUP)
    assert json.loads(paths.json.read_text(encoding="utf-8"))["backup"] == BACKUP
    page = paths.html.read_text(encoding="utf-8")
    assert "/srv/app/ferry-backups/20250102T030405Z-ab12" in page
    assert "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" in page


def test_html_shows_the_status_the_tables_and_their_counts(plan: Plan) -> None:
    page = render_html(report_dict("migrate", run_result(rejected_total=0), plan))
    assert '<div class="verdict">COMPLETED</div>' in page
    assert '<td class="name">orders <span class="tag">created</span></td>' in page
    assert '<td class="name">customers</td>' in page
    assert '<td class="num">1,234</td>' in page  # orders read
    assert '<td class="num">1,200</td>' in page  # orders inserted
    assert '<td class="num caution">7</td>' in page  # customers conflicts
    assert '<td class="num">1.250</td>' in page  # orders seconds
    assert "CREATE TABLE orders (id TEXT PRIMARY KEY, total NUMERIC)" in page
    assert "orders: field &#x27;coupon&#x27; is not migrated" in page


def test_html_of_a_preview_says_nothing_was_changed(plan: Plan) -> None:
    page = render_html(report_dict("preview", run_result(status="previewed"), plan))
    assert '<div class="verdict">PREVIEW</div>' in page
    assert "Nothing was changed." in page


def test_untrusted_values_are_escaped_in_html(plan: Plan) -> None:
    reject = {
        "table": "orders",
        "key": "id='<b>x</b>'",
        "reason": "total: '<script>alert(1)</script>' is not a number",
        "row": {"id": "x", "total": "<script>alert(1)</script>"},
    }
    page = render_html(report_dict("migrate", run_result(rejects=[reject]), plan))
    assert "<script" not in page
    assert "<b>x</b>" not in page
    assert "total: &#x27;&lt;script&gt;alert(1)&lt;/script&gt;&#x27; is not a number" in page
    assert '<span class="v">&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;</span>' in page


def test_html_shows_the_first_200_rejects_and_says_how_many_more(plan: Plan) -> None:
    rejects = [
        {"table": "orders", "key": f"id='o-{n}'", "reason": "bad total", "row": {"id": f"o-{n}"}}
        for n in range(250)
    ]
    report = report_dict("migrate", run_result(rejects=rejects, rejected_total=250), plan)
    page = render_html(report)
    assert HTML_MAX_REJECTS == 200
    assert "id=&#x27;o-199&#x27;" in page
    assert "id=&#x27;o-200&#x27;" not in page
    assert "Showing the first 200 of 250 rejected rows; the other 50 are in the JSON file." in page
    assert len(report["result"]["rejects"]) == 250


def test_html_says_when_the_run_kept_fewer_rejects_than_it_rejected(plan: Plan) -> None:
    page = render_html(report_dict("migrate", run_result(rejected_total=5000), plan))
    assert "5,000 rows were rejected in all; the run kept the first 1." in page


def test_verify_report_shows_pass_in_green(plan: Plan) -> None:
    report = report_dict("verify", verify_result(), plan)
    page = render_html(report)
    assert report["verdict"] == "PASS"
    assert '<div class="banner pass" role="status"><div class="verdict">PASS</div>' in page
    assert "All 1 table and 1 assertion passed." in page


def test_verify_report_with_a_failing_assertion_shows_fail(plan: Plan) -> None:
    data = verify_result(
        verdict="FAIL", assertions=[*verify_result()["assertions"], failing_assertion()]
    )
    report = report_dict("verify", data, plan)
    page = render_html(report)
    assert report["verdict"] == "FAIL"
    assert '<div class="banner fail" role="status"><div class="verdict">FAIL</div>' in page
    assert "1 of 2 assertions failed." in page
    assert '<td class="name">at least 2000 orders</td>' in page
    assert "<td><code>&gt;= 2000</code></td><td><code>1233</code></td>" in page
    assert '<span class="badge fail">FAIL</span>' in page


def test_verify_verdict_is_fail_when_a_part_failed_even_if_data_says_pass(plan: Plan) -> None:
    data = verify_result(assertions=[failing_assertion()])  # verdict still "PASS"
    assert report_dict("verify", data, plan)["verdict"] == "FAIL"


def test_verify_report_lists_table_checks_mismatches_and_orphans(plan: Plan) -> None:
    table = {
        "name": "orders",
        "source": "orders",
        "expected_rows": 1233,
        "target_rows": 1232,
        "checksum": "FAIL",
        "mismatches": [{"key": "id='o-7'", "problem": "missing in target"}],
        "orphans": 3,
        "verdict": "FAIL",
    }
    page = render_html(report_dict("verify", verify_result(verdict="FAIL", tables=[table]), plan))
    assert '<td class="num">1,233</td><td class="num alert">1,232</td>' in page
    assert '<td class="num alert">3</td>' in page
    assert "<li><code>id=&#x27;o-7&#x27;</code> — missing in target</li>" in page
    assert "1 of 1 table failed." in page


def test_missing_keys_are_tolerated(plan: Plan) -> None:
    verify = report_dict("verify", {}, plan)
    assert verify["verdict"] == "FAIL"
    assert '<div class="verdict">FAIL</div>' in render_html(verify)
    migrate = report_dict("migrate", {}, plan)
    assert migrate["status"] == "unknown"
    assert "<h1>Migration report: shop-state</h1>" in render_html(migrate)


def test_html_is_self_contained(plan: Plan) -> None:
    data = verify_result(
        verdict="FAIL", assertions=[failing_assertion()], warnings=["see https://example.com/x"]
    )
    for page in (
        render_html(report_dict("verify", data, plan, BACKUP)),
        render_html(report_dict("migrate", run_result(), plan, BACKUP)),
    ):
        assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
        assert "<script" not in page.lower()
        assert "<link" not in page.lower()
        assert "@import" not in page
        assert "url(" not in page
        assert "prefers-color-scheme: dark" in page
        assert "@media print" in page


def test_json_file_is_exactly_the_report_dict(tmp_path: Path, plan: Plan) -> None:
    report = report_dict("migrate", run_result(), plan, BACKUP)
    paths = save_report(report, tmp_path)
    written = json.loads(paths.json.read_text(encoding="utf-8"))
    # the report dict, plus the signature that vouches for it (ferry.safety.signing)
    assert set(written.pop("signature")) == {
        "algorithm", "key_id", "html_file", "html_sha256", "value"
    }  # fmt: skip
    assert written == report
    assert paths.html.read_text(encoding="utf-8") == render_html(report)


def test_write_report_json_round_trips_to_report_dict(tmp_path: Path, plan: Plan) -> None:
    paths = write_report("verify", verify_result(), plan, tmp_path, backup=BACKUP)
    written = json.loads(paths.json.read_text(encoding="utf-8"))
    expected = report_dict("verify", verify_result(), plan, BACKUP)
    written.pop("signature")
    assert datetime.fromisoformat(written.pop("generated_at")).tzinfo is not None
    expected.pop("generated_at")
    assert written == expected


def test_values_json_lacks_become_plain_json(plan: Plan) -> None:
    odd = failing_assertion() | {
        "expect": Decimal("2000.50"),
        "actual": float("nan"),
        "checked_at": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        "raw": b"\x00\xff",
        "pair": (1, 2),
    }
    report = report_dict("verify", verify_result(assertions=[odd]), plan)
    assert json.loads(json.dumps(report)) == report
    assertion = report["result"]["assertions"][0]
    assert assertion["expect"] == "2000.50"
    assert assertion["actual"] == "nan"
    assert assertion["checked_at"] == "2025-01-02T03:04:05+00:00"
    assert assertion["raw"] == "00ff"
    assert assertion["pair"] == [1, 2]


def test_an_unknown_kind_is_refused(plan: Plan) -> None:
    with pytest.raises(ValueError, match="migrate, preview or verify"):
        report_dict("check", {}, plan)  # type: ignore[arg-type]


def test_changed_rows_of_a_preview_show_before_and_after(plan: Plan) -> None:
    diff = {
        "table": "orders",
        "key": "id='o-1'",
        "decision": "update",
        "changes": [{"column": "total", "before": "9.50", "after": "<i>10</i>"}],
    }
    data = run_result(status="previewed", diffs=[diff], sample=100)
    page = render_html(report_dict("preview", data, plan))
    assert (
        '<span class="k">total</span><span class="v"><del>&quot;9.50&quot;</del> → '
        "<ins>&quot;&lt;i&gt;10&lt;/i&gt;&quot;</ins></span>"
    ) in page
    assert "on a sample of 100 rows per source table" in page


def test_a_conflict_of_a_preview_shows_the_kept_value_and_the_source_value_apart(
    plan: Plan,
) -> None:
    diff = {
        "table": "customers",
        "key": "id=7",
        "decision": "conflict",
        "changes": [{"column": "name", "before": "Ada", "after": "Ada L."}],
    }
    data = run_result(status="previewed", diffs=[diff])
    page = render_html(report_dict("preview", data, plan))
    assert (
        '<span class="k">name</span><span class="v">&quot;Ada&quot; kept <span class="muted">'
        "(source &quot;Ada L.&quot; not applied)</span></span>"
    ) in page
