"""people: applicants' stage drafts and the versions of every material

Revision ID: 0009_applicant_drafts
Revises: 0003_portal
Create Date: 2026-12-02 08:00:00
"""
from alembic import op
import sqlalchemy as sa
import app.models.base


revision = '0009_applicant_drafts'
down_revision = '0003_portal'
branch_labels = None
depends_on = None

UTC = app.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('stage_draft',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('stage_key', sa.String(length=30), nullable=False),
        sa.Column('values', sa.Text(), nullable=False),
        sa.Column('updated_by', sa.Integer(), nullable=True),
        sa.Column('updated_at', UTC, nullable=False),
        sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_stage_draft_project_id_project'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['updated_by'], ['user_account.id'], name=op.f('fk_stage_draft_updated_by_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stage_draft')),
        sa.UniqueConstraint('project_id', 'stage_key', name=op.f('uq_stage_draft_project_id_stage_key'))
    )
    op.create_table('material_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('material_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('original_name', sa.String(length=200), nullable=False),
        sa.Column('uploaded_by', sa.Integer(), nullable=True),
        sa.Column('uploaded_at', UTC, nullable=False),
        sa.ForeignKeyConstraint(['material_id'], ['material.id'], name=op.f('fk_material_version_material_id_material'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['uploaded_by'], ['user_account.id'], name=op.f('fk_material_version_uploaded_by_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_material_version')),
        sa.UniqueConstraint('material_id', 'version', name=op.f('uq_material_version_material_id_version'))
    )
    op.create_index(op.f('ix_material_version_material_id'), 'material_version', ['material_id'], unique=False)
    # every material uploaded so far is its own first version
    op.execute("INSERT INTO material_version (material_id, version, sha256, size, content_type, original_name,"
               " uploaded_by, uploaded_at) SELECT id, 1, sha256, size, content_type, original_name, uploaded_by,"
               " uploaded_at FROM material")


def downgrade() -> None:
    op.drop_index(op.f('ix_material_version_material_id'), table_name='material_version')
    op.drop_table('material_version')
    op.drop_table('stage_draft')
