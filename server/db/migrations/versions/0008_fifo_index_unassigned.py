"""the calling-order index holds only tickets not transferred to a counter, so PostgreSQL reads a queue's head
in index order: with `target_counter_id IS NULL` as a column of the index it sorted every waiting ticket of the
service instead (an equality lets the planner skip a column for the order, IS NULL does not). The column stays
last, so SQLite still counts the tickets ahead of a new one from the index alone (it checks the predicate's
column even where the index implies it)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UNASSIGNED = sa.text("target_counter_id IS NULL")


def upgrade():
    op.drop_index("ix_tickets_fifo", table_name="tickets")
    op.create_index("ix_tickets_fifo", "tickets",
                    ["service_id", "state", sa.text("priority_class DESC"), "enqueued_at", "id", "target_counter_id"],
                    postgresql_where=UNASSIGNED, sqlite_where=UNASSIGNED)


def downgrade():
    op.drop_index("ix_tickets_fifo", table_name="tickets")
    op.create_index("ix_tickets_fifo", "tickets",
                    ["service_id", "state", "target_counter_id", sa.text("priority_class DESC"), "enqueued_at", "id"])
