"""collection: comment moderation and monitoring

Revision ID: a1c0mm3n7501
Revises: 7ebcb832c9a0
Create Date: 2026-12-01 00:00:00

Reserved in the migration chain for this change; filled in by the change itself
(empty until then, so that the chain stays linear while several changes are in work).
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = 'a1c0mm3n7501'
down_revision = '7ebcb832c9a0'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
