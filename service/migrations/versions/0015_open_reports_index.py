"""open reports indexed by site and time: the reported queue's oldest open report (the /metrics
gauge of queue time targets) is the first entry of a small index

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28 23:58:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index(
            'ix_reports_open',
            ['site_id', 'created_at'],
            unique=False,
            postgresql_where=sa.text('resolved_at IS NULL'),
            sqlite_where=sa.text('resolved_at IS NULL'),
        )


def downgrade():
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_open')
