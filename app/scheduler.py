"""The scheduler process: fires BPMN timers, raises time-limit warnings, delivers notifications.

Run it as its own process (``flask --app app scheduler``), never inside a web
worker.  Any number may run against one PostgreSQL database: claims make
each timer fire once, and each warning or escalation happen once.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid

from apscheduler.schedulers.blocking import BlockingScheduler

from .db import transaction
from .errors import AppError
from .models import ItemHandling
from .services.forecast import store as forecast_store
from .services.notify import channels, outbox
from .services.timelimits import escalations
from .services.workflow import instances, timers

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
            timers.relaxed_commit(session)  # a claim lost in a crash is only claimed again
            return timers.claim_due(session, self.owner, self.platform.now(),
                                    settings.SCHEDULER_CLAIM_SECONDS, settings.SCHEDULER_BATCH)

    def fire(self, instance_id: int) -> list[str]:
        """Fire one claimed instance's timers (if the claim is still ours) and release the claim."""
        try:
            with transaction(self.platform.sessions) as session:
                fired = instances.fire_timers(session, self.platform, instance_id, owner=self.owner)
                timers.release(session, instance_id, self.owner)
            if fired:
                log.info("instance %s: fired %s", instance_id, ", ".join(fired))
            return fired
        except (AppError, Exception):  # one bad instance must not stop the others
            log.exception("firing timers of instance %s failed; its claim will expire", instance_id)
            return []

    def tick(self) -> int:
        """Claim and fire; return how many instances were handled."""
        ids = self.claim()
        for instance_id in ids:
            self.fire(instance_id)
        return len(ids)


class TimeLimitWorker:
    """The time-limit job: yellow-light warnings, overdue escalations, 逾期默认同意 (claim-safe)."""

    def __init__(self, platform):
        self.platform = platform

    def tick(self) -> dict[str, int]:
        """Raise what is due now; each kind in one short transaction, each consent in its own."""
        batch = self.platform.settings.SCHEDULER_BATCH
        with transaction(self.platform.sessions) as session:
            warned = escalations.raise_warnings(session, self.platform, batch)
        with transaction(self.platform.sessions) as session:
            overdue = escalations.raise_overdue(session, self.platform, batch)
        consented = 0
        for handling_id in overdue:
            if not escalations.silence_consent(self.platform, self._item(handling_id)):
                continue
            try:
                with transaction(self.platform.sessions) as session:
                    consented += escalations.deem_consent(session, self.platform, handling_id)
            except (AppError, Exception):  # noqa: B014 - one bad item must not stop the others
                log.exception("deemed consent of item handling %s failed", handling_id)
        return {"warned": len(warned), "overdue": len(overdue), "consented": consented}

    def _item(self, handling_id: int) -> str:
        with transaction(self.platform.sessions, write=False) as session:
            return session.get(ItemHandling, handling_id).item_code


class ExchangeWorker:
    """The SPGL job: read back the national answers, push new and changed rows (one run at a time).

    With ``SPGL_SIMULATOR`` on (demo only) the simulated national side answers after each run.
    """

    FULL_EVERY = dt.timedelta(hours=6)

    def __init__(self, platform):
        from .services.exchange import service
        self.platform = platform
        self.front = service.front_database(platform.settings.SPGL_URL)
        self.mark: int | None = None  # the last audit event seen; None: the next run derives everything
        self.last_full: dt.datetime | None = None

    def tick(self) -> dict[str, int]:
        """One run in one transaction: the projects touched since the last run, everything now and then.

        The first run of a process and one every ``FULL_EVERY`` derive every row (and
        invalidate rows whose local data is gone); the others only the projects the
        audit trail shows touched.  A failure is logged and the next tick tries again.
        """
        from .services.exchange import push, service, simulator
        now = self.platform.now()
        full_due = self.last_full is None or now - self.last_full >= self.FULL_EVERY
        try:
            with transaction(self.platform.sessions) as session:
                projects, mark = service.changes_since(session, None if full_due else self.mark)
                report = push.run(session, self.platform, self.front, projects)
        except Exception:  # noqa: BLE001 - the job must keep running
            log.exception("the SPGL exchange run failed; nothing was committed")
            return {}
        if not report.skipped:
            self.mark = mark
            if projects is None:
                self.last_full = now
        totals = report.summary()
        if self.platform.settings.SPGL_SIMULATOR:
            totals.update(simulator.check(self.front, self.platform.now()))
        if any(totals.values()):
            log.info("SPGL exchange: %s", ", ".join(f"{k} {v}" for k, v in totals.items() if v))
        return totals


