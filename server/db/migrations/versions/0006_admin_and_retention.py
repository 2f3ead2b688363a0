"""office opening hours and languages, service pictograms; retention marker and aggregated daily statistics;
the event log's guard lets the retention purge (and only it) delete old events

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

APPEND_ONLY = "the event log is append-only"


def upgrade():
    with op.batch_alter_table("offices") as batch:
        batch.add_column(sa.Column("opening_hours", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch.add_column(sa.Column("languages", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch.add_column(sa.Column("details_purged_before", sa.Date(), nullable=True))
    with op.batch_alter_table("services") as batch:
        batch.add_column(sa.Column("pictogram", sa.String(32), nullable=True))
    op.create_table(
        "daily_stats",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"], name=op.f("fk_daily_stats_service_id_services")),
        sa.ForeignKeyConstraint(["office_id"], ["offices.id"], name=op.f("fk_daily_stats_office_id_offices")),
        sa.PrimaryKeyConstraint("service_id", "day", name=op.f("pk_daily_stats")),
    )
    op.create_index(op.f("ix_daily_stats_office_id"), "daily_stats", ["office_id"])
    # A purge marks its own transaction with a row here (deleted again before its commit, so no other
    # transaction ever sees one); the append-only guard lets deletes through only then. Updates stay refused.
    op.create_table(
        "retention_purges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("txid", sa.BigInteger(), nullable=True),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_purges")),
    )
    _guard(allow_purge=True)


def _guard(allow_purge: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS events_no_delete")
        when = "WHEN NOT EXISTS (SELECT 1 FROM retention_purges) " if allow_purge else ""
        op.execute(f"CREATE TRIGGER events_no_delete BEFORE DELETE ON events {when}"
                   f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END")
    else:
        purge = ("IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM retention_purges WHERE txid = txid_current()) "
                 "THEN RETURN OLD; END IF; ") if allow_purge else ""
        op.execute("CREATE OR REPLACE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                   f"$$ BEGIN {purge}RAISE EXCEPTION '{APPEND_ONLY}'; END $$")


def downgrade():
    _guard(allow_purge=False)
    op.drop_table("retention_purges")
    op.drop_index(op.f("ix_daily_stats_office_id"), table_name="daily_stats")
    op.drop_table("daily_stats")
    with op.batch_alter_table("services") as batch:
        batch.drop_column("pictogram")
    with op.batch_alter_table("offices") as batch:
        batch.drop_column("details_purged_before")
        batch.drop_column("languages")
        batch.drop_column("opening_hours")
