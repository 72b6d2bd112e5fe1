"""Typed SQLAlchemy models of the platform, one module per part of the domain."""

from .base import Base
from .catalogue import Commitment, EngineeringCode, MaterialGap, StageItem, StagePlan  # noqa: F401,I001  (issue 3)
from .idempotency import IdempotencyKey  # noqa: F401,I001  (safe retries of API requests)
from .intermediary import IntermediaryFirm, IntermediaryQualification, IntermediaryService  # noqa: F401,I001  (中介服务)
from .org import ApiToken, Division, Enterprise, RouteEntry, Unit, UnitRole, User
from .planning import PlanningProposal, PlanZone  # noqa: F401,I001  (项目策划生成)
from .portal import LoginFailure, Material  # noqa: F401  (applicant side)
from .project import AuditEvent, ItemHandling, ItemHandlingEvent, Project
from .security import RateEvent, UserSession  # noqa: F401,I001  (security: sessions, rate limits)
from .timelimits import SpecialProcedure, SupervisionNotice  # noqa: F401,I001  (time limits)
from .versions import InstanceMigration  # noqa: F401,I001  (instance migrations)
from .workbench import SavedFilter  # noqa: F401,I001  (officers: saved inbox filters)
from .workflow import Deployment, DeploymentFile, HumanTask, ProcessInstance

__all__ = ["Base", "Division", "Enterprise", "RouteEntry", "Unit", "UnitRole", "User", "ApiToken",
           "Deployment", "DeploymentFile", "HumanTask", "ProcessInstance",
           "AuditEvent", "ItemHandling", "ItemHandlingEvent", "Project"]
from .exchange import ExchangeCode, ExchangeOverride, ExchangePush, ExchangeRow  # noqa: F401,E402,I001  (SPGL exchange)
from .oversight import HistoryRun, HistoryWorker  # noqa: F401,E402,I001  (oversight: generated history runs)
from .notify import Notification, OutboxMessage, UserContact  # noqa: E402,F401,I001  (notifications)
from .drafts import MaterialVersion, StageDraft  # noqa: E402,F401,I001  (applicants: drafts, material versions)
from .project import AuditHead  # noqa: E402,F401,I001  (trail: the audit chain's head)
from .seal import IssuedDocument  # noqa: E402,F401,I001  (seal: signed result documents)
from .scaleout import CacheEpoch, CalendarYear  # noqa: E402,F401,I001  (scale-out: shared holiday table, cache epochs)
from .forecast import ForecastJob, ForecastModel  # noqa: E402,F401,I001  (forecast: the model learnt from history, jobs)
