"""collection: comment moderation and monitoring

Revision ID: a1c0mm3n7501
Revises: 7ebcb832c9a0
Create Date: 2026-12-01 00:00:00

The comments page searches a folded copy of free-text answers (``answer.search_text``:
lower case, no diacritics) and keeps each comment's moderation in
``comment_moderation``. Existing free-text answers are folded here, in chunks.
"""
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a1c0mm3n7501'
down_revision = '7ebcb832c9a0'
branch_labels = None
depends_on = None

CHUNK = 5000


def _fold(text):
    # A copy of survey.collection.models.fold_text: a migration must not change when
    # the application code does.
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def _backfill():
    conn = op.get_bind()
    answer = sa.table("answer", sa.column("id", sa.Integer), sa.column("value_text", sa.Text),
                      sa.column("search_text", sa.Text))
    last = 0
    while True:
        rows = conn.execute(
            sa.select(answer.c.id, answer.c.value_text)
            .where(answer.c.id > last, answer.c.value_text.is_not(None))
            .order_by(answer.c.id).limit(CHUNK)).all()
        if not rows:
            return
        last = rows[-1].id
        updates = [{"b_id": r.id, "b_text": _fold(r.value_text)} for r in rows
                   if any(c.isalpha() for c in r.value_text)]
        if updates:
            conn.execute(answer.update().where(answer.c.id == sa.bindparam("b_id"))
                         .values(search_text=sa.bindparam("b_text")), updates)


def upgrade():
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=True))
    _backfill()
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.create_index('ix_answer_comments', ['response_id', 'id'], unique=False,
                              postgresql_where=sa.text('search_text IS NOT NULL'),
                              sqlite_where=sa.text('search_text IS NOT NULL'))
    op.create_table('comment_moderation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('moderated_by_id', sa.Integer(), nullable=True),
    sa.Column('moderated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("reason IN ('personal_data', 'offensive', 'spam', 'off_topic', 'other')",
                       name=op.f('ck_comment_moderation_reason')),
    sa.ForeignKeyConstraint(['answer_id'], ['answer.id'],
                            name=op.f('fk_comment_moderation_answer_id_answer'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['moderated_by_id'], ['user_account.id'],
                            name=op.f('fk_comment_moderation_moderated_by_id_user_account'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment_moderation')),
    sa.UniqueConstraint('answer_id', name='uq_comment_moderation_answer_id')
    )


def downgrade():
    op.drop_table('comment_moderation')
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_index('ix_answer_comments')
        batch_op.drop_column('search_text')
