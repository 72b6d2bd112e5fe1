"""When will my stage be done: an applicant's expected completion of each running stage, from where it stands.

Not from an empty system: the open tasks of the instance are read as they are
now — which reviews are done, which are running and for how long (a review
running for eight working days is drawn from the reviews that took at least
eight), which wait for the applicant's correction (the item's clock is paused)
and which are stopped by a special procedure (特别程序, its time not counted).
Each open branch's remaining time is drawn ``DRAWS`` times from the model
(its residual, a possible correction round with the applicants' turnaround and
the window's recheck, and a new review), the stage ends after the slowest
branch and the stage's learnt tail (after acceptance, or after the last
review), and the median and the 90th percentile of those draws are counted
forward on the working-day calendar from now.  The draws are seeded by the
instance and its row version: the same state gives the same dates, and every
completion (a new row version) gives new ones.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.calendar import LOCAL_TZ, after_office_days

from ...models import HumanTask, ProcessInstance, SpecialProcedure
from . import store
from .model import REVIEW_FORMS, lookup, office_days, outcome_shares, sample, working_days

DRAWS = 400
ACCEPT, SUPPLEMENT, RECHECK = ("window_accept.schema.json", "correction_supplement.schema.json",
                               "correction_recheck.schema.json")


@dataclass(frozen=True)
class Eta:
    """The expected completion of one running stage."""

    stage: str
    instance_id: int
    median_days: float
    p90_days: float
    median_date: dt.date
    p90_date: dt.date
    open_tasks: int
    paused: int
    model_until: str

    def as_dict(self) -> dict[str, Any]:
        """The API's form."""
        return {"stage": self.stage, "instance_id": self.instance_id,
                "median_working_days": round(self.median_days, 1), "p90_working_days": round(self.p90_days, 1),
                "median_date": self.median_date.isoformat(), "p90_date": self.p90_date.isoformat(),
                "open_tasks": self.open_tasks, "paused_clocks": self.paused, "model_until": self.model_until}


def _residual(q: list[float], elapsed: float, rng, n: int) -> np.ndarray:
    return np.maximum(sample(q, rng, n, above=elapsed) - elapsed, 0.0)


def _full(model: dict, form: str, item: str | None, lane: str | None, rng, n: int) -> np.ndarray:
    found = lookup(model, form, item, lane)
    return sample(found[1]["q"], rng, n) if found else np.zeros(n)


def instance_eta(session: Session, platform, instance: ProcessInstance, model: dict,
                 now: dt.datetime | None = None) -> Eta | None:
    """The expected completion of a running instance; None when the model knows nothing of its stage."""
    stage = model.get("stages", {}).get(instance.stage_key)
    if instance.status != "running" or not stage or not stage.get("cycle") or not stage.get("completed"):
        return None
    now = now or platform.now()
    cal = platform.calendar
    rng = np.random.default_rng(zlib.crc32(f"{instance.id}:{instance.version}".encode()))
    rows, done = [], set()
    for row in session.execute(select(HumanTask.spec_name, HumanTask.item_code, HumanTask.status, HumanTask.form,
                                      HumanTask.lane_role, HumanTask.created_at, HumanTask.handling_id)
                               .where(HumanTask.instance_id == instance.id, HumanTask.audience.is_(None),
                                      HumanTask.status.in_(("open", "completed")))):
        if row.status == "open":
            rows.append(row)
        else:
            done.add((row.spec_name, row.item_code))
    if any(lookup(model, r.form, r.item_code, r.lane_role) is None for r in rows):
        rows = []  # a task the model has never seen: fall back on the stage's own distribution from its age
    handlings = [r.handling_id for r in rows if r.handling_id and r.form in REVIEW_FORMS]
    specials = {}
    if handlings:
        specials = {p.handling_id: p for p in session.scalars(select(SpecialProcedure).where(
            SpecialProcedure.handling_id.in_(handlings), SpecialProcedure.ended_at.is_(None)))}
    paused = len(specials) + sum(1 for r in rows if r.form in (SUPPLEMENT, RECHECK))
    n = DRAWS
    branches, accepting, reviewing = [], False, False
    for row in rows:
        elapsed = office_days(cal, row.created_at, now)  # tasks are timed in office days (model.office_days)
        found = lookup(model, row.form, row.item_code, row.lane_role)
        left = _residual(found[1]["q"], elapsed, rng, n) if found else np.zeros(n)
        if row.form == ACCEPT:
            accepting = True
        elif row.form in REVIEW_FORMS:
            reviewing = True
            special = specials.get(row.handling_id)
            if special is not None:  # the clock is stopped: the procedure's rest, then the review's own
                info = model.get("special", {}).get(row.item_code)
                ran = office_days(cal, special.started_at, now)
                rest = _residual(info["q"], ran, rng, n) if info and info.get("q") else np.full(n, 1.0 * max(
                    special.expected_days - ran, 0))
                left = rest + (_residual(found[1]["q"], max(elapsed - ran, 0), rng, n) if found else 0)
            if found:  # a correction round may follow: turnaround, recheck, a new review
                again = (row.spec_name, row.item_code) in done
                correcting = outcome_shares(model, row.form, row.item_code, row.lane_role, again).get("correct", 0.0)
                hit = rng.uniform(size=n) < correcting
                extra = (_full(model, SUPPLEMENT, None, "applicant", rng, n) +
                         _full(model, RECHECK, None, "window", rng, n) + sample(found[1]["q"], rng, n))
                left = left + np.where(hit, extra, 0.0)
        elif row.form in (SUPPLEMENT, RECHECK):  # a correction in progress: the rest of it, then the review again
            reviewing = reviewing or row.item_code is not None
            if row.form == SUPPLEMENT:
                left = left + _full(model, RECHECK, None, "window", rng, n)
            again = lookup(model, "review.schema.json", row.item_code, None) if row.item_code else None
            if again:
                left = left + sample(again[1]["q"], rng, n)
            elif row.item_code is None:
                accepting = True
        branches.append(left)
    slowest = np.max(np.vstack(branches), axis=0) if branches else np.zeros(n)
    tail_q = stage.get("after_accept") if accepting else stage.get("after_reviews") if reviewing else None
    if not branches:  # waiting for the engine (a timer): the stage's own distribution from its age
        age = working_days(cal, instance.started_at, now)
        total = _residual(stage["cycle"], age, rng, n)
        office = False  # a cycle is counted in working days
    else:
        total = slowest + (sample(tail_q, rng, n) if tail_q else 0.0)
        office = True   # the work left, in office days
    median, p90 = float(np.median(total)), float(np.quantile(total, 0.9))
    return Eta(instance.stage_key, instance.id, median, p90, _date(cal, now, median, office),
               _date(cal, now, p90, office), len(rows), paused, model.get("until", ""))


def _date(cal, now: dt.datetime, days: float, office: bool) -> dt.date:
    moment = after_office_days(cal, now, days) if office else cal.extend(now, dt.timedelta(days=days))
    return moment.astimezone(LOCAL_TZ).date()


def project_etas(session: Session, platform, project) -> dict[str, Eta]:
    """The ETA of every running stage of a project, by stage key (empty without a model)."""
    running = [i for i in project.instances if i.status == "running"]
    if not running:
        return {}
    model = store.current(session)
    if model is None:
        return {}
    out = {}
    for instance in running:
        found = instance_eta(session, platform, instance, model)
        if found is not None:
            out[instance.stage_key] = found
    return out
