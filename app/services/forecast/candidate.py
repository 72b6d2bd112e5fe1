"""Forecast a candidate version before it goes live: the same projects through it and through the active one.

For each stage, ``n`` simulated projects (seeded: the same seed gives the same
forecast) run through the candidate's spec and through the active version's
(``simulate.Simulator``, the real engine).  Project ``i`` takes the same start
data (sampled from history), the same application day and its own random
stream on both sides, so the difference between the versions is not drowned in
the noise between two samples (common random numbers).  Applications are
spread over the next ``SPREAD_DAYS`` calendar days from the model's end, so the
working-day calendar and its holidays weigh as they will.

Per stage: median and p90 working days old and new, the differences and their
95 % bootstrap intervals, the outcomes, and which figures rest on analyst input:
the elements whose times come from their ``forecast_*`` properties, the share of
simulated projects that passed through one, and elements that neither history
nor the analyst timed (taken as one working day, and said so).

Simulation runs in ``workers`` processes (fork) when more than one is asked for:
each child inherits the parsed specs and the model and touches no database.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import DeploymentFile
from ...stages import STAGES
from .simulate import SimResult, Simulator, analyst_figures, assumed_years, fixed_calendar

SPREAD_DAYS = 90
BOOTSTRAP = 1000
CHUNK = 25
_JOB: dict[str, Any] = {}
_SIMULATING = threading.RLock()
#: the active version's simulated projects, by model, stage, version, n and seed (the same every time)
_BASELINES: dict[tuple, list] = {}


def stage_process(stage_key: str) -> str:
    """The process id of a stage."""
    for stage in STAGES:
        if stage.key == stage_key:
            return stage.process_id
    raise KeyError(stage_key)


def changed_stages(session: Session, candidate: int, active: int) -> list[str]:
    """The stages whose BPMN differs between two versions (their own file or a file they call)."""
    def files(version):
        return {r.path: r.content for r in session.scalars(select(DeploymentFile).where(
            DeploymentFile.version == version))}
    new, old = files(candidate), files(active)
    changed_paths = {p for p in set(new) | set(old) if new.get(p) != old.get(p)}
    out = []
    for stage in STAGES:
        own = [p for p, c in new.items() if f'id="{stage.process_id}"'.encode() in c]
        if any(p in changed_paths for p in own) or any(
                p in changed_paths and (p.endswith(".dmn") or "common/" in p) for p in changed_paths):
            out.append(stage.key)
    return out


def task_specs(bundle) -> list:
    """Every task spec of a bundle: its process and the processes it calls."""
    specs = list(bundle.spec.task_specs.values())
    for sub in bundle.subprocess_specs.values():
        specs += list(sub.task_specs.values())
    return specs


def element_inventory(platform, stage_key: str, candidate: int, active: int) -> dict[str, Any]:
    """The candidate's user tasks that are new, and those with the analyst's figures."""
    process_id = stage_process(stage_key)
    new_specs = task_specs(platform.specs.get(process_id, candidate))
    old_ids = {getattr(s, "bpmn_id", None) for s in task_specs(platform.specs.get(process_id, active))}
    analyst, new = [], []
    for spec in new_specs:
        bpmn_id = getattr(spec, "bpmn_id", None)
        if not bpmn_id or not getattr(spec, "manual", False):
            continue
        props = dict(spec.extensions.get("properties", {})) if hasattr(spec, "extensions") else {}
        entry = {"id": bpmn_id, "name": spec.bpmn_name or bpmn_id}
        figures = analyst_figures(props)
        if figures is not None:
            analyst.append({**entry, "median_days": figures[0], "p90_days": figures[1], "outcomes": figures[2]})
        if bpmn_id not in old_ids:
            new.append({**entry, "analyst": figures is not None})
    return {"analyst_elements": analyst, "new_elements": new}


def _plan(model: dict, stage_key: str, n: int, seed: int) -> list[tuple[int, dt.datetime]]:
    """Project i's start sample and application instant (the same for both versions)."""
    starts = model["stages"][stage_key]["starts"]
    rng = np.random.default_rng([seed, 0])
    picks = rng.integers(0, len(starts), n)
    base = dt.datetime.fromisoformat(model["until"])
    offsets = rng.uniform(0, SPREAD_DAYS * 86400, n)
    return [(int(picks[i]), base + dt.timedelta(seconds=float(offsets[i]))) for i in range(n)]


