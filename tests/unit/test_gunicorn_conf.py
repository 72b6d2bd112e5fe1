"""The gunicorn settings file: a worker that has loaded the app freezes its objects for good."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def test_a_ready_worker_freezes_what_it_holds():
    settings = runpy.run_path(str(CONF))
    held = [object() for _ in range(10)]  # noqa: F841 - alive across the hook
    before = gc.get_freeze_count()
    try:
        settings["post_worker_init"](None)
        assert gc.get_freeze_count() > before
        assert gc.get_freeze_count() > 1000  # the whole test process, not a handful
    finally:
        gc.unfreeze()
