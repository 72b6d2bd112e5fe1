"""Typed SQLAlchemy models of the platform, one module per part of the domain."""

from .base import Base
from .org import ApiToken, Division, Enterprise, RouteEntry, Unit, UnitRole, User
from .project import AuditEvent, ItemHandling, ItemHandlingEvent, Project
from .workflow import Deployment, DeploymentFile, HumanTask, ProcessInstance

__all__ = ["Base", "Division", "Enterprise", "RouteEntry", "Unit", "UnitRole", "User", "ApiToken",
           "Deployment", "DeploymentFile", "HumanTask", "ProcessInstance",
           "AuditEvent", "ItemHandling", "ItemHandlingEvent", "Project"]
