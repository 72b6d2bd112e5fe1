"""Issued documents (一枚印章出件): the signed PDFs of stage results, refusals and item approvals."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class IssuedDocument(Base):
    """One document the window issues under its unit's seal.

    ``status`` is ``pending`` (queued by the completion, rendered and signed by the scheduler),
    ``issued``, ``failed`` (kept pending after an error, retried), ``revoked`` (撤销) or
    ``superseded`` (re-issued: ``replaced_by_id`` names the new one).  The row is its own outbox:
    the completion writes it in its transaction, the scheduler drains it.
    """

    __tablename__ = "issued_document"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cert_id: Mapped[str] = mapped_column(String(40), unique=True)  # the public id in the QR code
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    instance_id: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(20))  # result, refusal, item
    item_code: Mapped[str | None] = mapped_column(String(40))
    number: Mapped[str] = mapped_column(String(100))  # 出件编号, 决定书文号 or the department's 文号
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))  # the issuing unit (its seal)
    facts: Mapped[str] = mapped_column(Text)  # canonical JSON of what the document states
    status: Mapped[str] = mapped_column(String(20), default="pending")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")  # why it was revoked or re-issued
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("issued_document.id"))
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(Integer)
    storage_key: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_issued_document_status", "status", "id"),)