def purge_idempotency_keys(platform) -> int:
    """Delete the Idempotency-Keys past their lifetime (any scheduler may; deleting twice is harmless)."""
    from .idempotency import purge
    with transaction(platform.sessions) as session:
        return purge(session, platform)


class OutboxWorker:
    """The delivery job: claim due outbox messages, send each, record sent or retry (never twice)."""

    def __init__(self, platform, owner: str | None = None, senders: dict | None = None):
        self.platform = platform
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}:outbox"
        self._senders = senders

    def senders(self) -> dict:
        """The channel senders, built from the settings on first use."""
        if self._senders is None:
            settings = self.platform.settings
            self._senders = {"email": channels.SmtpSender(settings) if settings.SMTP_HOST else None,
                             "sms": channels.sms_gateway(settings)}
        return self._senders

    def tick(self) -> dict[str, int]:
        """Deliver what is due now; return how many were sent and how many failed."""
        settings = self.platform.settings
        with transaction(self.platform.sessions) as session:
            claimed = outbox.claim_due(session, self.owner, self.platform.now(), settings.NOTIFY_CLAIM_SECONDS,
                                       settings.SCHEDULER_BATCH)
        counts = {"sent": 0, "failed": 0}
        for message in claimed:
            counts["sent" if self._deliver(message) else "failed"] += 1
        return counts

    def _deliver(self, message: outbox.Claimed) -> bool:
        settings, sessions = self.platform.settings, self.platform.sessions
        sender = self.senders().get(message.channel)
        try:
            if sender is None:
                raise channels.DeliveryError(f"the {message.channel} channel is not configured")
            if message.channel == "email":
                sender.send(message.address, message.subject, message.body, outbox.message_id(settings, message.id))
            else:
                sender.send(message.address, message.body)
        except Exception as exc:  # noqa: BLE001 - any failure of a channel is retried later
            log.warning("outbox %s (%s) not delivered: %s", message.id, message.channel, exc)
            with transaction(sessions) as session:
                outbox.mark_failed(session, settings, message.id, self.owner, self.platform.now(), str(exc))
            return False
        with transaction(sessions) as session:
            outbox.mark_sent(session, message.id, self.owner, self.platform.now())
        return True


class SealWorker:
    """The seal job: render and sign the documents the window's 出件 queued (their rows are the outbox).

    Rendering and signing happen outside any transaction; each document is then marked issued in
    a short one, only if still pending (two schedulers never issue one twice).
    """

    def __init__(self, platform):
        self.platform = platform

    def tick(self, limit: int = 20) -> dict[str, list[str]]:
        """Issue what is pending now: ``{"issued": [certificate ids], "failed": [row ids]}``."""
        from .services.seal import documents
        with transaction(self.platform.sessions, write=False) as session:
            waiting = documents.pending(session, limit)
        done: dict[str, list[str]] = {"issued": [], "failed": []}
        for doc_id, facts, unit_code in waiting:
            now = self.platform.now()
            try:
                signed = documents.render_and_sign(self.platform, facts, unit_code, now)
                key, digest = documents.keep(self.platform, signed)
            except Exception as exc:  # noqa: BLE001 - a failed document is retried, the others go on
                log.exception("document %s could not be rendered or signed", doc_id)
                with transaction(self.platform.sessions) as session:
                    documents.mark_failed(session, self.platform, doc_id, f"{exc.__class__.__name__}: {exc}")
                done["failed"].append(str(doc_id))
                continue
            with transaction(self.platform.sessions) as session:
                cert_id = documents.mark_issued(session, self.platform, doc_id, key, digest, len(signed), now)
            if cert_id:
                done["issued"].append(cert_id)
        if done["issued"] or done["failed"]:
            log.info("documents: %s issued, %s failed", len(done["issued"]), len(done["failed"]))
        return done


