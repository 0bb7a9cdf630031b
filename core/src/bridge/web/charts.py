"""Charts drawn on the server as inline SVG (no script, no outside network): horizontal bars,
stacked horizontal bars and stacked columns.

Every chart is a ``<figure>``: the SVG has ``role="img"`` with a ``<title>`` and ``<desc>``
(what a screen reader announces), a legend in text, and the exact figures in a table under a
``<details>`` (the text alternative; also what a phone user reads when the bars get small).
Colours are dark enough for 3:1 against white and the legend names them, so no colour carries
meaning alone. The SVG scales to its container (``viewBox``, width 100%)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 420  # narrow enough that the text stays readable scaled to a phone
ROW = 30  # height of one horizontal bar's row
FONT = 13
LABEL_W = 140  # room for the labels left of horizontal bars
PLOT_H = 170  # height of the column chart's plot area

#: Okabe-Ito hues darkened to 3:1 or more against white.
GREEN, BLUE, ORANGE, RED, GREY, PURPLE = "#007d5a", "#0065a3", "#a85400", "#c0392b", "#6b7380", "#8e4585"


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its length and the text shown at its end (default: the value)."""

    label: str
    value: float
    text: str = ""


@dataclass(frozen=True)
class Series:
    """One named, coloured part of stacked bars or columns, a value per row or column."""

    name: str
    colour: str
    values: Sequence[float]


def _figure(ident: str, title: str, svg: str, legend: Sequence[Series],
            head: Sequence[str], rows: Sequence[Sequence[object]]) -> Markup:
    keys = "".join(f'<li><svg class="swatch" width="12" height="12" aria-hidden="true">'
                   f'<rect width="12" height="12" fill="{s.colour}"/></svg>{escape(s.name)}</li>'
                   for s in legend)
    table = ("<table><thead><tr>" + "".join(f'<th scope="col">{escape(h)}</th>' for h in head)
             + "</tr></thead><tbody>"
             + "".join("<tr>" + f'<th scope="row">{escape(r[0])}</th>'
                       + "".join(f"<td>{escape(c)}</td>" for c in r[1:]) + "</tr>" for r in rows)
             + "</tbody></table>")
    return Markup(
        f'<figure class="chart" id="{escape(ident)}">'
        f'<figcaption id="{escape(ident)}-caption">{escape(title)}</figcaption>'
        f"{svg}"
        + (f'<ul class="legend">{keys}</ul>' if keys else "")
        + f'<details><summary>Figures of “{escape(title)}”</summary>{table}</details></figure>')


def _svg(ident: str, title: str, desc: str, height: int, body: str) -> str:
    return (f'<svg viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
            f'aria-labelledby="{escape(ident)}-t {escape(ident)}-d" '
            f'font-size="{FONT}" font-family="system-ui, sans-serif">'
            f'<title id="{escape(ident)}-t">{escape(title)}</title>'
            f'<desc id="{escape(ident)}-d">{escape(desc)}</desc>{body}</svg>')


