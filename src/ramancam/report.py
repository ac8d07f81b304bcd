"""A self-contained HTML report: one file, figures embedded, nothing fetched from anywhere.

:func:`write_report` turns a title and a list of :class:`Section` objects into one HTML file
with inline CSS, figures embedded as base64 PNG, no scripts and no links to the network, so
the file can be mailed, archived or opened offline years later. Every piece of text that may
come from a user (file names, labels, class names, settings, table cells, captions) is passed
through :func:`html.escape`; only the markup written here is raw.

Each report states the settings and seed of the run and the software versions (ramancam,
Python, numpy, torch, scikit-learn, the platform), because the numbers in it depend on them.

Example
-------
>>> from ramancam.report import Section, Table, write_report
>>> write_report("report.html", "My run", [            # doctest: +SKIP
...     Section("Accuracy", ["CNN on the test set.",
...                          Table(["model", "accuracy"], [["CNN", 0.98]])])],
...     settings={"epochs": 100}, seed=0)
"""

from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import html
import math
import os
import platform
import sys
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .errors import RamancamError

__all__ = ["Figure", "Links", "Section", "Table", "format_value", "render_report",
           "software_versions", "write_bytes", "write_report", "write_text"]

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# ----------------------------------------------------------------------------- blocks
@dataclass(frozen=True)
class Table:
    """A table of numbers or text.

    Parameters
    ----------
    columns : sequence of str
        Column headings.
    rows : sequence of sequences
        One sequence per row, as long as ``columns``; floats are shown with 4 significant
        digits, ``None`` and NaN as a dash.
    caption : str, optional
    """

    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    caption: str | None = None

    def __post_init__(self) -> None:
        n = len(self.columns)
        for i, row in enumerate(self.rows):
            if len(row) != n:
                raise RamancamError(
                    f"table row {i} must have {n} cells (one per column); got {len(row)}.")


@dataclass(frozen=True)
class Figure:
    """A PNG image with a caption.

    Parameters
    ----------
    png : bytes
        The PNG file's bytes (see :meth:`from_matplotlib`, :func:`ramancam.plot.figure_png`).
    caption : str
        Shown below the image and used as its alternative text.
    """

    png: bytes
    caption: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.png, bytes | bytearray) or not bytes(self.png).startswith(
                PNG_MAGIC):
            raise RamancamError(
                "figure must be PNG bytes; got "
                f"{type(self.png).__name__} not starting with the PNG signature. "
                "Render it with ramancam.plot.figure_png(fig).")

    @classmethod
    def from_matplotlib(cls, fig: Any, caption: str = "", *, dpi: int = 110) -> Figure:
        """Render a matplotlib figure (and close it)."""
        from .plot import figure_png

        return cls(figure_png(fig, dpi=dpi), caption)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], caption: str = "") -> Figure:
        """Read a PNG file written earlier."""
        from .io._atomic import pending_path

        return cls(pending_path(path).read_bytes(), caption)


@dataclass(frozen=True)
class Links:
    """A list of links to files beside the report.

    Parameters
    ----------
    items : sequence of (str, str)
        ``(text, path)``: the path is relative to the report's folder, in ``/`` form, and
        may not leave it (no scheme, no leading ``/``, no ``..``).
    """

    items: Sequence[tuple[str, str]]

    def __post_init__(self) -> None:
        for _, path in self.items:
            parts = str(path).split("/")
            if ":" in str(path) or str(path).startswith("/") or ".." in parts or not path:
                raise RamancamError(
                    f"report link must be a relative path inside the report's folder; got "
                    f"{path!r}.")


Block = str | Table | Figure | Links | Mapping[str, Any]


@dataclass
class Section:
    """A titled part of the report.

    Parameters
    ----------
    title : str
    blocks : sequence
        Drawn in order: a ``str`` is a paragraph, a :class:`Table` a table, a :class:`Figure`
        an image, :class:`Links` a list of links to files beside the report, and a mapping
        a two-column "name | value" table (settings, numbers).
    level : int
        Heading level, 2 (a main part) or 3 (a sub-part).
    """

    title: str
    blocks: Sequence[Block] = field(default_factory=list)
    level: int = 2


# ----------------------------------------------------------------------------- formatting
def format_value(value: Any) -> str:
    """Text for one table cell (not yet escaped): 4 significant digits for floats."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) or type(value).__name__.startswith("float"):
        v = float(value)
        if math.isnan(v):
            return "–"
        if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3):
            return f"{v:.3e}"
        return f"{v:.4g}"
    if isinstance(value, list | tuple):
        return ", ".join(format_value(v) for v in value)
    return str(value)


def software_versions() -> dict[str, str]:
    """Versions of everything the numbers depend on (missing packages say so)."""
    from . import __version__

    out = {"ramancam": __version__, "python": sys.version.split()[0]}
    for name, module in (("numpy", "numpy"), ("torch", "torch"), ("scikit-learn", "sklearn"),
                         ("scipy", "scipy"), ("matplotlib", "matplotlib")):
        try:
            mod = __import__(module)
            out[name] = str(getattr(mod, "__version__", "unknown"))
        except ImportError:
            out[name] = "not installed"
    out["platform"] = platform.platform()
    from .provenance import with_commit

    return with_commit(out)


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.7em;border-bottom:2px solid #1f4e9c;padding-bottom:.2em}
h2{font-size:1.35em;margin-top:2em;border-bottom:1px solid #ccc}
h3{font-size:1.1em;margin-top:1.4em}
table{border-collapse:collapse;margin:.2em 0 1.2em;font-size:.92em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#eef2f8}
td{white-space:pre-wrap}
td.num{text-align:right;font-variant-numeric:tabular-nums}
p.tcap{font-weight:600;margin:1em 0 .2em}
figure{margin:1em 0 1.6em}
figure img{max-width:100%;height:auto;border:1px solid #ddd}
figcaption{font-size:.9em;color:#444;margin-top:.3em}
nav ul{columns:2;font-size:.95em}
.meta{font-size:.88em;color:#555}
p.note{background:#fff7e0;border-left:4px solid #e0a000;padding:.4em .8em}
"""


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _is_number(value: Any) -> bool:
    return (not isinstance(value, bool)) and (isinstance(value, int | float) or type(
        value).__name__.startswith(("float", "int")))