def audit_checkpoint(platform) -> dict | None:
    """Sign the audit chain's head and keep it as a file, when it moved since the last one (trail)."""
    from .services.trail import checkpoints
    with transaction(platform.sessions, write=False) as session:
        made = checkpoints.make(session, platform)
    latest = checkpoints.latest(platform)
    if latest is not None and latest.get("seq") == made["seq"] and latest.get("head") == made["head"]:
        return None
    checkpoints.write(platform, made)
    log.info("audit checkpoint seq=%s head=%s", made["seq"], made["head"])
    return made
def refresh_forecast_model(platform) -> int | None:
    """The nightly job: learn the forecasting model from the history up to now; the new model's id."""
    try:
        with transaction(platform.sessions) as session:
            row = forecast_store.refresh(session, platform)
            log.info("forecast model %s learnt from %s instances, %s tasks", row.id, row.instances, row.tasks)
            return row.id
    except Exception:  # noqa: BLE001 - the job must keep running; yesterday's model stays in use
        log.exception("learning the forecast model failed")
        return None


def run_forever(platform) -> None:
    """Block: fire timers every ``SCHEDULER_INTERVAL_SECONDS``, check limits every ``ESCALATION_...``."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s scheduler %(levelname)s %(message)s")
    for chatty in ("apscheduler", "spiff"):  # a line per tick and per task state change otherwise
        logging.getLogger(chatty).setLevel(logging.WARNING)
    worker = TimerWorker(platform)
    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(worker.tick, "interval", seconds=platform.settings.SCHEDULER_INTERVAL_SECONDS,
                      max_instances=1, coalesce=True, id="timers")
    scheduler.add_job(TimeLimitWorker(platform).tick, "interval",
                      seconds=platform.settings.ESCALATION_INTERVAL_SECONDS,
                      max_instances=1, coalesce=True, id="time_limits")
    scheduler.add_job(ExchangeWorker(platform).tick, "interval", seconds=platform.settings.SPGL_INTERVAL_SECONDS,
                      max_instances=1, coalesce=True, id="spgl_exchange")
    scheduler.add_job(lambda: purge_idempotency_keys(platform), "interval", minutes=10,
                      max_instances=1, coalesce=True, id="idempotency_keys")
    scheduler.add_job(OutboxWorker(platform).tick, "interval", seconds=platform.settings.NOTIFY_INTERVAL_SECONDS,
                      max_instances=1, coalesce=True, id="outbox")
    scheduler.add_job(SealWorker(platform).tick, "interval", seconds=platform.settings.SEAL_INTERVAL_SECONDS,
                      max_instances=1, coalesce=True, id="seal_documents")
    scheduler.add_job(lambda: audit_checkpoint(platform), "interval",  # trail: signed chain checkpoints
                      minutes=platform.settings.AUDIT_CHECKPOINT_MINUTES, max_instances=1, coalesce=True,
                      id="audit_checkpoint")
    scheduler.add_job(lambda: refresh_forecast_model(platform), "cron", hour=platform.settings.FORECAST_REFRESH_HOUR,
                      minute=17, timezone="Asia/Shanghai", max_instances=1, coalesce=True, id="forecast_model")
    log.info("scheduler %s started", worker.owner)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler %s stopped", worker.owner)
