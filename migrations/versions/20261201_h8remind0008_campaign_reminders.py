"""campaigns: reminders, response.campaign_id foreign key

Revision ID: h8remind0008
Revises: g7close000007
Create Date: 2026-12-01 00:00:00

Each frame row counts the reminders produced for its person (and when the last one was);
a response's campaign becomes a foreign key (SET NULL when the campaign is deleted).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'h8remind0008'
down_revision = 'g7close000007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('frame_row', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_count', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(timezone=True),
                                      nullable=True))
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_response_campaign_id_campaign'), 'campaign',
                                    ['campaign_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_response_campaign_id_campaign'),
                                 type_='foreignkey')
    with op.batch_alter_table('frame_row', schema=None) as batch_op:
        batch_op.drop_column('reminded_at')
        batch_op.drop_column('reminder_count')
