"""``ferry.targets.asyncengine``: SQLAlchemy's async engine without the ORM its package's
``__init__`` imports, and the package still whole for whoever asks it for more. Each test runs
in a fresh interpreter (what is imported is per process)."""

from __future__ import annotations

import subprocess
import sys


def _python(code: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_the_engine_loads_without_the_orm() -> None:
    out = _python("import sys, ferry.migrate\nprint('sqlalchemy.orm' in sys.modules)")
    assert out == ["False"]


def test_a_name_of_the_package_later_runs_its_init_once() -> None:
    out = _python(
        "import sys\n"
        "from ferry.targets.asyncengine import AsyncEngine\n"
        "from sqlalchemy.ext.asyncio import AsyncSession, AsyncEngine as Later\n"
        "print(Later is AsyncEngine, AsyncSession.__module__)"
    )
    assert out == ["True", "sqlalchemy.ext.asyncio.session"]


def test_an_attribute_of_the_package_later_runs_its_init() -> None:
    out = _python(
        "import ferry.targets.asyncengine, sqlalchemy.ext.asyncio as pkg\n"
        "print(pkg.async_sessionmaker.__name__, pkg.session.__name__)"
    )
    assert out == ["async_sessionmaker", "sqlalchemy.ext.asyncio.session"]


def test_a_star_import_of_the_package_later_gets_every_name() -> None:
    out = _python(
        "import ferry.targets.asyncengine\n"
        "from sqlalchemy.ext.asyncio import *\n"
        "print(AsyncSession.__name__, create_async_engine.__name__)"
    )
    assert out == ["AsyncSession", "create_async_engine"]


def test_a_package_imported_before_is_used_as_it_is() -> None:
    out = _python(
        "import sqlalchemy.ext.asyncio as pkg\n"
        "from ferry.targets.asyncengine import AsyncEngine\n"
        "print(type(pkg).__name__, AsyncEngine is pkg.AsyncEngine)"
    )
    assert out == ["module", "True"]
