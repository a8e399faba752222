"""accounts: one row per signed-in session

Revision ID: l2sess000012
Revises: k1rewt000011
Create Date: 2026-12-02 00:00:00

Signing out ends that session only; "sign out everywhere", a password change and an
administrator still end them all (the account's session_version). The browser holds a
random key; only its SHA-256 is stored, with the browser's name for the account page.
Cookies issued before this revision carry no key and are refused (one sign-in again).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'l2sess000012'
down_revision = 'k1rewt000011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'user_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('agent', sa.String(length=120), nullable=False, server_default=''),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name=op.f('fk_user_session_user_id_user_account'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_user_session_key_hash')),
    )
    with op.batch_alter_table('user_session') as batch:
        batch.create_index(batch.f('ix_user_session_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('user_session') as batch:
        batch.drop_index(batch.f('ix_user_session_user_id'))
    op.drop_table('user_session')
