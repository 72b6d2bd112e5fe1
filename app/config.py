"""Every setting in one place: a default and an environment override for each."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default):
    raw = os.environ.get(name)
    if raw is None:
        return default
    if isinstance(default, bool):
        return raw.lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


@dataclass
class Settings:
    """Platform settings; ``Settings.from_env()`` applies ``HN_*``/``DATABASE_URL`` overrides."""

    DATABASE_URL: str = f"sqlite:///{ROOT / 'var' / 'approval.db'}"
    SECRET_KEY: str = ""  # empty: generated once into SECRET_KEY_FILE (security, app/services/security/keys.py)
    PROCESSES_DIR: str = str(ROOT / "processes")
    FORMS_DIR: str = str(ROOT / "forms")
    CATALOG_DIR: str = str(ROOT / "catalog")
    TOKEN_TTL_HOURS: int = 12
    PAGE_SIZE: int = 50
    SCHEDULER_INTERVAL_SECONDS: float = 0.5
    SCHEDULER_CLAIM_SECONDS: int = 60
    SCHEDULER_BATCH: int = 200
    WARNING_SHARE: float = 2 / 3
    ESCALATION_INTERVAL_SECONDS: float = 60.0
    WORKFLOW_CACHE_SIZE: int = 512
    PASSWORD_HASH_FAST: bool = False
    TESTING: bool = False
    SECURE_COOKIES: bool = False
    UPLOAD_DIR: str = str(ROOT / "var" / "uploads")
    MAX_UPLOAD_BYTES: int = 10 * 1024 * 1024
    CORRECTION_WORKING_DAYS: int = 10  # an applicant's 补正 is due this many working days after the request
    LOGIN_MAX_FAILURES: int = 5
    LOGIN_WINDOW_MINUTES: int = 60
    # -- security (issue 9): signing key, sessions, throttling, proxies, canonical address --------
    SECRET_KEY_FILE: str = str(ROOT / "var" / "secret_key")
    SESSION_IDLE_MINUTES: int = 120
    SESSION_MAX_HOURS: int = 12
    LOGIN_BACKOFF_SECONDS: int = 30
    LOGIN_BACKOFF_MAX_SECONDS: int = 900
    LOGIN_ACCOUNT_MAX_FAILURES: int = 20
    REGISTER_PER_HOUR: int = 5
    TRUSTED_PROXIES: int = 0  # how many reverse proxies in front set X-Forwarded-* (0: trust none)
    BASE_URL: str = "http://127.0.0.1:8000"  # the canonical address of absolute links and the QR image
    # -- exchange: the SPGL front database (HN_SPGL_URL), the push job, the national simulator --
    SPGL_URL: str = f"sqlite:///{ROOT / 'var' / 'spgl.db'}"
    SPGL_INTERVAL_SECONDS: float = 300.0
    SPGL_SIMULATOR: bool = False
    # performance and scale-out (issue 13): Idempotency-Key lifetime
    IDEMPOTENCY_TTL_HOURS: int = 24
    # scale-out: how stale a node's copy of a shared table may be, in seconds (holiday calendar; routes,
    # verified tokens); S3-compatible object storage for materials and issued documents (s3://bucket/prefix)
    HOLIDAY_CHECK_SECONDS: float = 1.0
    DB_PREPARED_STATEMENTS: bool = True  # 0 behind PgBouncer in transaction mode (< 1.21)
    DB_POOL_SIZE: int = 10  # connections per process (and as many again on overflow)
    CACHE_CHECK_SECONDS: float = 1.0
    STORAGE_URL: str = ""
    STORAGE_ENDPOINT: str = ""  # an S3-compatible server's address (empty: AWS's own)
    STORAGE_REGION: str = "us-east-1"
    # planning (项目策划生成): working days each department has for its opinion on a proposal
    PLANNING_REVIEW_DAYS: int = 5
    # intermediary (中介服务): working days an intermediary has to accept or refuse a commission
    INTERMEDIARY_ACCEPT_DAYS: int = 2
    # notify (issue 11): the message centre's delivery by e-mail (SMTP) and SMS; empty host/gateway = off
    SMTP_HOST: str = ""
    SMTP_PORT: int = 25
    SMTP_USER: str = ""
    SMTP_PASSWORD: str = ""
    SMTP_STARTTLS: bool = False
    SMTP_SSL: bool = False
    SMTP_TIMEOUT_SECONDS: float = 10.0
    MAIL_FROM: str = "审批平台 <noreply@localhost>"
    SMS_GATEWAY: str = ""  # "package.module:factory", called with the settings; returns .send(phone, text)
    SITE_URL: str = "http://127.0.0.1:8000"  # links in e-mails
    NOTIFY_INTERVAL_SECONDS: float = 5.0
    # forecast (issue 14): the window of history the nightly model learns from, and when it runs
    FORECAST_WINDOW_DAYS: int = 730
    FORECAST_REFRESH_HOUR: int = 2  # local time (Asia/Shanghai), every night
    FORECAST_WORKERS: int = 2  # simulation processes of a forecast (fork)
    FORECAST_BASELINE_PROJECTS: int = 1000  # the active version's simulated projects stored with the model (0: none)
    NOTIFY_MAX_ATTEMPTS: int = 5
    NOTIFY_RETRY_SECONDS: int = 60  # doubled after each failed attempt
    NOTIFY_CLAIM_SECONDS: int = 120
    # seal and trail (issue 10): signed result documents, the audit chain's signed checkpoints
    SEAL_KEY_DIR: str = str(ROOT / "var" / "keys")  # root-ca.*.pem and seal-<unit code>.*.pem (0600 keys)
    SEAL_ROOT_CERT: str = ""  # the trust root's certificate (PEM); empty: SEAL_KEY_DIR/root-ca.cert.pem
    SEAL_TSA_URL: str = ""  # an RFC 3161 timestamp authority for PAdES B-T; empty: no timestamp
    DOCUMENT_DIR: str = str(ROOT / "var" / "documents")  # PDFs issued before the file store (flask seal move-documents)
    FONT_CACHE_DIR: str = str(ROOT / "var" / "cache" / "fonts")  # the GB 2312 cut of Noto Serif CJK SC
    SEAL_INTERVAL_SECONDS: float = 2.0
    SEAL_MAX_ATTEMPTS: int = 5
    AUDIT_KEY_FILE: str = str(ROOT / "var" / "keys" / "audit.key.pem")
    AUDIT_CHECKPOINT_DIR: str = str(ROOT / "var" / "audit-checkpoints")
    AUDIT_CHECKPOINT_MINUTES: float = 10.0
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        """Defaults, then environment variables, then explicit overrides."""
        values = {}
        for f in fields(cls):
            if f.name == "extra":
                continue
            default = getattr(cls, f.name)
            env_name = f.name if f.name == "DATABASE_URL" else f"HN_{f.name}"
            values[f.name] = _env(env_name, default)
        values.update(overrides)
        return cls(**values)
