"""versions: migrations of running instances between deployed versions

Revision ID: 0004_versions
Revises: 0001_initial
Create Date: 2026-11-28 10:00:00
"""
from alembic import op
import sqlalchemy as sa
import app.models.base


revision = '0004_versions'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('instance_migration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('from_spec_key', sa.String(length=100), nullable=False),
    sa.Column('to_spec_key', sa.String(length=100), nullable=False),
    sa.Column('previous_state', sa.Text(), nullable=False),
    sa.Column('previous_serializer_version', sa.String(length=20), nullable=False),
    sa.Column('row_version_after', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=80), nullable=False),
    sa.Column('migrated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('undone_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('undone_by', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'],
                            name=op.f('fk_instance_migration_instance_id_process_instance'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'],
                            name=op.f('fk_instance_migration_actor_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instance_migration'))
    )
    with op.batch_alter_table('instance_migration', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instance_migration_instance_id'), ['instance_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('instance_migration', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instance_migration_instance_id'))
    op.drop_table('instance_migration')