def _run_chunk(indices: list[int]) -> list[tuple[int, SimResult]]:
    job = _JOB
    sim = job.get("sim")
    if sim is None:
        sim = job["sim"] = Simulator(job["platform"], job["model"], job["process_id"], job["version"],
                                     np.random.default_rng(0), calendar=job["calendar"])
    starts, plan, seed = job["starts"], job["plan"], job["seed"]
    out = []
    for i in indices:
        sim.rng = np.random.default_rng([seed, 1, i])
        pick, at = plan[i]
        out.append((i, sim.run(starts[pick], at)))
    return out


def simulate_version(platform, model: dict, stage_key: str, version: int, n: int, seed: int,
                     workers: int = 1, progress: Callable[[int], None] = lambda k: None,
                     plan: list[tuple[int, dt.datetime]] | None = None) -> list[SimResult]:
    """``n`` simulated projects of a stage through one version, in project order."""
    with _SIMULATING:  # one simulation at a time per process: _JOB is what its forked workers inherit
        return _simulate_version(platform, model, stage_key, version, n, seed, workers, progress, plan)


def _simulate_version(platform, model, stage_key, version, n, seed, workers, progress, plan) -> list[SimResult]:
    process_id = stage_process(stage_key)
    platform.specs.get(process_id, version)  # parsed once, here, before any fork
    _JOB.clear()
    _JOB.update(platform=platform, model=model, process_id=process_id, version=version,
                calendar=fixed_calendar(platform.calendar),  # read here, before any fork: never in a child
                starts=model["stages"][stage_key]["starts"], plan=plan or _plan(model, stage_key, n, seed),
                seed=seed)
    n = len(_JOB["plan"])
    chunks = [list(range(k, min(k + CHUNK, n))) for k in range(0, n, CHUNK)]
    results: list[SimResult | None] = [None] * n
    if workers > 1 and n > CHUNK and "fork" in multiprocessing.get_all_start_methods():
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for part in pool.imap_unordered(_run_chunk, chunks):
                for i, r in part:
                    results[i] = r
                progress(len(part))
    else:
        for chunk in chunks:
            for i, r in _run_chunk(chunk):
                results[i] = r
            progress(len(chunk))
    _JOB.clear()
    return results  # type: ignore[return-value]


def baselines(platform, model: dict, active: int, n: int, seed: int = 1, workers: int = 1) -> dict[str, Any]:
    """The active version's simulated projects of every stage the model can start, to store with the model.

    The nightly job stores them beside the model, so that the first forecast of a draft
    simulates the draft alone; they are exactly what ``forecast`` would simulate (same plan,
    same streams).
    """
    out = {}
    for stage_key, stage in model.get("stages", {}).items():
        if stage_key not in {s.key for s in STAGES} or not stage.get("starts"):
            continue
        results = simulate_version(platform, model, stage_key, active, n, seed, workers,
                                   plan=_plan(model, stage_key, n, seed))
        out[stage_key] = {"version": active, "n": n, "seed": seed,
                          "days": [r.days for r in results],
                          "end": [r.end_event for r in results], "analyst": [r.analyst for r in results],
                          "defaulted": [r.defaulted for r in results], "tasks": [r.tasks for r in results],
                          "stuck": [r.stuck for r in results]}
    return out


def stored_baseline(model: dict, stage_key: str, active: int, n: int, seed: int) -> list[SimResult] | None:
    """The stored baseline of a stage when it matches the version, n and seed asked for."""
    found = (model.get("baselines") or {}).get(stage_key)
    if not found or (found["version"], found["n"], found["seed"]) != (active, n, seed):
        return None
    stuck = found.get("stuck") or [False] * len(found["days"])
    return [SimResult(*row) for row in zip(found["days"], found["end"], found["analyst"], found["defaulted"],
                                            found["tasks"], stuck, strict=True)]


def summary(results: list[SimResult]) -> dict[str, Any]:
    """Median, p90, outcomes and counts of a simulated sample."""
    days = np.array([r.days for r in results if r.days is not None])
    return {"n": len(results), "ended": int(days.size),
            "median": round(float(np.median(days)), 2) if days.size else None,
            "p90": round(float(np.quantile(days, 0.9)), 2) if days.size else None,
            "outcomes": dict(Counter(r.end_event or "running" for r in results)),
            "analyst_share": round(sum(r.analyst for r in results) / max(1, len(results)), 4),
            "defaulted_share": round(sum(r.defaulted for r in results) / max(1, len(results)), 4),
            #: given up after MAX_STEPS engine steps (a loop the model's shares never leave)
            "stuck": sum(r.stuck for r in results)}


