"""The scheduler process: fires BPMN timers when they fall due.

Run it as its own process (``flask --app app scheduler``), never inside a web
worker.  Any number may run against one PostgreSQL database: claims make
each timer fire once.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid

from apscheduler.schedulers.blocking import BlockingScheduler

from .db import transaction
from .errors import AppError
from .services import instances, timers

log = logging.getLogger(__name__)


class TimerWorker:
    """One scheduler's tick: claim due instances, fire each in its own transaction."""

    def __init__(self, platform, owner: str | None = None):
        self.platform = platform
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

    def claim(self) -> list[int]:
        """Claim the due instances (one short transaction)."""
        settings = self.platform.settings
        with transaction(self.platform.sessions) as session:
            return timers.claim_due(session, self.owner, self.platform.now(),
                                    settings.SCHEDULER_CLAIM_SECONDS, settings.SCHEDULER_BATCH)

    def fire(self, instance_id: int) -> None:
        """Fire one claimed instance's timers and release the claim."""
        try:
            with transaction(self.platform.sessions) as session:
                instances.fire_timers(session, self.platform, instance_id)
                timers.release(session, instance_id, self.owner)
        except (AppError, Exception):  # one bad instance must not stop the others
            log.exception("firing timers of instance %s failed; its claim will expire", instance_id)

    def tick(self) -> int:
        """Claim and fire; return how many instances were handled."""
        ids = self.claim()
        for instance_id in ids:
            self.fire(instance_id)
        return len(ids)


def run_forever(platform) -> None:
    """Block, ticking every ``SCHEDULER_INTERVAL_SECONDS``."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s scheduler %(levelname)s %(message)s")
    worker = TimerWorker(platform)
    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(worker.tick, "interval", seconds=platform.settings.SCHEDULER_INTERVAL_SECONDS,
                      max_instances=1, coalesce=True, id="timers")
    log.info("scheduler %s started", worker.owner)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler %s stopped", worker.owner)
