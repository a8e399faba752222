"""campaign cluster planning (reserved; filled in by the work that needs it)

Revision ID: j0plan000010
Revises: i9stages0009
Create Date: 2026-12-02 00:00:00
"""

# revision identifiers, used by Alembic.
revision = 'j0plan000010'
down_revision = 'i9stages0009'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
