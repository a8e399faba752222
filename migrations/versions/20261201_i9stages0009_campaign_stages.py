"""campaigns: two-stage draw and multistage design

Revision ID: i9stages0009
Revises: h8remind0008
Create Date: 2026-12-01 00:00:00

Reserved in the migration chain for this change; filled in by the change itself
(empty until then, so that the chain stays linear while several changes are in work).
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = 'i9stages0009'
down_revision = 'h8remind0008'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
