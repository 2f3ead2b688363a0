"""when each counter last changed between open, paused and closed, kept on the counter: the live dashboard read it
from the event log, a scan of every counter event the office still keeps (90 days by default) after each change;
filled from the log for existing counters

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

LATEST_CHANGE = sa.text(
    "UPDATE counters SET state_since = ("
    " SELECT events.at FROM events WHERE events.counter_id = counters.id"
    " AND events.kind IN ('counter_opened', 'counter_paused', 'counter_closed')"
    " ORDER BY events.seq DESC LIMIT 1)")


def upgrade():
    with op.batch_alter_table("counters") as batch:
        batch.add_column(sa.Column("state_since", sa.DateTime(timezone=True), nullable=True))
    op.execute(LATEST_CHANGE)


def downgrade():
    # Not a batch operation: on SQLite that copies the table and drops the old one, which its foreign keys
    # (events, counter services) refuse. SQLite 3.35+ and PostgreSQL both drop a column in place.
    op.execute("ALTER TABLE counters DROP COLUMN state_since")
