"""Forecasts for analysts: a candidate version against the active one, before it is activated.

The admin page (``app.admin.views``) calls the same ``prepare`` and the same
service, with the browser session instead of a token.
"""

from __future__ import annotations

from flask import g, jsonify, request, url_for

from .. import forecast_runner
from ..errors import Conflict, InvalidInput, NotFound
from ..models import Deployment
from ..models.base import utcnow
from ..services.flows.deployments import active_version
from ..services.forecast import candidate, jobs, store
from ..stages import BY_KEY
from ..web import json_body, platform, unit_of_work, whole_number
from . import bp, require_role

ANALYSTS = ("analyst", "admin")
MAX_PROJECTS = 5000


def _asked(body: dict) -> dict:
    """The forecast asked for, checked: stages, n, seed, async; 422 naming what is wrong."""
    fields = {}
    n = whole_number(body.get("n", 1000), 1, MAX_PROJECTS)
    if n is None:
        fields["n"] = f"a whole number from 1 to {MAX_PROJECTS}"
    seed = whole_number(body.get("seed", 1), 0, 2 ** 31)
    if seed is None:
        fields["seed"] = "a whole number from 0"
    stages = body.get("stages")
    if stages is not None and (not isinstance(stages, list) or not stages or len(stages) > len(BY_KEY)
                               or not all(isinstance(s, str) and s in BY_KEY for s in stages)):
        fields["stages"] = f"a list of stage keys from {sorted(BY_KEY)}"
    background = body.get("async", False)
    if not isinstance(background, bool):
        fields["async"] = "true or false"
    if fields:
        raise InvalidInput("the forecast cannot be made as asked", fields)
    return {"n": n, "seed": seed, "stages": list(dict.fromkeys(stages)) if stages else None, "async": background}


def prepare(version: int, body: dict) -> dict:
    """Everything a forecast needs, checked before anything runs (404, 409, 422)."""
    asked = _asked(body)
    with unit_of_work(write=False) as session:
        if session.get(Deployment, version) is None:
            raise NotFound(f"no deployed version {version}")
        active = active_version(session)
        if version == active:
            raise Conflict(f"v{version} is the active version: forecast a draft or an older version against it")
        model = store.current(session)
        if model is None:
            raise Conflict("no forecasting model has been learnt yet: run `flask forecast learn` "
                           "(the scheduler learns one every night)")
        stages = asked["stages"] or candidate.changed_stages(session, version, active)
    return {**asked, "version": version, "active": active, "model": model, "stages": stages,
            "workers": platform().settings.FORECAST_WORKERS}


def start_or_run(job: dict, progress_endpoint: str, started_by: str | None = None):
    """Run the forecast now (200) or in the background (202 with the job to poll, from any node)."""
    args = (platform(), job["model"], job["version"], job["active"], job["stages"], job["n"], job["seed"],
            job["workers"])
    if job["async"]:
        job_id = forecast_runner.start(*args, started_by=started_by)
        return jsonify({"job": job_id, "status": "running", "stages": job["stages"],
                        "progress_url": url_for(progress_endpoint, version=job["version"], job=job_id)}), 202
    return jsonify(candidate.forecast(*args))


def job_view(version: int, job: str) -> dict:
    """A job's progress and result, read from its row; 404 when there is no such job of this version."""
    with unit_of_work(write=False) as session:
        found = jobs.get(session, job, utcnow())
    if found is None or found["version"] != version:
        raise NotFound(f"no forecast job {job!r} of v{version} (jobs are kept a day after they end)")
    return found


@bp.post("/processes/<int:version>/forecast")
def forecast_version(version: int):
    """Simulate ``n`` projects (default 1,000, seeded) through the version and the active one, per stage.

    Body (all optional): ``{"stages": [...], "n": 1000, "seed": 1, "async": false}``; the stages
    default to those whose flow differs from the active version.  With ``async`` the answer is
    202 with a job to poll (``GET .../forecast/<job>``) for progress and the result.
    """
    require_role(*ANALYSTS)
    body = json_body() if request.get_data(cache=True) else {}
    return start_or_run(prepare(version, body), "api.forecast_job", started_by=g.user.username)


@bp.get("/processes/<int:version>/forecast/<job>")
def forecast_job(version: int, job: str):
    """A running or finished forecast: ``done`` of ``total`` simulated projects, then ``result``."""
    require_role(*ANALYSTS)
    return jsonify(job_view(version, job))
