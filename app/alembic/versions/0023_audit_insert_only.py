"""audit insert-only: events are inserted already chained, so the guard refuses every UPDATE

Revision ID: 0023_audit_insert_only
Revises: 0001_initial
Create Date: 2026-12-03 09:00:00

Until now an event was inserted at once and given its place in the chain by one UPDATE at the
commit, which the guard allowed.  Events now wait in the session and are inserted with their
place (``trail/audit.py``), so no row is ever updated: the guard refuses UPDATE outright.
Every node must run the new code before this migration (an old node's commit would be refused).
"""
from alembic import op


revision = '0023_audit_insert_only'
down_revision = '0001_initial'
branch_labels = None
depends_on = ('0008_seal_trail',)

STRICT = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""

PLACING = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND OLD.row_hash IS NULL AND NEW.seq IS NOT NULL
     AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.kind = OLD.kind AND NEW.detail = OLD.detail
     AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
     AND NEW.project_code IS NOT DISTINCT FROM OLD.project_code
     AND NEW.engineering_code IS NOT DISTINCT FROM OLD.engineering_code
     AND NEW.instance_id IS NOT DISTINCT FROM OLD.instance_id THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(STRICT)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PLACING)