def _render_table(columns: Sequence[Any], rows: Sequence[Sequence[Any]],
                  caption: str | None) -> str:
    # The caption is a paragraph above the table, not <caption>: browsers wrap a <caption>
    # to the table's width, which squeezes long captions over narrow tables.
    out = [f'<p class="tcap">{_esc(caption)}</p>'] if caption else []
    out.append("<table>")
    out.append("<thead><tr>" + "".join(f"<th>{_esc(c)}</th>" for c in columns)
               + "</tr></thead><tbody>")
    for row in rows:
        cells = []
        for v in row:
            cls = ' class="num"' if _is_number(v) else ""
            cells.append(f"<td{cls}>{_esc(format_value(v))}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _render_block(block: Any) -> str:
    if isinstance(block, str):
        if block.startswith("NOTE: "):
            return f'<p class="note">{_esc(block[6:])}</p>'
        return f"<p>{_esc(block)}</p>"
    if isinstance(block, Table):
        return _render_table(block.columns, block.rows, block.caption)
    if isinstance(block, Figure):
        data = base64.b64encode(bytes(block.png)).decode("ascii")
        cap = _esc(block.caption)
        return (f'<figure><img alt="{cap}" src="data:image/png;base64,{data}">'
                f"<figcaption>{cap}</figcaption></figure>")
    if isinstance(block, Links):
        return "<ul>" + "".join(
            f'<li><a href="{_esc(urllib.parse.quote(str(path)))}">{_esc(text)}</a></li>'
            for text, path in block.items) + "</ul>"
    if isinstance(block, Mapping):
        return _render_table(["name", "value"], [[k, v] for k, v in block.items()], None)
    raise RamancamError(
        f"report block must be str, Table, Figure, Links or a mapping; got {type(block).__name__}.")


def render_report(title: str, sections: Sequence[Section], *,
                  settings: Mapping[str, Any] | None = None, seed: int | None = None,
                  created: str | None = None) -> str:
    """The report as an HTML string (see :func:`write_report`)."""
    for i, s in enumerate(sections):
        if not isinstance(s, Section):
            raise RamancamError(
                f"sections[{i}] must be a ramancam.report.Section; got {type(s).__name__}.")
        if s.level not in (2, 3):
            raise RamancamError(f"section level must be 2 or 3; got {s.level} in "
                                f"section {s.title!r}.")
    created = created or _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{_esc(title)}</title>", f"<style>{_CSS}</style></head><body>",
             f"<h1>{_esc(title)}</h1>",
             f'<p class="meta">Written {_esc(created)} by ramancam '
             f"{_esc(software_versions()['ramancam'])}.</p>"]
    if sections:
        parts.append("<nav><ul>")
        # Anchors are numbered, never derived from user text.
        for i, s in enumerate(sections):
            if s.level == 2:
                parts.append(f'<li><a href="#s{i}">{_esc(s.title)}</a></li>')
        parts.append("</ul></nav>")
    for i, s in enumerate(sections):
        parts.append(f'<h{s.level} id="s{i}">{_esc(s.title)}</h{s.level}>')
        parts.extend(_render_block(b) for b in s.blocks)
    parts.append('<h2 id="run">Run settings and software</h2>')
    # a run without randomness (explain, the map outputs) has no seed to report
    run: dict[str, Any] = {} if seed is None else {"seed": seed}
    run.update(settings or {})
    if run:
        parts.append(_render_table(["setting", "value"], [[k, v] for k, v in run.items()],
                                   "Settings"))
    parts.append(_render_table(["software", "version"],
                               [[k, v] for k, v in software_versions().items()],
                               "Software versions"))
    parts.append("</body></html>\n")
    return "\n".join(parts)


# ----------------------------------------------------------------------------- writing
@contextlib.contextmanager
def _atomic(path: Path, mode: str) -> Iterator[IO[Any]]:
    """:func:`ramancam.io.atomic_write` (UTF-8 text or bytes)."""
    from .io import atomic_write

    with atomic_write(path, mode=mode) as fh:
        yield fh


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write text (UTF-8) atomically: nothing half-written is left on error."""
    p = Path(path)
    with _atomic(p, "w") as fh:
        fh.write(text)
    return p


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write bytes atomically."""
    p = Path(path)
    with _atomic(p, "wb") as fh:
        fh.write(data)
    return p


def write_report(path: str | os.PathLike[str], title: str, sections: Sequence[Section], *,
                 settings: Mapping[str, Any] | None = None, seed: int | None = None) -> Path:
    """Write one self-contained HTML report.

    Parameters
    ----------
    path : str or path-like
        The HTML file to write (atomically); its folder must exist.
    title : str
        The report's title.
    sections : sequence of Section
        The body, in order.
    settings : mapping of str to value, optional
        Settings of the run, listed at the end with the seed and software versions.
    seed : int, optional
        The random seed of the run (none for a run without randomness: no seed row).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    RamancamError
        If the folder of ``path`` does not exist, or a section or block is of the wrong kind.
    """
    p = Path(path)
    if not p.parent.is_dir():
        raise RamancamError(f"report folder must exist; got {str(p.parent)!r}. "
                            "Create it first or choose another --out.")
    return write_text(p, render_report(title, sections, settings=settings, seed=seed))
