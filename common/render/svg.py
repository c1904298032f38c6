"""Charts as inline SVG, drawn by our own code so a report opens offline with no CDN.

Every label that comes from data goes through `markupsafe.escape`; the SVG is returned as `Markup` only after
that, so a `<script>` in a category name is shown as text. Sizes and the palette are fixed here (no
thresholds): a chart is 640 px wide, and long category lists are rotated or thinned so labels stay legible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

from schemas.report import ChartBlock

# Colour-blind-safe palette (Okabe-Ito), in the order series are drawn.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
WIDTH, HEIGHT = 640, 300
PAD_L, PAD_R, PAD_T, PAD_B = 56, 16, 16, 64


def fmt(v: Any) -> str:
    """A number as a short readable string (4 significant digits); anything else via str()."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3):
            return f"{v:.3e}"
        return f"{v:.4g}"
    return str(v)


def _nice_range(lo: float, hi: float) -> tuple[float, float, list[float]]:
    """Axis bounds and about five round tick values covering [lo, hi]."""
    if not math.isfinite(lo) or not math.isfinite(hi):
        lo, hi = 0.0, 1.0
    if hi == lo:
        hi = lo + (abs(lo) or 1.0)
    span = hi - lo
    step = 10 ** math.floor(math.log10(span / 5))
    for m in (1, 2, 2.5, 5, 10):
        if span / (step * m) <= 6:
            step *= m
            break
    start = math.floor(lo / step) * step
    end = math.ceil(hi / step) * step
    ticks, t = [], start
    while t <= end + step * 1e-9:
        ticks.append(round(t, 12))
        t += step
    return start, end, ticks


def _legend(names: Sequence[str], y: float) -> list[str]:
    out, x = [], PAD_L
    if len(names) < 2:
        return out
    for i, n in enumerate(names):
        c = PALETTE[i % len(PALETTE)]
        out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{c}"/>'
                   f'<text x="{x + 14}" y="{y}" class="lg">{escape(n)}</text>')
        x += 24 + 7 * len(str(n))
    return out


def _axes(lo: float, hi: float, ticks: list[float], plot_h: float, x_label: str | None,
          y_label: str | None) -> list[str]:
    out = []
    for t in ticks:
        y = PAD_T + plot_h - (t - lo) / (hi - lo) * plot_h
        out.append(
            f'<line x1="{PAD_L}" x2="{WIDTH - PAD_R}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{PAD_L - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{escape(fmt(t))}</text>'
        )
    out.append(f'<line x1="{PAD_L}" x2="{PAD_L}" y1="{PAD_T}" y2="{PAD_T + plot_h}" class="axis"/>')
    if y_label:
        out.append(
            f'<text transform="translate(14,{PAD_T + plot_h / 2:.0f}) rotate(-90)" text-anchor="middle" '
            f'class="al">{escape(y_label)}</text>'
        )
    if x_label:
        out.append(
            f'<text x="{PAD_L + (WIDTH - PAD_L - PAD_R) / 2:.0f}" y="{HEIGHT - 6}" text-anchor="middle" '
            f'class="al">{escape(x_label)}</text>'
        )
    return out


def _finite(values: Sequence[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def _xlabel(x: float, y: float, text: Any, rotate: bool) -> str:
    label = str(text)
    short = label if len(label) <= 18 else label[:17] + "…"
    tr = f' transform="rotate(-35 {x:.1f} {y:.1f})"' if rotate else ""
    anchor = "end" if rotate else "middle"
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="tick"{tr}>'
            f'<title>{escape(label)}</title>{escape(short)}</text>')


def _frame(body: list[str], title: str, height: int = HEIGHT, width: int = WIDTH) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" style="max-width:100%;height:auto" role="img" aria-label="{escape(title)}">'
        + "".join(body)
        + "</svg>"
    )


def bar_svg(c: ChartBlock, histogram: bool = False) -> Markup:
    names = list(c.series)
    n_cat = len(c.x) - 1 if histogram else len(c.x)
    n_cat = max(n_cat, max((len(v) for v in c.series.values()), default=0))
    vals = [v for s in c.series.values() for v in _finite(s)]
    lo, hi, ticks = _nice_range(min([0.0, *vals]), max([0.0, *vals]) if vals else 1.0)
    plot_h = HEIGHT - PAD_T - PAD_B
    plot_w = WIDTH - PAD_L - PAD_R
    body = _axes(lo, hi, ticks, plot_h, c.x_label, c.y_label)
    slot = plot_w / max(n_cat, 1)
    gap = 0 if histogram else slot * 0.15
    bw = (slot - 2 * gap) / max(len(names), 1)
    zero_y = PAD_T + plot_h - (0 - lo) / (hi - lo) * plot_h
    for si, (name, series) in enumerate(c.series.items()):
        color = PALETTE[si % len(PALETTE)]
        for i, v in enumerate(series):
            if v is None or not math.isfinite(float(v)):
                continue
            y = PAD_T + plot_h - (float(v) - lo) / (hi - lo) * plot_h
            x = PAD_L + i * slot + gap + si * bw
            cat = c.x[i] if i < len(c.x) else i
            if histogram and i + 1 < len(c.x):
                cat = f"{fmt(c.x[i])} – {fmt(c.x[i + 1])}"
            body.append(
                f'<rect x="{x:.1f}" y="{min(y, zero_y):.1f}" '
                f'width="{max(bw - (1 if histogram else 0), 1):.1f}" '
                f'height="{abs(zero_y - y):.1f}" fill="{color}"><title>{escape(name)} · {escape(str(cat))}: '
                f"{escape(fmt(v))}</title></rect>"
            )
    rotate = n_cat > 6
    step = max(1, math.ceil(n_cat / 24))  # at most ~24 labels so they never overlap
    if histogram:
        for i in range(0, len(c.x), step):
            body.append(_xlabel(PAD_L + i * slot, PAD_T + plot_h + 14, fmt(c.x[i]), rotate))
    else:
        for i in range(0, min(len(c.x), n_cat), step):
            body.append(_xlabel(PAD_L + (i + 0.5) * slot, PAD_T + plot_h + 14, c.x[i], rotate))
    body += _legend(names, PAD_T + 10)
    return _frame(body, c.title or c.chart)