def _number(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def bars(ident: str, title: str, desc: str, rows: Sequence[Bar], *, colour: str = BLUE,
         head: tuple[str, str] = ("", "Value")) -> Markup:
    """Horizontal bars, one per row, scaled to the longest; ``desc`` says what they show."""
    if not rows:
        return _empty(ident, title)
    top = max((r.value for r in rows), default=0) or 1
    span = max(60.0, WIDTH - LABEL_W - _text_width(max((r.text or _number(r.value) for r in rows), key=len)))
    body = []
    for i, r in enumerate(rows):
        y = i * ROW
        w = max(0.0, r.value) / top * span
        body.append(f'<text x="{LABEL_W - 6}" y="{y + 19}" text-anchor="end" fill="#1d2430">'
                    f"{escape(_clip(r.label))}</text>"
                    f'<rect x="{LABEL_W}" y="{y + 6}" width="{w:.1f}" height="{ROW - 12}" fill="{colour}"/>'
                    f'<text x="{LABEL_W + w + 5:.1f}" y="{y + 19}" fill="#1d2430">'
                    f"{escape(r.text or _number(r.value))}</text>")
    svg = _svg(ident, title, desc, len(rows) * ROW + 4, "".join(body))
    return _figure(ident, title, svg, [], head,
                   [(r.label, r.text or _number(r.value)) for r in rows])


def stacked_bars(ident: str, title: str, desc: str, labels: Sequence[str],
                 series: Sequence[Series], *, head: str = "") -> Markup:
    """One horizontal bar per label, made of one segment per series, scaled to the longest."""
    if not labels:
        return _empty(ident, title)
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    top = max(totals) or 1
    span = WIDTH - LABEL_W - _text_width(_number(top))
    body = []
    for i, label in enumerate(labels):
        y, x = i * ROW, float(LABEL_W)
        body.append(f'<text x="{LABEL_W - 6}" y="{y + 19}" text-anchor="end" fill="#1d2430">'
                    f"{escape(_clip(label))}</text>")
        for s in series:
            w = s.values[i] / top * span
            if w > 0:
                body.append(f'<rect x="{x:.1f}" y="{y + 6}" width="{w:.1f}" height="{ROW - 12}" '
                            f'fill="{s.colour}"><title>{escape(s.name)}: {_number(s.values[i])}'
                            "</title></rect>")
            x += w
        body.append(f'<text x="{x + 5:.1f}" y="{y + 19}" fill="#1d2430">{_number(totals[i])}</text>')
    svg = _svg(ident, title, desc, len(labels) * ROW + 4, "".join(body))
    rows = [(label, *(_number(s.values[i]) for s in series), _number(totals[i]))
            for i, label in enumerate(labels)]
    return _figure(ident, title, svg, series, [head, *(s.name for s in series), "Total"], rows)


def columns(ident: str, title: str, desc: str, labels: Sequence[str], series: Sequence[Series],
            *, every: int = 7, head: str = "") -> Markup:
    """Stacked columns, one per label (e.g. per day), with a labelled value axis; every
    ``every``-th label, counted back from the last, is written under its column (all are in
    the table)."""
    if not labels:
        return _empty(ident, title)
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    top = _nice(max(totals))
    left, base = 36, PLOT_H + 8
    step = (WIDTH - left - 4) / len(labels)
    body = []
    for tick in (0, top / 2, top) if (top / 2).is_integer() else (0, top):
        y = base - tick / top * PLOT_H
        body.append(f'<line x1="{left}" x2="{WIDTH}" y1="{y:.1f}" y2="{y:.1f}" stroke="#c4cad3"/>'
                    f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" fill="#1d2430">'
                    f"{_number(round(tick, 1))}</text>")
    for i, label in enumerate(labels):
        x, y = left + i * step + 1, float(base)
        for s in series:
            h = s.values[i] / top * PLOT_H
            if h > 0:
                y -= h
                body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(step - 2, 1):.1f}" '
                            f'height="{h:.1f}" fill="{s.colour}"><title>{escape(label)} '
                            f"{escape(s.name)}: {_number(s.values[i])}</title></rect>")
        if (len(labels) - 1 - i) % every == 0:  # counted back from the last, always written
            last = i == len(labels) - 1  # ends at the right edge rather than past it
            body.append(f'<text x="{WIDTH if last else x + step / 2:.1f}" y="{base + 16}" '
                        f'text-anchor="{"end" if last else "middle"}" fill="#1d2430">{escape(label)}</text>')
    svg = _svg(ident, title, desc, base + 22, "".join(body))
    rows = [(label, *(_number(s.values[i]) for s in series), _number(totals[i]))
            for i, label in enumerate(labels)]
    return _figure(ident, title, svg, series, [head, *(s.name for s in series), "Total"], rows)


def _empty(ident: str, title: str) -> Markup:
    return Markup(f'<figure class="chart" id="{escape(ident)}"><figcaption>{escape(title)}'
                  '</figcaption><p class="muted">Nothing to show yet.</p></figure>')


def _nice(value: float) -> float:
    """The smallest of 1, 2, 5 × 10ⁿ at or above ``value`` (an axis' top), at least 1."""
    if value <= 1:
        return 1
    scale = 10 ** (len(str(int(value))) - 1)
    for m in (1, 2, 5, 10):
        if value <= m * scale:
            return float(m * scale)
    return float(10 * scale)


def _text_width(text: str) -> float:
    """Room for ``text`` at the chart's font size (an average character's width, and a gap)."""
    return len(text) * FONT * 0.6 + 10


def _clip(label: str, size: int = 20) -> str:
    return label if len(label) <= size else label[: size - 1] + "…"
