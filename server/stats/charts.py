"""Bar charts drawn on the server as SVG: readable without colour (hatched bars, the value written on every bar,
labelled axes, a title and a description for screen readers; the page shows the same numbers as a table)."""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 16, 76


def bar_chart(chart_id: str, title: str, description: str, bars: list[tuple[str, float | None]],
              unit: str = "", top: float | None = None) -> Markup:
    """A vertical bar chart; a bar without a value (None) is drawn as "–" without a bar."""
    values = [v for _, v in bars if v is not None]
    top = top or _nice(max(values, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(bars))
    bar_w = max(4.0, min(48.0, step * 0.7))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" class="chart" role="img" '
             f'id="{escape(chart_id)}" aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d">',
             f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
             f'<desc id="{escape(chart_id)}-d">{escape(description)}</desc>',
             '<defs><pattern id="' + escape(chart_id) + '-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
             'patternTransform="rotate(45)"><rect width="6" height="6" fill="#c7dbf2"/>'
             '<line x1="3" y1="0" x2="3" y2="6" stroke="#0b4f9c" stroke-width="2"/></pattern></defs>']
    for i in range(5):  # grid lines with their values
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid-line"/>'
                     f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">{_fmt(value)}</text>')
    every = max(1, round(len(bars) / 16))  # at most about 16 category labels fit
    for i, (label, value) in enumerate(bars):
        x = LEFT + step * i + (step - bar_w) / 2
        cx = x + bar_w / 2
        if value is not None and top:
            h = plot_h * min(value, top) / top
            y = TOP + plot_h - h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" class="bar" '
                         f'fill="url(#{escape(chart_id)}-hatch)"><title>{escape(label)}: {_fmt(value)}{escape(unit)}'
                         f'</title></rect>')
        text_y = (TOP + plot_h - plot_h * min(value or 0, top) / top if top else TOP + plot_h) - 4
        if len(bars) <= 31:
            parts.append(f'<text x="{cx:.1f}" y="{text_y:.1f}" class="value" text-anchor="middle">'
                         f'{"–" if value is None else _fmt(value)}</text>')
        if i % every == 0:
            parts.append(f'<text x="{cx:.1f}" y="{TOP + plot_h + 16}" class="axis" text-anchor="end" '
                         f'transform="rotate(-35 {cx:.1f} {TOP + plot_h + 16})">{escape(_short(label))}'
                         f'<title>{escape(label)}</title></text>')
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" class="axis-line"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _short(label: str, size: int = 16) -> str:
    return label if len(label) <= size else label[:size - 1] + "…"


def _nice(value: float) -> float:
    """A round top for the axis, at least the largest value."""
    if value <= 0:
        return 1.0
    for step in (1, 2, 2.5, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000):
        if step * 4 >= value:
            return step * 4.0
    return float(value)


def _fmt(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
