"""The hook registry calls subscribers in order and refuses unknown events; the wiring is complete."""

import pytest

from app.config import Settings
from app.hooks import EVENTS, Hooks
from app.services.catalogue import decisions
from app.services.intermediary import contracts
from app.services.notify import messages as notify_messages
from app.services.planning import generation
from app.services.seal import documents as seal_documents
from app.services.timelimits import handlings, supervision
from app.wiring import build_platform


def test_subscribers_are_called_in_subscription_order_with_the_arguments():
    hooks, calls = Hooks(), []
    hooks.subscribe("run", lambda *args: calls.append(("first", args)))
    hooks.subscribe("run", lambda *args: calls.append(("second", args)))
    hooks.emit("run", "session", "platform")
    assert calls == [("first", ("session", "platform")), ("second", ("session", "platform"))]


def test_an_unknown_event_is_refused():
    with pytest.raises(ValueError, match="unknown hook event"):
        Hooks().subscribe("ran", print)


def test_a_failing_subscriber_stops_the_ones_after_it():
    hooks, calls = Hooks(), []

    def fail(*_):
        raise RuntimeError("boom")

    hooks.subscribe("task_opened", fail)
    hooks.subscribe("task_opened", lambda *_: calls.append("late"))
    with pytest.raises(RuntimeError):
        hooks.emit("task_opened")
    assert calls == []


def test_the_platform_is_wired_with_every_domain_subscriber(tmp_path):
    platform = build_platform(Settings.from_env(DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", TESTING=True,
                                                SECRET_KEY="test"))
    assert {"starting", "run", "task_opened", "task_completed", "finished", "notice_raised"} <= set(EVENTS)
    assert platform.hooks.subscribers("starting") == [decisions.on_starting, generation.on_starting]
    assert platform.hooks.subscribers("run") == [decisions.after_run, generation.after_run]
    assert platform.hooks.subscribers("task_opened") == [handlings.on_task_opened, generation.on_task_opened,
                                                         contracts.on_task_opened, notify_messages.on_task_opened]
    # notify: told after the due time is set; results and time-limit notices
    assert platform.hooks.subscribers("finished") == [notify_messages.on_finished]
    assert platform.hooks.subscribers("notice_raised") == [notify_messages.on_notice_raised]
    assert platform.hooks.subscribers("task_completed") == [handlings.on_task_completed,
                                                            supervision.on_task_completed,
                                                            generation.on_task_completed,
                                                            contracts.on_task_completed,
                                                            seal_documents.on_task_completed]  # issue 10
    assert {"deadline", "deadline_warning"} <= set(platform.runtime.script_engine.environment.data_helpers)
