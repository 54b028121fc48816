"""A small document model rendered twice: as Markdown (report.md) and as one
self-contained HTML page (report.html, figures embedded as data URIs, because the Kubeflow
UI shows an HTML artifact as a single file and would not load linked images).

Text blocks use a sliver of Markdown: paragraphs, "- " bullet lines, **bold** and `code`.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

MISSING = "—"


@dataclass(frozen=True)
class Table:
    """A table shown as it is (cells already formatted as text)."""

    frame: pd.DataFrame
    note: str = ""


@dataclass(frozen=True)
class Figure:
    path: Path
    caption: str


Block = str | Table | Figure


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)
    level: int = 2


# --------------------------------------------------------------------------- markdown

def _text(value: object) -> str:
    """A cell's text: MISSING for None and NaN."""
    if value is None or (isinstance(value, float) and value != value):
        return MISSING
    return str(value).replace("\n", " ")


def _md_cell(value: object) -> str:
    return _text(value).replace("|", "\\|") or " "


def markdown_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "_(no rows)_\n"
    header = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(_md_cell(c) for c in header) + " |",
             "|" + "---|" * len(header)]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_md_cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def to_markdown(title: str, banner: str, sections: list[Section]) -> str:
    parts = [f"# {title}\n"]
    if banner:
        parts.append(f"> **{banner}**\n")
    for section in sections:
        parts.append(f"{'#' * section.level} {section.title}\n")
        for block in section.blocks:
            if isinstance(block, Table):
                parts.append(markdown_table(block.frame))
                if block.note:
                    parts.append(block.note + "\n")
            elif isinstance(block, Figure):
                parts.append(f"![{block.caption}]({block.path.name})\n")
            else:
                parts.append(block.rstrip() + "\n")
    return "\n".join(parts)


# --------------------------------------------------------------------------- html

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")


def _inline(text: str) -> str:
    escaped = html.escape(text, quote=False)
    return _CODE.sub(r"<code>\1</code>", _BOLD.sub(r"<strong>\1</strong>", escaped))


def _html_text(block: str) -> str:
    out, items = [], []
    for line in block.strip().splitlines():
        if line.startswith("- "):
            items.append(f"<li>{_inline(line[2:])}</li>")
            continue
        if items:
            out.append("<ul>" + "".join(items) + "</ul>")
            items = []
        if line.strip():
            out.append(f"<p>{_inline(line)}</p>")
    if items:
        out.append("<ul>" + "".join(items) + "</ul>")
    return "\n".join(out)


def _html_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "<p><em>(no rows)</em></p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = "".join(f"<td>{html.escape(_text(v))}</td>" for v in row)
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _embedded(figure: Figure) -> str:
    data = base64.b64encode(figure.path.read_bytes()).decode("ascii")
    caption = html.escape(figure.caption)
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{caption}">'
            f"<figcaption>{caption}</figcaption></figure>")


_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1200px;margin:1.5em auto;padding:0 1em;
color:#222}
table{border-collapse:collapse;font-size:0.82em;margin:0.6em 0}
th,td{border:1px solid #ccc;padding:2px 6px;text-align:right}
th{background:#f2f2f2}
td:first-child,th:first-child{text-align:left}
.banner{background:#fff3cd;border:2px solid #e0a800;padding:0.6em 1em;font-weight:bold}
img{max-width:100%}
code{background:#f4f4f4;padding:0 3px}
"""


def to_html(title: str, banner: str, sections: list[Section]) -> str:
    parts = [f"<h1>{html.escape(title)}</h1>"]
    if banner:
        parts.append(f'<p class="banner">{html.escape(banner)}</p>')
    for section in sections:
        level = min(section.level, 6)
        parts.append(f"<h{level}>{html.escape(section.title)}</h{level}>")
        for block in section.blocks:
            if isinstance(block, Table):
                parts.append(_html_table(block.frame))
                if block.note:
                    parts.append(_html_text(block.note))
            elif isinstance(block, Figure):
                parts.append(_embedded(block))
            else:
                parts.append(_html_text(block))
    return ("<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
            + "\n".join(parts) + "</body></html>\n")
