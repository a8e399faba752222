"""org: session revocation, sign-in throttling, unit search keys, opening hours per point

Revision ID: b2acc0un7502
Revises: a1c0mm3n7501
Create Date: 2026-12-01 00:00:00

``user_account.session_version`` (part of the id in sessions and remember-me cookies;
raised to revoke them), ``sign_in_failure`` (failed sign-ins per hashed key), the unit's
folded name and Vietnamese sort key (filled here for existing units), the opening hours of
a service point (existing desks, i.e. points of units other than hospitals and schools,
get the hours every desk had so far), and the end of ``daily_salt``: the daily salt is
derived from the secret key and never stored (survey.collection.services.privacy).
"""
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b2acc0un7502'
down_revision = 'a1c0mm3n7501'
branch_labels = None
depends_on = None

DESK_HOURS = "T2-T6 07:00-17:30; T7 07:30-11:30"


# Copies of survey.org.vietnamese.fold and sort_key: a migration must not change when the
# application code does.
def _fold(text):
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.split())


_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}
_ALPHABET = ["a", "ă", "â", "b", "c", "d", "đ", "e", "ê", "f", "g", "h", "i", "j", "k", "l",
             "m", "n", "o", "ô", "ơ", "p", "q", "r", "s", "t", "u", "ư", "v", "w", "x", "y",
             "z"]
_CODES = {ch: f"{21 + i:02d}" for i, ch in enumerate(_ALPHABET)}
_CODES.update({str(d): f"{11 + d:02d}" for d in range(10)})


def _sort_key(text):
    letters = []
    for ch in unicodedata.normalize("NFD", " ".join(text.lower().split())):
        if unicodedata.combining(ch):
            if letters and ch in _TONES:
                letters[-1] = (letters[-1][0], _TONES[ch])
            elif letters and ch in _LETTER_MARKS:
                letters[-1] = (unicodedata.normalize("NFC", letters[-1][0] + ch), letters[-1][1])
            continue
        letters.append((ch, 0))
    primary = "".join(_CODES.get(ch, "10" if not ch.isalnum() else "99") for ch, _t in letters)
    return primary + "00" + "".join(str(t) for _c, t in letters)


def _backfill():
    conn = op.get_bind()
    unit = sa.table("unit", sa.column("id", sa.Integer), sa.column("name", sa.String),
                    sa.column("kind", sa.String), sa.column("name_folded", sa.String),
                    sa.column("name_sort", sa.String))
    rows = conn.execute(sa.select(unit.c.id, unit.c.name)).all()
    if rows:
        conn.execute(unit.update().where(unit.c.id == sa.bindparam("b_id"))
                     .values(name_folded=sa.bindparam("b_folded"),
                             name_sort=sa.bindparam("b_sort")),
                     [{"b_id": r.id, "b_folded": _fold(r.name or "")[:255],
                       "b_sort": _sort_key(r.name or "")[:1024]} for r in rows])
    point = sa.table("service_point", sa.column("unit_id", sa.Integer),
                     sa.column("opening_hours", sa.String))
    conn.execute(point.update().where(point.c.unit_id.in_(
        sa.select(unit.c.id).where(unit.c.kind.not_in(["hospital", "school"]))))
        .values(opening_hours=DESK_HOURS))


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='1',
                                      nullable=False))
    op.create_table('sign_in_failure',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_sign_in_failure'))
    )
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_folded', sa.String(length=255), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('name_sort', sa.String(length=1024), server_default='',
                                      nullable=False))
        batch_op.create_index(batch_op.f('ix_unit_name_sort'), ['name_sort'], unique=False)
    with op.batch_alter_table('service_point', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opening_hours', sa.String(length=200), nullable=True))
    _backfill()
    op.drop_table('daily_salt')


def downgrade():
    op.create_table('daily_salt',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('salt', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_daily_salt'))
    )
    with op.batch_alter_table('service_point', schema=None) as batch_op:
        batch_op.drop_column('opening_hours')
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_name_sort'))
        batch_op.drop_column('name_sort')
        batch_op.drop_column('name_folded')
    op.drop_table('sign_in_failure')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('session_version')
