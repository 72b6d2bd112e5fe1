"""The live-workflow cache never serves a state that another process has moved on."""

from sqlalchemy import select

from app.db import transaction
from app.models import HumanTask, ProcessInstance, StageItem
from app.services.workflow import consistency
from app.wiring import build_platform
from engine.cache import WorkflowCache
from tests.integration.test_concurrency import _complete, _open, _start


def test_cache_entry_only_matches_its_version():
    cache = WorkflowCache(maxsize=2)
    cache.put("a", 1, "wf-a1")
    assert cache.take("a", 2) is None  # another save happened: the entry is dropped
    assert cache.take("a", 1) is None  # and it is gone
    cache.put("a", 3, "wf-a3")
    assert cache.take("a", 3) == "wf-a3"
    for key in "bcd":
        cache.put(key, 1, key)
    assert cache.take("b", 1) is None  # evicted, least recently used first


def test_two_processes_alternating_on_one_instance(platform):
    other = build_platform(platform.settings)  # a second web worker: its own cache
    instance_id = _start(platform)
    _complete(platform, _open(platform, instance_id)[0])  # accept, cached in `platform`
    rows = _open(platform, instance_id)
    _complete(other, rows[0])  # the other worker moves the instance on
    _complete(platform, rows[1])  # must reload, not reuse its now stale workflow
    while rows := _open(platform, instance_id):
        _complete(platform if len(rows) % 2 else other, rows[0])
    with transaction(platform.sessions, write=False) as session:
        assert session.get(ProcessInstance, instance_id).status == "approved"
        assert consistency.check_all(session, platform) == []
        done = session.execute(select(HumanTask.spec_name, HumanTask.item_code).where(
            HumanTask.instance_id == instance_id, HumanTask.status == "completed")).all()
        decided = session.scalars(select(StageItem.item_code).where(StageItem.instance_id == instance_id)).all()
    # a stale workflow would have offered a completed task again: each ran exactly once
    # (window accept, one review per decided item, issue)
    assert len(done) == len(set(done)) == len(decided) + 2
    assert platform.workflows.hits > 0 and platform.workflows.misses > 0
    other.sessions.kw["bind"].dispose()
