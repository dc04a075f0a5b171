"""Import jobs: export files uploaded through the admin API, imported in the background, with
their progress and outcome

Revision ID: 0023
Revises: 0018
Create Date: 2026-12-08 01:26:48.316166

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text  # noqa: F401 - used by rendered JSONB columns

import service.db  # noqa: F401 - custom column types


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('import_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'succeeded', 'failed', name='import_job_status', native_enum=False), nullable=False),
    sa.Column('file_bytes', sa.BigInteger(), nullable=False),
    sa.Column('done', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('comments_read', sa.Integer(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.String(length=2000), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_import_jobs_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_jobs'))
    )
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_import_jobs_site', ['site_id', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_import_jobs_site')

    op.drop_table('import_jobs')
