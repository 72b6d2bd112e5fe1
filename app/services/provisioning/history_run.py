"""The bookkeeping of a generated history: its accounts, its workers' progress, its last step.

``begin`` records the run (or checks that a resumed run asks for the same
history), creates the enterprises and their applicant accounts and one officer
account per unit; ``work`` generates one worker's projects, one transaction per
project through ``session_scope``; ``finish`` runs the time-limit job at the
instant the history ends.  The accounts can never log in (``NO_LOGIN``).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ...errors import Conflict, InvalidInput
from ...models import Enterprise, HistoryRun, HistoryWorker, Unit, User
from ..timelimits import escalations
from . import history
from .history import DEFAULT_PROFILE, NO_LOGIN, PROFILES, SEED_ENTERPRISES, SEED_PROJECTS, Context, SimulatedClock

APPLICANT_PREFIX, OFFICER_PREFIX, WINDOW_PREFIX = "hist_applicant_", "hist_officer_", "hist_window_"
WINDOW_KINDS = ("approval_bureau", "service_center")


def enterprises_for(projects: int) -> int:
    """Enterprises served by ``projects`` projects at the seed's ratio (5,645 for 20,247)."""
    return max(1, round(projects * SEED_ENTERPRISES / SEED_PROJECTS))


def begin(session: Session, platform, projects: int, years: float, seed: int, workers: int,
          ends: dt.datetime, profile: str = DEFAULT_PROFILE.name) -> HistoryRun:
    """Record a new run with its accounts, or return the unfinished run that asks for the same history."""
    if projects < 1 or workers < 1 or not 0 < years <= 10:
        raise InvalidInput("projects and workers must be positive, years between 0 and 10")
    if profile not in PROFILES:
        raise InvalidInput(f"unknown profile {profile!r}; one of {sorted(PROFILES)}")
    run = session.scalar(select(HistoryRun).order_by(HistoryRun.id.desc()))
    if run is not None:
        asked = (projects, seed, workers)
        if (run.projects, run.seed, run.workers) != asked:
            raise Conflict(f"this database holds a history of {run.projects} projects (seed {run.seed}, "
                           f"{run.workers} workers); resume it with the same options")
        return run
    begins = ends - dt.timedelta(days=round(365.25 * years))
    run = HistoryRun(seed=seed, projects=projects, enterprises=enterprises_for(projects), workers=workers,
                     begins_at=begins, ends_at=ends, profile=profile, started_at=platform.now())
    session.add(run)
    session.flush()
    for worker in range(workers):
        session.add(HistoryWorker(run_id=run.id, worker=worker, next_index=worker, done=0))
    _accounts(session, platform, run)
    return run


def _accounts(session: Session, platform, run: HistoryRun) -> None:
    rng = random.Random(run.seed)
    first = (session.scalar(select(Enterprise.id).order_by(Enterprise.id.desc())) or 0) + 1
    rows = [{"name": f"海南{SURNAMES[k % len(SURNAMES)]}{TRADES[(k // len(SURNAMES)) % len(TRADES)]}{k:04d}有限公司",
             "credit_code": history.credit_code(k),
             "created_at": run.begins_at - dt.timedelta(days=rng.randint(30, 3000))} for k in range(run.enterprises)]
    for i in range(0, len(rows), 2000):
        session.execute(insert(Enterprise.__table__), rows[i:i + 2000])
    ids = session.scalars(select(Enterprise.id).where(Enterprise.id >= first).order_by(Enterprise.id)).all()
    account = {"password_hash": NO_LOGIN, "lane_roles": "", "active": True}
    applicants = [{**account, "username": f"{APPLICANT_PREFIX}{k:05d}", "display_name": "建设单位申报员",
                   "role": "applicant", "enterprise_id": eid} for k, eid in enumerate(ids)]
    units = session.execute(select(Unit.id, Unit.code, Unit.name, Unit.kind)).all()
    officers = [{**account, "username": f"{OFFICER_PREFIX}{code}", "display_name": f"{name} 承办人",
                 "role": "officer", "unit_id": uid} for uid, code, name, _ in units]
    officers += [{**account, "username": f"{WINDOW_PREFIX}{code}", "display_name": f"{name} 综合受理窗口",
                  "role": "window", "unit_id": uid, "lane_roles": "window"}
                 for uid, code, name, kind in units if kind in WINDOW_KINDS]
    for users in (applicants, officers):
        for i in range(0, len(users), 2000):
            session.execute(insert(User.__table__), users[i:i + 2000])


