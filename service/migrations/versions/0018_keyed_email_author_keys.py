"""author keys derived from e-mails become keyed hashes: 'email:<sha256 of the e-mail>' (written
before verified readers, migration 0006) becomes 'email-hmac:<HMAC-SHA256>' in comments,
authors, reports and statements

A plain SHA-256 of an e-mail is reversed by hashing a list of e-mails; the keyed hash needs the
instance's SECRET_KEY too. The old digest is what gets keyed (the e-mail itself may be erased
already), so service/privacy.py's email_author_key gives the same key from the e-mail.

The secret is read from the app's config (SECRET_KEY, the same in every process): run
`flask db upgrade` with the instance's SECRET_KEY set, or these keys no longer match what the
service derives. Downgrade leaves the keys keyed (the plain digests cannot be recovered).

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29 00:40:00

"""
import hashlib
import hmac

import sqlalchemy as sa
from alembic import op
from flask import current_app

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

OLD_PREFIX = 'email:'
NEW_PREFIX = 'email-hmac:'
# Frozen copy of service/privacy.py's email_digest_key (tests check they agree).
CONTEXT = b'author-key-from-email'
COLUMNS = (
    ('comments', 'author_key'),
    ('authors', 'author_key'),
    ('reports', 'reporter_key'),
    ('statements', 'author_key'),
)


def keyed(old_key, secret):
    derived = hmac.new(secret, CONTEXT, hashlib.sha256).digest()
    digest = old_key[len(OLD_PREFIX):]
    return NEW_PREFIX + hmac.new(derived, digest.encode(), hashlib.sha256).hexdigest()


def upgrade():
    secret = current_app.config['SECRET_KEY']
    secret = secret.encode() if isinstance(secret, str) else secret
    connection = op.get_bind()
    inspector = sa.inspect(connection)
    for table_name, column_name in COLUMNS:
        if not inspector.has_table(table_name):
            continue
        table = sa.table(table_name, sa.column(column_name, sa.String))
        column = table.c[column_name]
        old_keys = connection.execute(
            sa.select(column).where(column.like(OLD_PREFIX + '%')).distinct()
        ).scalars().all()
        for old_key in old_keys:
            connection.execute(
                sa.update(table).where(column == old_key).values({column_name: keyed(old_key, secret)})
            )


def downgrade():
    pass
