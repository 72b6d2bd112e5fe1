"""exchange: the SPGL exchange book (rows, pushes, corrections) and the code tables

Revision ID: 0012_exchange
Revises: 0001_initial
Create Date: 2026-12-02 07:30:00
"""
from alembic import op
import sqlalchemy as sa
import app.models.base


revision = '0012_exchange'
down_revision = '0001_initial'
branch_labels = None
depends_on = None

UTC = app.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('exchange_row',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('table_name', sa.String(length=40), nullable=False),
        sa.Column('local_key', sa.String(length=120), nullable=False),
        sa.Column('project_code', sa.String(length=40), nullable=True),
        sa.Column('parent_table', sa.String(length=40), nullable=True),
        sa.Column('parent_key', sa.String(length=120), nullable=True),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('lsh', sa.String(length=40), nullable=True),
        sa.Column('pushed_hash', sa.String(length=64), nullable=True),
        sa.Column('pushes', sa.Integer(), nullable=False),
        sa.Column('pushed_at', UTC, nullable=True),
        sa.Column('checked_at', UTC, nullable=True),
        sa.Column('updated_at', UTC, nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_row')),
        sa.UniqueConstraint('table_name', 'local_key', name=op.f('uq_exchange_row_table_name_local_key')),
    )
    op.create_index('ix_exchange_row_state', 'exchange_row', ['state', 'table_name'])
    op.create_index('ix_exchange_row_parent', 'exchange_row', ['parent_table', 'parent_key'])
    op.create_index(op.f('ix_exchange_row_project_code'), 'exchange_row', ['project_code'])
    op.create_table('exchange_push',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('row_id', sa.Integer(), nullable=False),
        sa.Column('lsh', sa.String(length=40), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('pushed_at', UTC, nullable=False),
        sa.Column('status', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('invalidated_at', UTC, nullable=True),
        sa.Column('invalid_reason', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['row_id'], ['exchange_row.id'], name=op.f('fk_exchange_push_row_id_exchange_row'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_push')),
        sa.UniqueConstraint('lsh', name=op.f('uq_exchange_push_lsh')),
    )
    op.create_index(op.f('ix_exchange_push_row_id'), 'exchange_push', ['row_id'])
    op.create_table('exchange_override',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('table_name', sa.String(length=40), nullable=False),
        sa.Column('local_key', sa.String(length=120), nullable=False),
        sa.Column('field', sa.String(length=20), nullable=False),
        sa.Column('value', sa.String(length=500), nullable=False),
        sa.Column('set_by', sa.Integer(), nullable=True),
        sa.Column('set_at', UTC, nullable=False),
        sa.ForeignKeyConstraint(['set_by'], ['user_account.id'], name=op.f('fk_exchange_override_set_by_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_override')),
        sa.UniqueConstraint('table_name', 'local_key', 'field',
                            name=op.f('uq_exchange_override_table_name_local_key_field')),
    )
    codes = op.create_table('exchange_code',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code_table', sa.String(length=20), nullable=False),
        sa.Column('code', sa.String(length=20), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('is_default', sa.Boolean(), nullable=False),
        sa.Column('verified', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_code')),
        sa.UniqueConstraint('code_table', 'code', name=op.f('uq_exchange_code_code_table_code')),
    )
    from app.services.exchange.codes import SEED
    op.bulk_insert(codes, [{"code_table": table, "code": code, "name": name, "active": True,
                            "is_default": default, "verified": verified}
                           for table, entries in SEED.items()
                           for code, name, default, verified in entries])


def downgrade() -> None:
    op.drop_table('exchange_code')
    op.drop_table('exchange_override')
    op.drop_index(op.f('ix_exchange_push_row_id'), table_name='exchange_push')
    op.drop_table('exchange_push')
    op.drop_index(op.f('ix_exchange_row_project_code'), table_name='exchange_row')
    op.drop_index('ix_exchange_row_parent', table_name='exchange_row')
    op.drop_index('ix_exchange_row_state', table_name='exchange_row')
    op.drop_table('exchange_row')
