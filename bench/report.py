"""Collecting figures with their targets; printing them and writing results.json."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.json"


@dataclass
class Figure:
    """One measured figure and its target (``>= x`` or ``<= x``)."""

    name: str
    value: float
    unit: str
    target: str = ""
    note: str = ""

    @property
    def ok(self) -> bool | None:
        """Whether the target is met (None when the figure has no target)."""
        if not self.target:
            return None
        op, limit = self.target.split()
        return self.value >= float(limit) if op == ">=" else self.value <= float(limit)


class Report:
    """Figures in the order they were measured."""

    def __init__(self):
        self.figures: list[Figure] = []

    def add(self, name: str, value: float, unit: str, target: str = "", note: str = "") -> Figure:
        """Record and print one figure beside its target."""
        figure = Figure(name, value, unit, target, note)
        self.figures.append(figure)
        verdict = {True: "OK", False: "MISSED", None: ""}[figure.ok]
        target_text = f"target {target} {unit}" if target else ""
        print(f"  {name:<58} {value:>10.2f} {unit:<14} {target_text:<24} {verdict} {note}", flush=True)
        return figure

    def write(self, path: Path = RESULTS) -> None:
        """Merge this run's figures into results.json."""
        existing = json.loads(path.read_text()) if path.exists() else {}
        for f in self.figures:
            existing[f.name] = {"value": round(f.value, 3), "unit": f.unit, "target": f.target or None,
                                "ok": f.ok, "note": f.note or None}
        path.write_text(json.dumps(existing, ensure_ascii=False, indent=2) + "\n")
