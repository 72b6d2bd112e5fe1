"""handling lookup: the open handling of an item by project code (the deadline(...) timers' question)

Revision ID: 0021_handling_lookup
Revises: 0001_initial
Create Date: 2026-12-02 20:30:00

``deadline(item)`` in a timer expression finds the project's open handling of the
item by project code; without an index that scanned every unfinished handling.
"""
from alembic import op


revision = '0021_handling_lookup'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('item_handling', schema=None) as batch_op:
        batch_op.create_index('ix_item_handling_code_item', ['project_code', 'item_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('item_handling', schema=None) as batch_op:
        batch_op.drop_index('ix_item_handling_code_item')
