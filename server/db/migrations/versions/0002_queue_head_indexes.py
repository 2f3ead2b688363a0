"""indexes for the heads of each queue (call-next reads them in index order)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_tickets_fifo", "tickets",
                    ["service_id", "state", "target_counter_id", sa.text("priority_class DESC"), "enqueued_at", "id"])
    op.create_index("ix_tickets_age", "tickets", ["service_id", "state", "created_at", "id"])
    op.create_index("ix_tickets_target", "tickets", ["target_counter_id", "state"])


def downgrade():
    op.drop_index("ix_tickets_target", table_name="tickets")
    op.drop_index("ix_tickets_age", table_name="tickets")
    op.drop_index("ix_tickets_fifo", table_name="tickets")
