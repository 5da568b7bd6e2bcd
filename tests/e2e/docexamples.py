"""Reading the README and docs/ the way the tests run them: a section's code blocks, its shell
commands, the headings (and their GitHub anchors) and the relative links of a Markdown file."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"

_FENCE = re.compile(r"^```(\w*)\s*$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
#: [text](target) and ![alt](target); a target in angle brackets or with a title is not used here
_LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^()\s]+)\)")


@dataclass
class Block:
    """One fenced code block: its language and its lines."""

    lang: str
    lines: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _walk(path: Path) -> list[tuple[str, str | Block]]:
    """The file as ("heading", text), ("line", text) and ("block", Block) items, in order."""
    items: list[tuple[str, str | Block]] = []
    block: Block | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        fence = _FENCE.match(line)
        if block is not None:
            if line.startswith("```"):
                items.append(("block", block))
                block = None
            else:
                block.lines.append(line)
        elif fence:
            block = Block(fence.group(1))
        elif heading := _HEADING.match(line):
            items.append(("heading", heading.group(2)))
        else:
            items.append(("line", line))
    assert block is None, f"{path}: a code block is not closed"
    return items


def headings(path: Path) -> list[str]:
    """Every heading's text, code blocks left out (a ``# comment`` in one is no heading)."""
    return [text for kind, text in _walk(path) if kind == "heading" and isinstance(text, str)]


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.lower())
    return text.replace(" ", "-")


def blocks(path: Path, lang: str, heading: str | None = None) -> list[Block]:
    """The code blocks in ``lang``, of the whole file or of the section under ``heading``."""
    found: list[Block] = []
    inside = heading is None
    for kind, item in _walk(path):
        if kind == "heading" and heading is not None:
            inside = item == heading
        elif kind == "block" and inside and isinstance(item, Block) and item.lang == lang:
            found.append(item)
    if heading is not None:
        assert heading in headings(path), f"{path.name} has no heading {heading!r}"
    return found


def links(path: Path) -> list[str]:
    """The targets of the Markdown links and images outside code blocks and code spans."""
    targets: list[str] = []
    for kind, item in _walk(path):
        if kind in ("line", "heading") and isinstance(item, str):
            prose = re.sub(r"`[^`]*`", "``", item)
            targets += _LINK.findall(prose)
    return targets


@dataclass
class Step:
    """One line of a shell example: a command's words, or a comment line saying what to do."""

    words: list[str]
    comment: str = ""


def shell_steps(block: Block) -> list[Step]:
    """A bash block's lines as steps; a comment after a command is left out."""
    steps: list[Step] = []
    for line in block.lines:
        text = line.strip()
        if not text:
            continue
        if text.startswith("#"):
            steps.append(Step([], text.lstrip("# ")))
        else:
            steps.append(Step(shlex.split(text, comments=True)))
    return steps
