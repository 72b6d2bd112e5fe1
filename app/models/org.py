"""The organisation: divisions, units and the roles they serve, routing, people."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow


class Division(Base):
    """An administrative division (GB/T 2260 code, or a custom one for 洋浦)."""

    __tablename__ = "division"
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(10))
    parent_code: Mapped[str | None] = mapped_column(String(12))
    concentrated: Mapped[bool] = mapped_column(Boolean, default=False)

    def __repr__(self) -> str:
        return f"<Division {self.code} {self.name}>"


class Unit(Base):
    """A government unit that handles tasks (省/市县/区 level)."""

    __tablename__ = "unit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(10))
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"), index=True)
    kind: Mapped[str] = mapped_column(String(30), default="department")
    roles: Mapped[list[UnitRole]] = relationship(cascade="all, delete-orphan", lazy="select")

    def __repr__(self) -> str:
        return f"<Unit {self.code} {self.name}>"


class UnitRole(Base):
    """A lane role a unit serves."""

    __tablename__ = "unit_role"
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(30), primary_key=True)

    def __repr__(self) -> str:
        return f"<UnitRole {self.unit_id} {self.role}>"


class RouteEntry(Base):
    """双集中 routing: which unit handles a lane role for a division."""

    __tablename__ = "route_entry"
    role: Mapped[str] = mapped_column(String(30), primary_key=True)
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    set_by_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    def __repr__(self) -> str:
        return f"<RouteEntry {self.role}@{self.division_code} -> {self.unit_id}>"


class Enterprise(Base):
    """A construction unit (建设单位) that files projects."""

    __tablename__ = "enterprise"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Enterprise {self.credit_code} {self.name}>"


class User(Base):
    """An account: applicant, window or department officer, analyst, supervisor, admin."""

    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), index=True)
    lane_roles: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    unit: Mapped[Unit | None] = relationship(lazy="joined")
    enterprise: Mapped[Enterprise | None] = relationship(lazy="joined")

    @property
    def lanes(self) -> list[str]:
        """Lane roles this officer works (empty: every role of the unit)."""
        return [r for r in self.lane_roles.split(",") if r]

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_token"
    __table_args__ = (UniqueConstraint("token_hash"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # its owner revoked it (security)
    user: Mapped[User] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} user={self.user_id}>"
