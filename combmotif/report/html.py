"""Small HTML helpers: escaping, the page template, tables, and the static assets.

Pages are plain HTML rendered from ``templates/page.html`` with
:class:`string.Template`. The scripts and style they use live in the
repository's ``utils/`` folder and are copied next to the pages
(:func:`copy_assets`), so a results folder opens from disk with no network.
Nothing time-dependent is written, so the same results give the same pages.
"""

from __future__ import annotations

import html
import json
import math
import os
from pathlib import Path
from string import Template
from typing import Any, Sequence

from .. import __version__
from ..errors import InputError
from ..io import write_text
from ..paths import repo_root

ASSETS = ("logo.js", "table.js", "style.css")
TEMPLATES = Path(__file__).resolve().parent / "templates"
UTILS_DIR = repo_root() / "utils"


def esc(value: Any) -> str:
    """HTML-escape any value's text.

    Parameters
    ----------
    value : object
        Anything (``None`` gives the empty string).

    Returns
    -------
    str
    """
    return html.escape("" if value is None else str(value), quote=True)


def copy_assets(dest: str | os.PathLike) -> Path:
    """Copy utils/{logo.js, table.js, style.css} into ``dest`` (rewritten only when changed).

    Parameters
    ----------
    dest : str or os.PathLike
        The assets folder beside the pages.

    Returns
    -------
    Path
        ``dest``.
    """
    dest = Path(dest)
    for name in ASSETS:
        src = UTILS_DIR / name
        if not src.is_file():
            raise InputError(f"{src}: page asset missing (the repository's utils/ folder)")
        text = src.read_text()
        target = dest / name
        if not target.is_file() or target.read_text() != text:
            write_text(target, text)
    return dest


def render_page(title: str, body: str, assets: str,
                crumbs: Sequence[tuple[str, str | None]] = (), heading: str | None = None,
                logos: dict | None = None) -> str:
    """A full page from ``templates/page.html``.

    ``assets`` is the relative URL of the folder holding the copied assets;
    ``crumbs`` are (label, href or None) pairs; ``logos`` the JSON data the
    canvases are drawn from (key -> spec, see utils/logo.js).

    Parameters
    ----------
    title : str
        The page title.
    body : str
        The page body (HTML).
    assets : str
        Relative URL of the assets folder.
    crumbs : sequence of (str, str or None)
        The breadcrumb trail.
    heading : str, optional
        The heading (default: the title).
    logos : dict, optional
        Logo specs drawn on the page's canvases.

    Returns
    -------
    str
        The HTML page.
    """
    template = Template((TEMPLATES / "page.html").read_text())
    nav = " &rsaquo; ".join(f'<a href="{esc(h)}">{esc(t)}</a>' if h else esc(t) for t, h in crumbs)
    return template.substitute(
        title=esc(title), heading=esc(heading or title), crumbs=nav, body=body,
        assets=esc(assets), version=esc(__version__), logo_json=script_json(logos or {}))


def script_json(obj: Any) -> str:
    """JSON safe to inline in a ``<script>`` element (no ``</script>`` can close it).

    Parameters
    ----------
    obj : object
        JSON-serialisable data.

    Returns
    -------
    str
    """
    return json.dumps(obj, separators=(",", ":")).replace("<", "\\u003c").replace(">", "\\u003e")


def table(headers: Sequence[str | tuple[str, str]], rows: Sequence[Sequence[str]],
          cls: str = "", table_id: str | None = None) -> str:
    """An HTML table. ``headers``: label or (label, css class), none for a header-less
    table; cells are already HTML (see :func:`td`).

    Parameters
    ----------
    headers : sequence of str or (str, str)
        Column labels, with an optional CSS class.
    rows : sequence of sequence of str
        The rows' cells (HTML).
    cls : str
        The table's CSS class.
    table_id : str, optional
        The table's id.

    Returns
    -------
    str
    """
    ths = []
    for h in headers:
        label, c = (h, "") if isinstance(h, str) else h
        ths.append(f'<th class="{c}">{esc(label)}</th>' if c else f"<th>{esc(label)}</th>")
    body = "\n".join("<tr>" + "".join(r) + "</tr>" for r in rows)
    attrs = (f' class="{cls}"' if cls else "") + (f' id="{esc(table_id)}"' if table_id else "")
    head = f"<thead><tr>{''.join(ths)}</tr></thead>\n" if ths else ""
    return f"<table{attrs}>\n{head}<tbody>\n{body}\n</tbody>\n</table>"


def td(content: str, sort: Any = None, cls: str = "") -> str:
    """A cell; ``content`` is HTML, ``sort`` the value the sortable table sorts on.

    Parameters
    ----------
    content : str
        The cell's HTML.
    sort : object, optional
        Sort value.
    cls : str
        CSS class.

    Returns
    -------
    str
    """
    attrs = (f' class="{cls}"' if cls else "") + (
        f' data-sort="{esc(sort)}"' if sort is not None else "")
    return f"<td{attrs}>{content}</td>"


def fmt_num(x: Any, digits: int = 3) -> str:
    """Numbers for people: ints as ints, floats to ``digits`` significant digits, '' for missing.

    Parameters
    ----------
    x : object
        The value.
    digits : int
        Significant digits of a float.

    Returns
    -------
    str
    """
    if x is None or (isinstance(x, float) and math.isnan(x)) or x == "":
        return ""
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int) or (isinstance(x, float) and x.is_integer() and abs(x) < 1e6):
        return str(int(x))
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    return str(x)


def fmt_q(q: Any) -> str:
    """A q- or p-value in scientific notation when small.

    Parameters
    ----------
    q : object
        The value (``None`` or NaN give the empty string).

    Returns
    -------
    str
    """
    if q is None or (isinstance(q, float) and math.isnan(q)):
        return ""
    q = float(q)
    return f"{q:.2g}" if q >= 0.001 else f"{q:.1e}"
