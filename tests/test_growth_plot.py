"""bench/growth.py's plot: a well-formed SVG with one line per figure, on log axes."""

from __future__ import annotations

import importlib.util
import xml.etree.ElementTree as ET
from pathlib import Path

SVG = "{http://www.w3.org/2000/svg}"


def _growth():
    path = Path(__file__).resolve().parents[1] / "bench" / "growth.py"
    spec = importlib.util.spec_from_file_location("growth", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_figure_is_a_line_rising_with_the_members_on_log_axes():
    growth = _growth()
    sizes = [20_000, 200_000, 2_000_000]
    # Each figure ten times the last per tenfold members: equal steps on log-log axes.
    figures = {m: {f: (i + 1) * m / 1000 for i, f in enumerate(growth.FIGURES)} for m in sizes}
    root = ET.fromstring(growth.svg(sizes, figures))
    lines = root.findall(f"{SVG}polyline")
    assert len(lines) == len(growth.FIGURES)
    for line in lines:
        points = [tuple(map(float, p.split(","))) for p in line.get("points").split()]
        xs, ys = zip(*points, strict=True)
        assert xs[0] < xs[1] < xs[2]
        assert ys[0] > ys[1] > ys[2]  # higher cost is further up (smaller y)
        assert abs((xs[1] - xs[0]) - (xs[2] - xs[1])) < 0.5
        assert abs((ys[0] - ys[1]) - (ys[1] - ys[2])) < 0.5
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert {"20k", "200k", "2M"} <= set(labels)
    assert all(name.split(":")[0] in labels for name in growth.FIGURES)


def test_one_size_or_one_decade_still_draws():
    growth = _growth()
    flat = {100_000: dict.fromkeys(growth.FIGURES, 10.0)}
    root = ET.fromstring(growth.svg([100_000], flat))
    assert len(root.findall(f"{SVG}polyline")) == len(growth.FIGURES)
