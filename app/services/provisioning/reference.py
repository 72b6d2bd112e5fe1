"""Loading reference data and the first deployment; seeding the demo."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.specs import read_directory

from ...models import Deployment, Division, Enterprise, RouteEntry, Unit, UnitRole, User
from ..flows import deployments
from ..people.accounts import hash_password

DEMO_PASSWORD = "Demo@2026"
#: Cities whose officers the demo creates (division code, pinyin used in user names).
DEMO_CITIES = {"460100": "haikou", "460200": "sanya", "469002": "qionghai"}


def load_organisation(session: Session, catalog) -> dict[str, int]:
    """Upsert divisions, units and their roles, and rebuild the routing table."""
    for d in catalog.divisions:
        row = session.get(Division, d.code) or Division(code=d.code)
        row.name, row.level, row.parent_code = d.name, d.level, d.parent
        row.concentrated = bool(getattr(d, "concentrated", False))
        session.add(row)
    session.flush()
    existing = {u.code: u for u in session.scalars(select(Unit))}
    for u in catalog.units:
        row = existing.get(u.code) or Unit(code=u.code)
        row.name, row.level, row.division_code, row.kind = u.name, u.level, u.division, u.kind
        row.roles = [UnitRole(role=r) for r in u.roles]
        session.add(row)
    session.flush()
    ids = {u.code: u.id for u in session.scalars(select(Unit))}
    kept = _admin_routes(session)
    session.execute(delete(RouteEntry).where(RouteEntry.set_by_admin.is_(False)))
    routes = 0
    for role in catalog.routed_roles():
        for d in catalog.divisions:
            routes += 1
            if (role, d.code) in kept:
                continue  # an administrator's change survives reloading the catalogue
            unit = catalog.route(role, d.code)
            session.add(RouteEntry(role=role, division_code=d.code, unit_id=ids[unit.code]))
    session.flush()
    return {"divisions": len(catalog.divisions), "units": len(catalog.units), "routes": routes}


def _admin_routes(session: Session) -> set[tuple[str, str]]:
    """Routes an administrator set whose unit still serves the role; the others are dropped."""
    kept = set()
    for entry in session.scalars(select(RouteEntry).where(RouteEntry.set_by_admin.is_(True))).all():
        if session.get(UnitRole, (entry.unit_id, entry.role)) is not None:
            kept.add((entry.role, entry.division_code))
        else:
            session.delete(entry)
    session.flush()
    return kept


def deploy_initial(session: Session, platform) -> Deployment | None:
    """Deploy ``processes/`` as the first version unless a deployment exists."""
    if session.scalar(select(Deployment.version).limit(1)) is not None:
        return None
    files = read_directory(Path(platform.settings.PROCESSES_DIR))
    return deployments.deploy(session, platform, files, author="system", comment="processes/ on set-up",
                              activate=True)


@dataclass(frozen=True)
class DemoAccount:
    """One account the demo seeding creates: who it is and which lane it works."""

    username: str
    display_name: str
    kind: str  # the account's user role: applicant, window, officer, intermediary, analyst, supervisor, admin
    lane: str | None = None  # the lane role it works (officers and windows)
    division: str | None = None  # the city it serves
    unit_code: str | None = None
    unit_name: str | None = None


def demo_accounts(platform) -> list[DemoAccount]:
    """Every demo account, in a stable order: the one list the seeding and the README use."""
    catalog = platform.catalog
    window = catalog.route("window", "460100")
    accounts = [DemoAccount("applicant1", "椰林建设 申报专员", "applicant"),
                DemoAccount("window1", "海口综合受理窗口 一号", "window", "window", "460100", window.code, window.name)]
    for role in catalog.routed_roles():
        for division, city in DEMO_CITIES.items():
            unit = catalog.route(role, division)
            name = f"{unit.name} {catalog.roles[role].name}"  # the department's name, never its role code
            accounts.append(DemoAccount(f"{role}_{city}", name, "window" if role == "window" else "officer",
                                        role, division, unit.code, unit.name))
    accounts += [DemoAccount("agency1", "海南琼岛施工图审查中心 审查员", "intermediary"),  # 中介服务
                 DemoAccount("agency2", "海南椰城工程咨询 咨询员", "intermediary"),
                 DemoAccount("analyst1", "流程分析员", "analyst"),
                 DemoAccount("supervisor1", "海口审批督办", "supervisor", None, "460100", window.code, window.name),
                 DemoAccount("admin", "系统管理员", "admin")]
    return accounts


def _user(session: Session, account: DemoAccount, password_hash, **kw) -> User:
    user = session.scalar(select(User).where(User.username == account.username))
    if user is None:
        user = User(username=account.username, display_name=account.display_name, role=account.kind,
                    password_hash=password_hash(), **kw)
        session.add(user)
    else:
        user.display_name = account.display_name  # demo data: a re-seed brings old names up to date
    return user


def seed_demo(session: Session, platform) -> list[User]:
    """Demo enterprise and accounts (``demo_accounts``), all with the password ``Demo@2026``."""
    # The demo password is published, so the work factor protects nothing here; fast parameters keep
    # seventy separate hashes (a salt each) quick to seed.
    fast = True
    enterprise = session.scalar(select(Enterprise).where(Enterprise.credit_code == "91460100MA5T00001L"))
    if enterprise is None:
        enterprise = Enterprise(name="海南椰林建设发展有限公司", credit_code="91460100MA5T00001L")
        session.add(enterprise)
        session.flush()
    units = dict(session.execute(select(Unit.code, Unit.id)).all())
    from . import portal_platforms
    portal_platforms.seed_zones(session, platform)
    firms = list(portal_platforms.seed_firms(session, platform).values())  # agency1, agency2 work for them
    users = []
    for account in demo_accounts(platform):
        extra = {}
        if account.kind == "applicant":
            extra["enterprise_id"] = enterprise.id
        if account.kind == "intermediary":
            extra["enterprise_id"] = firms[int(account.username[-1]) - 1]
        if account.unit_code:
            extra["unit_id"] = units.get(account.unit_code)
        if account.lane:
            extra["lane_roles"] = account.lane
        # every account its own salt: hashed one by one, so no two stored hashes are alike
        users.append(_user(session, account, lambda: hash_password(DEMO_PASSWORD, fast=fast), **extra))
    session.flush()
    return users