def context(session: Session, platform, run: HistoryRun, clock: SimulatedClock) -> Context:
    """A worker's context: the run's period, its enterprises and the accounts that act in it."""
    enterprise_ids = session.scalars(select(User.enterprise_id).where(User.username.startswith(APPLICANT_PREFIX))
                                     .order_by(User.id)).all()
    applicants = dict(session.execute(select(User.enterprise_id, User.id)
                                      .where(User.username.startswith(APPLICANT_PREFIX))).all())
    officers = {(unit_id, False): user_id for unit_id, user_id in session.execute(
        select(User.unit_id, User.id).where(User.username.startswith(OFFICER_PREFIX)))}
    officers.update({(unit_id, True): user_id for unit_id, user_id in session.execute(
        select(User.unit_id, User.id).where(User.username.startswith(WINDOW_PREFIX)))})
    divisions = [d.code for d in platform.catalog.divisions if d.level != "province"]
    profile = PROFILES.get(run.profile, DEFAULT_PROFILE)
    return Context(platform=platform, clock=clock, profile=profile, begins=run.begins_at,
                   ends=run.ends_at, total=run.projects, enterprise_ids=list(enterprise_ids),
                   officers=officers, applicants=applicants, divisions=divisions,
                   weights=[history.DIVISION_WEIGHT.get(d, 1.5) for d in divisions])


def work(session_scope: Callable, platform, run_id: int, worker: int,
         progress: Callable[[int], None] = lambda n: None, limit: int | None = None) -> int:
    """Generate worker ``worker``'s remaining projects, one transaction each; return how many it made.

    The platform's clock is the simulated one while it runs (and is given back after).
    """
    clock, wall = SimulatedClock(dt.datetime.now(dt.UTC)), platform.clock
    platform.clock = clock
    try:
        with session_scope() as session:
            run = session.get(HistoryRun, run_id)
            ctx = context(session, platform, run, clock)
            step, total, seed = run.workers, run.projects, run.seed
            start = session.get(HistoryWorker, (run_id, worker)).next_index
        made = 0
        for n in range(start, total, step):
            if limit is not None and made >= limit:
                break
            with session_scope() as session:
                history.generate_project(ctx, session, n, seed)
                row = session.get(HistoryWorker, (run_id, worker))
                row.next_index, row.done = n + step, row.done + 1
            made += 1
            progress(1)
        return made
    finally:
        platform.clock = wall


def remaining(session: Session, run: HistoryRun) -> int:
    """Projects of the run not generated yet."""
    done = sum(w.done for w in session.scalars(select(HistoryWorker).where(HistoryWorker.run_id == run.id)))
    return run.projects - done


def finish(session: Session, platform, run: HistoryRun) -> dict[str, int]:
    """The time-limit job at the instant the history ends (warnings, overdue notices); mark the run done."""
    wall, platform.clock = platform.clock, SimulatedClock(run.ends_at)
    warned = overdue = 0
    try:
        while batch := escalations.raise_warnings(session, platform, limit=500):
            warned += len(batch)
        while batch := escalations.raise_overdue(session, platform, limit=500):
            overdue += len(batch)
    finally:
        platform.clock = wall
    run.finished_at = dt.datetime.now(dt.UTC)
    return {"warnings": warned, "overdue": overdue}


SURNAMES = ("椰林", "琼州", "南海", "椰风", "鹿城", "万泉", "椰岛", "海航", "天涯", "五指山", "红树林", "文笔峰")
TRADES = ("建设发展", "置业", "实业", "建工", "城市开发", "投资", "园区开发", "旅游开发", "水务", "能源")