def line_svg(c: ChartBlock) -> Markup:
    names = list(c.series)
    n = max((len(v) for v in c.series.values()), default=0)
    xs = (
        [float(x) if isinstance(x, (int, float)) else i for i, x in enumerate(c.x)] if c.x else list(range(n))
    )
    xs = xs + list(range(len(xs), n))
    vals = [v for s in c.series.values() for v in _finite(s)]
    lo, hi, ticks = _nice_range(min(vals) if vals else 0.0, max(vals) if vals else 1.0)
    x_lo, x_hi = (min(xs), max(xs)) if xs else (0.0, 1.0)
    if x_hi == x_lo:
        x_hi = x_lo + 1
    plot_h = HEIGHT - PAD_T - PAD_B
    plot_w = WIDTH - PAD_L - PAD_R
    body = _axes(lo, hi, ticks, plot_h, c.x_label, c.y_label)

    def px(x: float) -> float:
        return PAD_L + (x - x_lo) / (x_hi - x_lo) * plot_w

    for si, (name, series) in enumerate(c.series.items()):
        color = PALETTE[si % len(PALETTE)]
        segs, cur = [], []
        for i, v in enumerate(series):
            if v is None or not math.isfinite(float(v)):  # a gap breaks the line instead of dropping to 0
                if cur:
                    segs.append(cur)
                cur = []
                continue
            cur.append((px(xs[i]), PAD_T + plot_h - (float(v) - lo) / (hi - lo) * plot_h, v, xs[i]))
        if cur:
            segs.append(cur)
        for seg in segs:
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in seg)
            body.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2"/>')
            if len(seg) <= 60:
                for x, y, v, xv in seg:
                    body.append(
                        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{color}"><title>{escape(name)} @ '
                        f"{escape(fmt(xv))}: {escape(fmt(v))}</title></circle>"
                    )
    _, _, xticks = _nice_range(x_lo, x_hi)
    for t in xticks:
        if x_lo <= t <= x_hi:
            body.append(_xlabel(px(t), PAD_T + plot_h + 14, fmt(t), False))
    body += _legend(names, PAD_T + 10)
    return _frame(body, c.title or c.chart)


def heatmap_svg(c: ChartBlock) -> Markup:
    m = c.matrix or []
    rows, cols = len(m), max((len(r) for r in m), default=0)
    cell = max(18, min(56, int(420 / max(rows, cols, 1))))
    left, top = 130, 20
    width = left + cols * cell + 20
    height = top + rows * cell + 90
    vals = [float(v) for r in m for v in r if v is not None and math.isfinite(float(v))]
    vmax = max(vals) if vals else 1.0
    vmin = min([0.0, *vals])
    body = []
    for i, r in enumerate(m):
        for j, v in enumerate(r):
            t = 0.0 if vmax == vmin else (float(v) - vmin) / (vmax - vmin)
            # white -> blue; dark cells get white text so numbers stay readable
            rgb = tuple(int(255 - t * (255 - c0)) for c0 in (0, 90, 160))
            fg = "#fff" if t > 0.55 else "#222"
            x, y = left + j * cell, top + i * cell
            rl = c.y[i] if i < len(c.y) else i
            cl = c.x[j] if j < len(c.x) else j
            body.append(f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="rgb{rgb}" stroke="#fff">'
                        f'<title>{escape(str(rl))} → {escape(str(cl))}: {escape(fmt(v))}</title></rect>')
            if cell >= 26:
                body.append(
                    f'<text x="{x + cell / 2}" y="{y + cell / 2 + 4}" text-anchor="middle" class="cell" '
                    f'fill="{fg}">{escape(fmt(v))}</text>'
                )
    for i in range(rows):
        label = str(c.y[i]) if i < len(c.y) else str(i)
        body.append(
            f'<text x="{left - 6}" y="{top + i * cell + cell / 2 + 4}" text-anchor="end" class="tick">'
            f"<title>{escape(label)}</title>{escape(label[:18])}</text>"
        )
    for j in range(cols):
        label = c.x[j] if j < len(c.x) else j
        body.append(_xlabel(left + j * cell + cell / 2, top + rows * cell + 14, label, True))
    if c.y_label:
        body.append(
            f'<text transform="translate(12,{top + rows * cell / 2:.0f}) rotate(-90)" text-anchor="middle" '
            f'class="al">{escape(c.y_label)}</text>'
        )
    if c.x_label:
        body.append(
            f'<text x="{left + cols * cell / 2:.0f}" y="{height - 6}" text-anchor="middle" class="al">'
            f"{escape(c.x_label)}</text>"
        )
    return _frame(body, c.title or "heatmap", height=height, width=width)


def chart_svg(c: ChartBlock) -> Markup:
    """Render one ChartBlock as an escaped inline `<svg>` element."""
    if c.chart == "heatmap":
        return heatmap_svg(c)
    if c.chart == "line":
        return line_svg(c)
    return bar_svg(c, histogram=c.chart == "histogram")
