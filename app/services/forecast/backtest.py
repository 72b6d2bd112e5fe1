"""The backtest: learn from the first 80 % of history by time, forecast the last 20 %, compare.

The cut is at 80 % of the period between the first and the last application.
The model learns from everything before the cut, as it stood then (tasks open
at the cut are censored).  Each application filed after the cut is then
simulated ``runs`` times by the real engine from its own start data (what the
applicant filed: project, application, decision facts) on its own filing day,
through the version it ran on.  Both sides are observed the same way: an
application counts when it ended before the history did (a simulated one whose
end falls after is dropped, as the real ones still running are).

Per stage: the median and the p90 of the cycle time (working days), their
errors against the real held-out applications, and the earth mover's distance
(``scipy.stats.wasserstein_distance``) between the distributions; beside them
the naive forecast, the median of the training period's completed applications
for every application of the stage.

A stage is scored against the targets only when its held-out sample can tell a
miss from luck: at least ``MIN_HELD_OUT`` applications, and the 95 % bootstrap
interval of their own median narrower than the median's target (±15 %) on each
side.  Stage 1's cycle times are bimodal (filings with one or two items end in a
day or two, the rest after their reviews) and the median falls between the
modes: a few hundred applications move it by a quarter from one quarter of the
year to the next.  The others are printed with their interval, not scored.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.stats import wasserstein_distance
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...models import ProcessInstance, Project
from ...stages import STAGES
from . import model as learning
from .simulate import Simulator

#: held-out applications a stage needs before its figures count against the targets
MIN_HELD_OUT = 20
#: simulated applications aimed at per stage (each held-out one is simulated ceil(this / count) times)
SIMULATED = 400
TARGETS = {"median": 0.15, "p90": 0.25}
#: resamples of the held-out sample for the intervals of its median and p90
BOOTSTRAP = 1000


def _version(spec_key: str) -> int:
    return int(spec_key.rpartition("@")[2])


def backtest(session: Session, platform, share: float = 0.8, stages: list[str] | None = None, seed: int = 1,
             simulated: int = SIMULATED, progress: Callable[[str, int, int], None] = lambda s, d, t: None
             ) -> dict[str, Any]:
    """Learn before the cut, forecast after it, per stage; the table of errors."""
    first, last = session.execute(select(func.min(ProcessInstance.started_at),
                                         func.max(ProcessInstance.started_at))).one()
    if first is None:
        return {"stages": [], "error": "no history"}
    ends = max(last, session.scalar(select(func.max(ProcessInstance.completed_at))) or last)
    cut = first + (last - first) * share
    model = learning.learn(session, platform, cut)
    cal = platform.calendar
    rows = session.execute(select(ProcessInstance, Project).join(Project, Project.id == ProcessInstance.project_id)
                           .where(ProcessInstance.started_at >= cut).order_by(ProcessInstance.id)).all()
    out = []
    for stage in [s.key for s in STAGES if stages is None or s.key in stages]:
        held = [(i, p) for i, p in rows if i.stage_key == stage]
        real = [learning.working_days(cal, i.started_at, i.completed_at) for i, _ in held
                if i.status != "running" and i.completed_at is not None and i.completed_at <= ends]
        train = _training_cycles(session, cal, stage, cut)
        entry: dict[str, Any] = {"stage": stage, "held_out": len(held), "real_n": len(real),
                                 "train_n": len(train), "counts": len(real) >= MIN_HELD_OUT and bool(train)}
        if not real or stage not in model["stages"] or not train:
            out.append(entry)
            continue
        runs = max(1, math.ceil(simulated / max(1, len(held))))
        sims = _simulate(platform, model, held, runs, ends, seed, lambda d, t, s=stage: progress(s, d, t))
        naive = float(np.median(train))
        entry.update(_compare(np.array(real), np.array(sims), naive, seed), runs=runs, simulated_n=len(sims))
        entry["counts"] = entry["counts"] and entry["real"]["median_resolution"] <= TARGETS["median"]
        out.append(entry)
    return {"cut": cut.isoformat(), "first": first.isoformat(), "last": last.isoformat(), "share": share,
            "model_instances": model["instances"], "stages": out, "targets": TARGETS}


def _training_cycles(session: Session, cal, stage: str, cut: dt.datetime) -> list[float]:
    done = session.scalars(select(ProcessInstance).where(
        ProcessInstance.stage_key == stage, ProcessInstance.started_at < cut, ProcessInstance.status != "running",
        ProcessInstance.completed_at.is_not(None), ProcessInstance.completed_at < cut))
    return [learning.working_days(cal, i.started_at, i.completed_at) for i in done]


def _simulate(platform, model: dict, held: list, runs: int, ends: dt.datetime, seed: int,
              progress: Callable[[int, int], None]) -> list[float]:
    sims, simulators = [], {}
    total = len(held) * runs
    for k, (inst, project) in enumerate(held):
        version = _version(inst.spec_key)
        sim = simulators.get(version)
        if sim is None:
            sim = simulators[version] = Simulator(platform, model, inst.process_id, version,
                                                  np.random.default_rng(seed))
        start = learning._start_data(inst, project)
        for r in range(runs):
            sim.rng = np.random.default_rng([seed, inst.id, r])
            result = sim.run(start, inst.started_at)
            if result.days is None:
                continue
            if platform.calendar.extend(inst.started_at, dt.timedelta(days=result.days)) <= ends:
                sims.append(result.days)
        progress((k + 1) * runs, total)
    return sims


def _errors(value: float, real: float) -> float:
    return (value - real) / real if real else float("inf")


def _interval(real: np.ndarray, share: float, seed: int) -> list[float]:
    """The 95 % bootstrap interval of a quantile of the held-out sample."""
    rng = np.random.default_rng([seed, 3])
    values = np.quantile(real[rng.integers(0, len(real), (BOOTSTRAP, len(real)))], share, axis=1)
    return [round(float(v), 2) for v in np.quantile(values, [0.025, 0.975])]


def _resolution(interval: list[float], value: float) -> float:
    """How far the interval reaches from the value, relative to it (the larger side)."""
    return round(max(value - interval[0], interval[1] - value) / value, 4) if value else float("inf")


def _compare(real: np.ndarray, sims: np.ndarray, naive: float, seed: int = 1) -> dict[str, Any]:
    rm, rp = float(np.median(real)), float(np.quantile(real, 0.9))
    median_ci, p90_ci = _interval(real, 0.5, seed), _interval(real, 0.9, seed)
    sm, sp = float(np.median(sims)), float(np.quantile(sims, 0.9))
    forecast = {"median": round(sm, 2), "p90": round(sp, 2),
                "median_error": round(_errors(sm, rm), 4), "p90_error": round(_errors(sp, rp), 4),
                "emd": round(float(wasserstein_distance(sims, real)), 3)}
    baseline = {"median": round(naive, 2), "p90": round(naive, 2),
                "median_error": round(_errors(naive, rm), 4), "p90_error": round(_errors(naive, rp), 4),
                "emd": round(float(wasserstein_distance([naive], real)), 3)}
    ok = (abs(forecast["median_error"]) <= TARGETS["median"] and abs(forecast["p90_error"]) <= TARGETS["p90"]
          and forecast["emd"] < baseline["emd"])
    return {"real": {"median": round(rm, 2), "p90": round(rp, 2), "median_ci": median_ci, "p90_ci": p90_ci,
                     "median_resolution": _resolution(median_ci, rm), "p90_resolution": _resolution(p90_ci, rp)},
            "forecast": forecast, "naive": baseline,
            "better_than_naive": forecast["emd"] < baseline["emd"]
            and abs(forecast["p90_error"]) <= abs(baseline["p90_error"]), "meets_targets": ok}


def table(result: dict[str, Any]) -> str:
    """The backtest as a plain-text table."""
    head = (f"{'stage':<13}{'held':>5}{'real':>5}{'sim':>6} | {'real med':>8}{'fc med':>8}{'err':>7} | "
            f"{'real p90':>8}{'fc p90':>8}{'err':>7} | {'EMD':>6}{'naive med':>10}{'naive EMD':>10} | ok")
    lines = [head, "-" * len(head)]
    for s in result["stages"]:
        if "forecast" not in s:
            lines.append(f"{s['stage']:<13}{s['held_out']:>5}{s['real_n']:>5}{'':>6} | too little history")
            continue
        f, n, r = s["forecast"], s["naive"], s["real"]
        mark = ("yes" if s["meets_targets"] else "NO") if s["counts"] else (
            "(too few to count)" if s["real_n"] < MIN_HELD_OUT else
            f"(too noisy to count: real median ±{r['median_resolution']:.0%})")
        lines.append(f"{s['stage']:<13}{s['held_out']:>5}{s['real_n']:>5}{s['simulated_n']:>6} | "
                     f"{r['median']:>8.2f}{f['median']:>8.2f}{f['median_error']:>+7.0%} | "
                     f"{r['p90']:>8.2f}{f['p90']:>8.2f}{f['p90_error']:>+7.0%} | "
                     f"{f['emd']:>6.2f}{n['median']:>10.2f}{n['emd']:>10.2f} | {mark}")
    return "\n".join(lines)
