"""Tables the CLI prints, readable in any terminal width.

A rich table that does not fit the console shrinks its columns: names get cut to ``inse…``
or folded away. Here a table that fits is printed as it is; one that does not is printed
stacked, one block per row: the row's name whole on its own line, then ``header value``
pairs wrapped to the width (``read 200  inserted 13  updated 0``).
"""

from __future__ import annotations

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

_UNBOUNDED = 100_000


def fits(console: Console, table: Table) -> bool:
    """Whether ``table`` prints at its natural width (no column shrunk) on ``console``."""
    # measured unbounded: the console's own options would clamp it to the width
    unbounded = console.options.update(width=_UNBOUNDED)
    return Measurement.get(console, unbounded, table).maximum <= console.width


def print_table(console: Console, table: Table) -> None:
    """Print ``table`` whole when it fits, else stacked (its first column names each block)."""
    if fits(console, table):
        console.print(table)
        return
    for line in stacked_lines(console, table):
        console.print(line, soft_wrap=True)


def stacked_lines(console: Console, table: Table) -> list[Text]:
    """The stacked layout's lines: title, then per row its name and wrapped pairs, caption."""
    lines: list[Text] = []
    if table.title:
        lines.append(_text(table.title, "bold"))
    columns = table.columns
    cells = [list(column.cells) for column in columns]
    width = max(console.width - 2, 20)
    for row in range(table.row_count):
        lines.append(_text(cells[0][row], "bold"))
        line = Text("  ")
        for column, values in zip(columns[1:], cells[1:], strict=True):
            pair = _text(column.header, "dim") + Text(" ") + _text(values[row], "")
            if line.cell_len > 2 and line.cell_len + 2 + pair.cell_len > width:
                lines.append(line)
                line = Text("  ")
            if line.cell_len > 2:
                line.append("  ")
            line.append_text(pair)
        if line.cell_len > 2:
            lines.append(line)
    if table.caption:
        lines.append(_text(table.caption, "dim"))
    return lines


def _text(value: object, style: str) -> Text:
    """A cell, header or title (markup string or Text) as styled Text."""
    text = value.copy() if isinstance(value, Text) else Text.from_markup(str(value))
    if style:
        text.stylize(style)
    return text


__all__ = ["fits", "print_table", "stacked_lines"]
