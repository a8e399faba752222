"""campaign reweighting (reserved; filled in by the work that needs it)

Revision ID: k1rewt000011
Revises: j0plan000010
Create Date: 2026-12-02 00:00:00
"""

# revision identifiers, used by Alembic.
revision = 'k1rewt000011'
down_revision = 'j0plan000010'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
