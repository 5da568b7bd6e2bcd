"""Created tables keep the names the source gave their constraints, so the app's own schema
migrations find them after the move (found moving MLflow 2.9's tracking database to
PostgreSQL: MLflow 3's ``mlflow db upgrade`` then failed on ``ALTER TABLE registered_models
DROP CONSTRAINT registered_model_pk``); a name PostgreSQL cannot give is named in check."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from draftkit import draft, ferry
from pgkit import pg_exec, pg_rows

NAMED = """
CREATE TABLE model (name TEXT NOT NULL, stage TEXT,
    CONSTRAINT model_pk PRIMARY KEY (name),
    CONSTRAINT model_stage CHECK (stage IN ('dev', 'prod')));
CREATE TABLE version (id INTEGER NOT NULL, model TEXT NOT NULL, tag TEXT,
    CONSTRAINT version_pk PRIMARY KEY (id),
    CONSTRAINT uq_version_tag UNIQUE (model, tag),
    CONSTRAINT fk_version_model FOREIGN KEY (model) REFERENCES model (name) ON DELETE CASCADE);
INSERT INTO model VALUES ('churn', 'dev');
INSERT INTO version VALUES (1, 'churn', 'a');
"""

CONSTRAINTS = (
    "SELECT conrelid::regclass::text, contype::text, conname FROM pg_constraint "
    "WHERE connamespace = 'public'::regnamespace ORDER BY 1, 3"
)


def test_constraints_keep_their_source_names_on_postgres(tmp_path: Path, pg_url: str) -> None:
    plan = draft(tmp_path, NAMED, pg_url)
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    assert pg_rows(pg_url, CONSTRAINTS) == [
        ("model", "p", "model_pk"),
        ("model", "c", "model_stage"),
        ("version", "f", "fk_version_model"),
        ("version", "u", "uq_version_tag"),
        ("version", "p", "version_pk"),
    ]


def test_the_apps_migration_drops_a_constraint_by_its_name(tmp_path: Path, pg_url: str) -> None:
    plan = draft(tmp_path, NAMED, pg_url)
    assert ferry("migrate", plan).exit_code == 0
    pg_exec(
        pg_url,
        "ALTER TABLE version DROP CONSTRAINT fk_version_model",
        "ALTER TABLE version DROP CONSTRAINT version_pk",
        "ALTER TABLE version ADD CONSTRAINT version_pk PRIMARY KEY (id, model)",
    )
    assert ("version", "p", "version_pk") in pg_rows(pg_url, CONSTRAINTS)


def test_constraints_keep_their_source_names_on_sqlite(tmp_path: Path) -> None:
    target = tmp_path / "out.db"
    plan = draft(tmp_path, NAMED, f"sqlite:///{target}")
    assert ferry("migrate", plan).exit_code == 0
    with sqlite3.connect(target) as conn:
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'version'").fetchone()[0]
    conn.close()
    for name in ("version_pk", "uq_version_tag", "fk_version_model"):
        assert f'CONSTRAINT "{name}"' in sql


CLASH = """
CREATE TABLE alpha (id INTEGER NOT NULL, CONSTRAINT pk PRIMARY KEY (id));
CREATE TABLE beta (id INTEGER NOT NULL, CONSTRAINT pk PRIMARY KEY (id));
INSERT INTO alpha VALUES (1);
INSERT INTO beta VALUES (2);
"""


def test_a_name_taken_in_the_schema_is_left_to_postgres_and_named(
    tmp_path: Path, pg_url: str
) -> None:
    plan = draft(tmp_path, CLASH, pg_url)
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    assert pg_rows(pg_url, CONSTRAINTS) == [("alpha", "p", "pk"), ("beta", "p", "beta_pkey")]
    assert (
        "constraint beta.pk: translated (created with the database's own name: name taken by "
        "constraint pk of alpha)" in " ".join(result.output.split())
    )


#: Airflow's dataset_alias_dataset: two named foreign keys on the same column (a migration
#: artifact its SQLite file keeps), in a table whose primary key has no name of its own
TWICE = """
CREATE TABLE dataset (id INTEGER NOT NULL PRIMARY KEY);
CREATE TABLE alias_dataset (dataset_id INTEGER NOT NULL PRIMARY KEY,
    CONSTRAINT ds_dsa_dataset_id FOREIGN KEY(dataset_id) REFERENCES dataset (id) ON DELETE CASCADE,
    CONSTRAINT alias_dataset_dataset_id_fk FOREIGN KEY(dataset_id) REFERENCES dataset (id)
        ON DELETE CASCADE);
INSERT INTO dataset VALUES (1);
INSERT INTO alias_dataset VALUES (1);
"""


def test_two_named_foreign_keys_on_one_column_both_come_across(tmp_path: Path, pg_url: str) -> None:
    """Both were added under the first one's name: the run failed (``constraint
    "ds_dsa_dataset_id" for relation "alias_dataset" already exists``)."""
    plan = draft(tmp_path, TWICE, pg_url)
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    keys = [r for r in pg_rows(pg_url, CONSTRAINTS) if r[:2] == ("alias_dataset", "f")]
    assert len(keys) == 2 and ("alias_dataset", "f", "ds_dsa_dataset_id") in keys


def test_check_names_a_foreign_key_declared_twice(tmp_path: Path, pg_url: str) -> None:
    result = ferry("check", draft(tmp_path, TWICE, pg_url))
    assert result.exit_code == 0, result.output
    assert (
        "constraint alias_dataset.ds_dsa_dataset_id: translated: created with the database's "
        "own name: name taken by the same key of alias_dataset, declared twice in the source"
    ) in " ".join(result.output.split())
