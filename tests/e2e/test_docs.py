"""The README and docs/ hold together: every relative link and image exists (a link's
``#anchor`` is a heading there), the README lists every docs page, the doc pointers in the code
name pages and sections that exist, and the examples of the plan reference and of "How a run
works" run. The shell examples run in test_readme_flow.py."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from docexamples import DOCS, README, ROOT, anchor, blocks, headings, links

from ferry.demo import demo_source

PAGES = [README, *sorted(DOCS.glob("*.md"))]


def _relative(target: str) -> bool:
    return not re.match(r"^[a-z][a-z0-9+.-]*:", target)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_relative_link_and_image_exists(page: Path) -> None:
    broken = []
    for target in filter(_relative, links(page)):
        path, _, fragment = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif fragment and file.suffix == ".md" and fragment not in map(anchor, headings(file)):
            broken.append(f"{target}: {file.name} has no heading with anchor #{fragment}")
    assert broken == [], f"{page.relative_to(ROOT)}: {broken}"


def test_the_readme_links_every_docs_page() -> None:
    linked = {
        (README.parent / target.partition("#")[0]).resolve()
        for target in links(README)
        if _relative(target)
    }
    assert [p.name for p in sorted(DOCS.glob("*.md")) if p.resolve() not in linked] == []


def test_the_readme_is_a_front_page() -> None:
    """What Ferry is and how to install it first; the reference lives in docs/."""
    text = README.read_text(encoding="utf-8")
    first_screen = "\n".join(text.splitlines()[:40])
    assert "## Install" in first_screen
    assert "apt install ./dist/ferry_" in first_screen  # without Python
    assert "pip install" in text.split("## The two commands")[0]  # with Python
    assert len(text.splitlines()) <= 200


#: a doc page named in the code, with the section it names when it does: docs/x.md ("Section")
_POINTER = re.compile(r'docs/([\w-]+\.md)(?:,? \(?"([^"]+)"\)?)?')


def test_doc_pointers_in_the_code_name_pages_and_sections_that_exist() -> None:
    broken = []
    for source in sorted([*ROOT.glob("core/**/*.py"), *ROOT.glob("gui/**/*.py")]):
        for name, section in _POINTER.findall(source.read_text(encoding="utf-8")):
            page = DOCS / name
            if not page.exists():
                broken.append(f"{source.relative_to(ROOT)}: docs/{name}")
            elif section and not any(h.startswith(section) for h in headings(page)):
                broken.append(f'{source.relative_to(ROOT)}: docs/{name} "{section}"')
    assert broken == []


def test_the_plan_references_toml_examples_parse() -> None:
    examples = blocks(DOCS / "plan.md", "toml")
    assert len(examples) >= 4
    for example in examples:
        tomllib.loads(example.text)


def _ferry(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "ferry.cli.command", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_the_plan_references_worked_example_checks_and_previews_on_the_demo(
    tmp_path: Path,
) -> None:
    """The worked example (the bundled demo's plan, abridged) against the demo's own data."""
    example = blocks(DOCS / "plan.md", "toml")[0]
    folder = tmp_path / "demo"
    shutil.copytree(demo_source(), folder)
    (folder / "ferry.toml").write_text(example.text, encoding="utf-8")

    check = _ferry(folder, "check", "ferry.toml")
    preview = _ferry(folder, "preview", "ferry.toml")

    assert check.returncode == 0, check.stdout + check.stderr
    assert preview.returncode == 0, preview.stdout + preview.stderr
    assert "execution_steps" in preview.stdout


def test_the_python_example_of_how_a_run_works_runs_on_the_demo(tmp_path: Path) -> None:
    (example,) = blocks(DOCS / "how-a-run-works.md", "python")
    folder = tmp_path / "demo"
    shutil.copytree(demo_source(), folder)

    run = subprocess.run(
        [sys.executable, "-c", example.text],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert run.returncode == 0, run.stderr
    assert "inserted" in run.stdout.splitlines()[-1]
