"""What a reader sees in a matplotlib Figure, as plain data the tests can check.

Plot functions return their Figure. The tests read its titles, axis labels, legends,
colour bars and plotted data through `summary`, so they check what a reader needs rather
than "some PNG exists". When grading, the summary is made next to the student's code and
only this plain data crosses to the grader.

This module imports nothing but NumPy: it also runs inside the grader's student process.
"""

from __future__ import annotations

import numpy as np

MAX_POINTS = 100_000  # per line or image: enough for any plot of this module


def is_figure(obj) -> bool:
    return type(obj).__name__ in ("Figure", "SubFigure") and \
        type(obj).__module__.startswith("matplotlib.")


def _array(values) -> np.ndarray:
    a = np.asarray(np.ma.filled(np.ma.asarray(values, dtype=np.float64), np.nan))
    return a if a.size <= MAX_POINTS else a.reshape(-1)[:MAX_POINTS]


def _axes(ax) -> dict:
    legend = ax.get_legend()
    images = [_array(im.get_array()) for im in ax.get_images()]
    images += [_array(c.get_array()) for c in ax.collections
               if type(c).__name__ in ("QuadMesh", "PolyQuadMesh")]
    return {
        "title": ax.get_title() or ax.get_title(loc="left") or ax.get_title(loc="right"),
        "xlabel": ax.get_xlabel(),
        "ylabel": ax.get_ylabel(),
        "xscale": ax.get_xscale(),
        "yscale": ax.get_yscale(),
        "legend": [t.get_text() for t in legend.get_texts()] if legend is not None else [],
        "lines": [{"label": line.get_label(), "x": _array(line.get_xdata()),
                   "y": _array(line.get_ydata())} for line in ax.get_lines()],
        "bars": len(ax.patches),
        "images": images,
        "colorbar": False,
    }


def summary(fig) -> dict:
    """{"kind": "figure", "suptitle", "axes": [...]} for a matplotlib Figure. Colour bars
    are not listed as axes; the axes whose image or mesh they describe get "colorbar": True."""
    plots = [ax for ax in fig.get_axes() if getattr(ax, "_colorbar", None) is None]
    axes = [_axes(ax) for ax in plots]
    for ax in fig.get_axes():
        bar = getattr(ax, "_colorbar", None)
        owner = getattr(getattr(bar, "mappable", None), "axes", None)
        if bar is not None:
            index = next((i for i, p in enumerate(plots) if p is owner), 0)
            if axes:
                axes[index]["colorbar"] = True
    suptitle = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) else ""
    return {"kind": "figure", "suptitle": suptitle, "axes": axes}


def plain(result):
    """`result` with any Figure in it (at the top, or in a returned tuple or list) replaced
    by its summary."""
    if is_figure(result):
        return summary(result)
    if isinstance(result, (tuple, list)) and any(is_figure(r) for r in result):
        return type(result)(summary(r) if is_figure(r) else r for r in result)
    return result
