"""the kiosk agent's last contact, so a connection held by a process that died can be told from a live one;
an index for the leader's periodic search for print jobs a dead process left queued or printing

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("agent_seen_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_print_jobs_state_updated", "print_jobs", ["state", "updated_at"])


def downgrade():
    op.drop_index("ix_print_jobs_state_updated", table_name="print_jobs")
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("agent_seen_at")