def difference(old: list[SimResult], new: list[SimResult], seed: int) -> dict[str, Any]:
    """New minus old (median and p90) with 95 % paired bootstrap intervals."""
    pairs = [(a.days, b.days) for a, b in zip(old, new, strict=True) if a.days is not None and b.days is not None]
    if len(pairs) < 2:
        return {"median": None, "p90": None, "median_ci": None, "p90_ci": None}
    a, b = np.array(pairs).T
    rng = np.random.default_rng([seed, 2])
    idx = rng.integers(0, len(a), (BOOTSTRAP, len(a)))
    dm = np.median(b[idx], axis=1) - np.median(a[idx], axis=1)
    dp = np.quantile(b[idx], 0.9, axis=1) - np.quantile(a[idx], 0.9, axis=1)
    return {"median": round(float(np.median(b) - np.median(a)), 2),
            "median_ci": [round(float(v), 2) for v in np.quantile(dm, [0.025, 0.975])],
            "p90": round(float(np.quantile(b, 0.9) - np.quantile(a, 0.9)), 2),
            "p90_ci": [round(float(v), 2) for v in np.quantile(dp, [0.025, 0.975])]}


def histogram(old: list[SimResult], new: list[SimResult], bins: int = 24) -> dict[str, Any]:
    """Both cycle-time distributions on common bins (for the chart)."""
    a = [r.days for r in old if r.days is not None]
    b = [r.days for r in new if r.days is not None]
    if not a and not b:
        return {"edges": [], "old": [], "new": []}
    top = float(np.quantile(a + b, 0.98)) or 1.0
    edges = np.linspace(0, top, bins + 1)
    return {"edges": [round(float(e), 2) for e in edges],
            "old": np.histogram(np.clip(a, 0, top), edges)[0].tolist(),
            "new": np.histogram(np.clip(b, 0, top), edges)[0].tolist()}


def forecast(platform, model: dict, candidate: int, active: int, stages: list[str], n: int = 1000,
             seed: int = 1, workers: int = 1, progress: Callable[[int, int], None] = lambda d, t: None
             ) -> dict[str, Any]:
    """The forecast of a candidate version against the active one, per stage."""
    total, done = 2 * n * len(stages), 0

    def step(k: int) -> None:
        nonlocal done
        done += k
        progress(done, total)

    out = []
    for stage_key in stages:
        if stage_key not in model.get("stages", {}) or not model["stages"][stage_key].get("starts"):
            out.append({"stage": stage_key, "error": "no history of this stage to start simulated projects from"})
            step(2 * n)
            continue
        plan = _plan(model, stage_key, n, seed)
        baseline = (model.get("until"), model.get("instances"), model.get("task_count"), stage_key, active, n, seed)
        old = _BASELINES.get(baseline) or stored_baseline(model, stage_key, active, n, seed)
        if old is None:
            old = simulate_version(platform, model, stage_key, active, n, seed, workers, step, plan=plan)
            while len(_BASELINES) >= 8:
                _BASELINES.pop(next(iter(_BASELINES)))
            _BASELINES[baseline] = old
        else:
            step(n)
        new = simulate_version(platform, model, stage_key, candidate, n, seed, workers, step, plan=plan)
        out.append({"stage": stage_key, "old": summary(old), "new": summary(new),
                    "difference": difference(old, new, seed), "histogram": histogram(old, new),
                    **element_inventory(platform, stage_key, candidate, active)})
    return {"candidate": candidate, "active": active, "n": n, "seed": seed, "model_until": model.get("until"),
            "basis": "simulated by the engine on the deployed specs; times and outcomes from history, "
                     "analyst figures where given (analyst_elements, new.analyst_share)",
            "model_instances": model.get("instances"), "stages": out,
            #: years past the declared calendar that simulated projects may reach, counted as weekdays
            "calendar_assumed_years": assumed_years(platform.calendar, fixed_calendar(platform.calendar))}


def default_workers() -> int:
    """Two simulation processes where the machine has two cores or more."""
    return 2 if (os.cpu_count() or 1) >= 2 else 1
