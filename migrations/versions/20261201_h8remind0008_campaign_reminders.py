"""campaigns: reminders, response.campaign_id foreign key

Revision ID: h8remind0008
Revises: g7close000007
Create Date: 2026-12-01 00:00:00

Reserved in the migration chain for this change; filled in by the change itself
(empty until then, so that the chain stays linear while several changes are in work).
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = 'h8remind0008'
down_revision = 'g7close000007'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
