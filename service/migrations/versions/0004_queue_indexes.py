"""queue indexes: the reported queue as partial indexes, per-label indexes of the held queue

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 06:25:00

"""
from alembic import op
import sqlalchemy as sa

LABELS = ("toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack")

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    reported = sa.text("reports_open > 0")
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_reported')
        batch_op.create_index(
            'ix_comments_reported', ['site_id', 'id'], unique=False,
            postgresql_where=reported, sqlite_where=reported,
        )
        batch_op.create_index(
            'ix_comments_most_reported', ['site_id', 'report_count', 'id'], unique=False,
            postgresql_where=reported, sqlite_where=reported,
        )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for label in LABELS:
            score = f"((scores ->> '{label}'::text)::double precision)"
            op.execute(f"CREATE INDEX ix_comments_held_{label} ON comments (site_id, {score}, id) WHERE status = 'held'")
            # The planner takes no statistics from partial indexes: without these it guesses a
            # third of the rows pass any label filter and picks a scan of the whole queue.
            if bind.dialect.server_version_info >= (14,):
                op.execute(f"CREATE STATISTICS IF NOT EXISTS st_comments_{label} ON {score} FROM comments")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for label in LABELS:
            op.execute(f"DROP STATISTICS IF EXISTS st_comments_{label}")
            op.execute(f"DROP INDEX ix_comments_held_{label}")
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_most_reported')
        batch_op.drop_index('ix_comments_reported')
        batch_op.create_index('ix_comments_reported', ['site_id', 'reports_open', 'id'], unique=False)
