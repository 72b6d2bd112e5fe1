"""seal and trail: issued (signed) documents; the audit hash chain, its head row, its PostgreSQL guard

Revision ID: 0008_seal_trail
Revises: 0001_initial
Create Date: 2026-12-02 16:00:00
"""
import hashlib
import json

from alembic import op
import sqlalchemy as sa
import app.models.base


revision = '0008_seal_trail'
down_revision = '0001_initial'
branch_labels = None
depends_on = ('0005_catalogue',)  # the chain hashes audit_event.engineering_code, added there

UTC = app.models.base.UTCDateTime(timezone=True)
GENESIS = "0" * 64

GUARD = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
  -- the one update allowed: giving a new row its place in the chain, once (trail/audit.py, at commit)
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


def _canonical(seq, at, actor_id, project_code, engineering_code, instance_id, kind, detail) -> str:
    # the same bytes as app.services.trail.audit.canonical (kept here so the migration stands alone)
    return json.dumps({"seq": seq, "at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "actor": actor_id,
                       "project": project_code, "code": engineering_code, "instance": instance_id,
                       "kind": kind, "detail": detail}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def upgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('row_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('canonical', sa.Text(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_audit_event_seq'), ['seq'])
        batch_op.create_unique_constraint(batch_op.f('uq_audit_event_prev_hash'), ['prev_hash'])
    head = op.create_table('audit_head',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    # chain the rows written before this migration, in the order they were written
    bind = op.get_bind()
    events = sa.table('audit_event', sa.column('id'), sa.column('at', UTC), sa.column('actor_id'),
                      sa.column('project_code'), sa.column('engineering_code'), sa.column('instance_id'),
                      sa.column('kind'), sa.column('detail'), sa.column('seq'), sa.column('prev_hash'),
                      sa.column('row_hash'), sa.column('canonical'))
    seq, prev = 0, GENESIS
    rows = bind.execute(sa.select(events.c.id, events.c.at, events.c.actor_id, events.c.project_code,
                                  events.c.engineering_code, events.c.instance_id, events.c.kind,
                                  events.c.detail).order_by(events.c.id)).all()
    for row in rows:
        seq += 1
        canonical = _canonical(seq, row.at, row.actor_id, row.project_code, row.engineering_code,
                               row.instance_id, row.kind, row.detail)
        digest = hashlib.sha256(prev.encode("ascii") + canonical.encode("utf-8")).hexdigest()
        bind.execute(events.update().where(events.c.id == row.id).values(
            seq=seq, prev_hash=prev, row_hash=digest, canonical=canonical))
        prev = digest
    op.bulk_insert(head, [{"id": 1, "seq": seq, "hash": prev}])
    op.create_table('issued_document',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cert_id', sa.String(length=40), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('item_code', sa.String(length=40), nullable=True),
        sa.Column('number', sa.String(length=100), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=True),
        sa.Column('facts', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('issued_at', UTC, nullable=True),
        sa.Column('revoked_at', UTC, nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('replaced_by_id', sa.Integer(), nullable=True),
        sa.Column('sha256', sa.String(length=64), nullable=True),
        sa.Column('size', sa.Integer(), nullable=True),
        sa.Column('storage_key', sa.String(length=200), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_issued_document_project_id_project')),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_issued_document_unit_id_unit')),
        sa.ForeignKeyConstraint(['replaced_by_id'], ['issued_document.id'],
                                name=op.f('fk_issued_document_replaced_by_id_issued_document')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_issued_document')),
        sa.UniqueConstraint('cert_id', name=op.f('uq_issued_document_cert_id'))
    )
    with op.batch_alter_table('issued_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issued_document_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_issued_document_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index('ix_issued_document_status', ['status', 'id'], unique=False)
    if bind.dialect.name == "postgresql":
        op.execute(GUARD)
        op.execute("CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event "
                   "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()")
        op.execute("CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_change ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
    with op.batch_alter_table('issued_document', schema=None) as batch_op:
        batch_op.drop_index('ix_issued_document_status')
        batch_op.drop_index(batch_op.f('ix_issued_document_instance_id'))
        batch_op.drop_index(batch_op.f('ix_issued_document_project_id'))
    op.drop_table('issued_document')
    op.drop_table('audit_head')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_event_prev_hash'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_audit_event_seq'), type_='unique')
        batch_op.drop_column('canonical')
        batch_op.drop_column('row_hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')
