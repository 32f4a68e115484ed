"""The pieces every ferrotrade HTML report is made of: tables, plotly charts, one self-contained page.

A page inlines plotly.js once in its head (so it opens offline), then one ``Plotly.newPlot`` call per chart;
it is written atomically (a temporary file next to the target, renamed over it), so a reader never sees
half a report and a failed write leaves any previous one in place.

Examples
--------
>>> table_html(["a", "b"], [["x", "1"]], [False, True])
'<table>\\n<tr><th>a</th><th>b</th></tr>\\n<tr><td>x</td><td class="num">1</td></tr>\\n</table>'
"""

from __future__ import annotations

import html
import os
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["figure_html", "format_cell", "table_html", "write_page"]

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1400px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { padding: 0.25em 0.8em; border-bottom: 1px solid #eee; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
p.note { color: #555; font-size: 0.9em; }
"""


def format_cell(value: object) -> str:
    """A table cell: floats to 6 significant digits with thousands separators, times to the second (UTC
    in, UTC out), None as ``n/a``.

    Examples
    --------
    >>> format_cell(1234567.891), format_cell(None), format_cell(3)
    ('1.23457e+06', 'n/a', '3')
    """
    if value is None:
        return "n/a"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        return f"{value:,.6g}"
    return str(value)


def table_html(header: Sequence[str] | None, rows: Iterable[Sequence[str]], numeric: Sequence[bool]) -> str:
    """An HTML table of already formatted cells (escaped here); ``numeric`` cells are right-aligned."""
    out = ["<table>"]
    if header is not None:
        out.append("<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>")
    for row in rows:
        cells = (
            f'<td class="num">{html.escape(c)}</td>' if num else f"<td>{html.escape(c)}</td>"
            for c, num in zip(row, numeric, strict=True)
        )
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def figure_html(fig: Any, div_id: str) -> str:
    """A plotly figure as a ``<div>`` and its ``Plotly.newPlot`` call (plotly.js itself is in the head)."""
    import plotly.io as pio  # type: ignore[import-untyped]  # noqa: PLC0415 - plotly only when drawing

    height = fig.layout.height or 400
    return str(
        pio.to_html(
            fig,
            include_plotlyjs=False,
            full_html=False,
            div_id=div_id,
            default_height=f"{height}px",
            config={"displaylogo": False, "responsive": True},
        )
    )


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Not tempfile.mkstemp: its 0600 mode would survive the rename; "x" mode honours the umask.
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with tmp.open("x", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_page(path: str | os.PathLike[str], title: str, sections: Sequence[tuple[str, str]]) -> Path:
    """Write a self-contained page of ``(section title, HTML content)`` sections; return its path."""
    import plotly.offline  # type: ignore[import-untyped]  # noqa: PLC0415 - plotly only when drawing

    body = [
        f"<section>\n<h2>{html.escape(section)}</h2>\n{content}\n</section>" for section, content in sections
    ]
    page = "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f"<title>{html.escape(title)}</title>",
            f"<style>{_CSS}</style>",
            f'<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script>',
            "</head>",
            "<body>",
            f"<h1>{html.escape(title)}</h1>",
            *body,
            "</body>",
            "</html>",
            "",
        ]
    )
    out = Path(path)
    _write_atomically(out, page)
    return out
