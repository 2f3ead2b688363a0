"""ticket printers on devices, print jobs, the kiosk agent's presence

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade():
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("printer", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("printer_status", sa.String(16), nullable=False, server_default="unknown"))
        batch.add_column(sa.Column("printer_detail", sa.String(300), nullable=True))
        batch.add_column(sa.Column("printer_checked_at", UTC, nullable=True))
        batch.add_column(sa.Column("last_seen_at", UTC, nullable=True))
        batch.add_column(sa.Column("agent_version", sa.String(32), nullable=True))
        batch.add_column(sa.Column("agent_connected", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "print_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("backend", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reprint", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.String(32), nullable=True),
        sa.Column("error_message", sa.String(300), nullable=True),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("printed_at", UTC, nullable=True),
        sa.CheckConstraint("state IN ('queued', 'printing', 'printed', 'failed')", name=op.f("ck_print_jobs_state")),
        sa.ForeignKeyConstraint(["office_id"], ["offices.id"], name=op.f("fk_print_jobs_office_id_offices")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_print_jobs_ticket_id_tickets")),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name=op.f("fk_print_jobs_device_id_devices")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_print_jobs_user_id_users")),
        sa.ForeignKeyConstraint(["token_id"], ["api_tokens.id"], name=op.f("fk_print_jobs_token_id_api_tokens")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_print_jobs")),
    )
    op.create_index("ix_print_jobs_ticket", "print_jobs", ["ticket_id"])
    op.create_index("ix_print_jobs_device_state", "print_jobs", ["device_id", "state"])
    op.create_index("ix_print_jobs_office_state", "print_jobs", ["office_id", "state", "id"])


def downgrade():
    op.drop_table("print_jobs")
    with op.batch_alter_table("devices") as batch:
        for column in ("agent_connected", "agent_version", "last_seen_at", "printer_checked_at", "printer_detail",
                       "printer_status", "printer"):
            batch.drop_column(column)
