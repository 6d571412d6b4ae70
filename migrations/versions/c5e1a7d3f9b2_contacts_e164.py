"""contacts in one form: stored phones in E.164, emails normalised (app.contact)

Revision ID: c5e1a7d3f9b2
Revises: b7d3f2a9c1e4
Create Date: 2026-12-05 08:00:00

Every channel now stores the reporter's phone in E.164 and the email in email-validator's normalised
form in lower case (``app.contact``), so that the inbound gateway and the follower de-duplication
compare plain values. This brings what is already stored into that form: the reporter's contacts of
complaints, followers, inbound senders and notification recipients, read in batches per region (on
PostgreSQL each region is bound with the signed ``app.tenant_id``, as FORCE ROW LEVEL SECURITY needs).

A value that does not parse is left as it is. A follower that becomes a copy of another follower of the
same complaint and channel (the same number typed twice in two spellings) is removed; a notification
whose normalised recipient is already recorded for the same event keeps its old spelling (it is history).
No schema change; the downgrade changes nothing (the old spellings are not kept).
"""
import sqlalchemy as sa
from alembic import op

from app.tenancy.rls import bind_migration_tenant

revision = 'c5e1a7d3f9b2'
down_revision = 'b7d3f2a9c1e4'
branch_labels = None
depends_on = None

BATCH = 500


def upgrade():
    normalize_stored_contacts(op.get_bind())


def downgrade():
    pass


def normalize_stored_contacts(conn) -> dict[str, int]:
    """Normalise every region's stored contacts on ``conn``; returns the number of rows changed per table."""
    changed = {"complaint": 0, "follower": 0, "inbound_message": 0, "notification": 0}
    tenants = [r[0] for r in conn.execute(sa.text("SELECT id FROM tenant ORDER BY id"))]
    for tid in tenants:
        bind_migration_tenant(conn, tid)
        changed["complaint"] += _complaints(conn, tid)
        changed["follower"] += _recipients(conn, tid, "follower", ("complaint_id",), on_clash="delete")
        changed["inbound_message"] += _senders(conn, tid)
        changed["notification"] += _recipients(conn, tid, "notification", ("event_key",), on_clash="keep")
    bind_migration_tenant(conn, None)
    return changed


def _batches(conn, sql: str, tid: int):
    """Rows of ``sql`` (its first column the id, a ``WHERE tenant_id = :t`` clause) in batches by id."""
    last = 0
    while True:
        rows = conn.execute(sa.text(f"{sql} AND id > :last ORDER BY id LIMIT {BATCH}"),
                            {"t": tid, "last": last}).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _normal(channel: str, value: str | None) -> str | None:
    from app.contact import email_or_same, phone_or_same

    if channel == "email":
        return email_or_same(value)
    if channel == "sms":
        return phone_or_same(value)
    return value


def _complaints(conn, tid: int) -> int:
    n = 0
    sql = ("SELECT id, reporter_email, reporter_phone FROM complaint WHERE tenant_id = :t "
           "AND (reporter_email IS NOT NULL OR reporter_phone IS NOT NULL)")
    for rows in _batches(conn, sql, tid):
        for pk, email, phone in rows:
            new = (_normal("email", email), _normal("sms", phone))
            if new != (email, phone):
                conn.execute(sa.text("UPDATE complaint SET reporter_email = :e, reporter_phone = :p WHERE id = :k"),
                             {"e": new[0], "p": new[1], "k": pk})
                n += 1
    return n


def _senders(conn, tid: int) -> int:
    n = 0
    for rows in _batches(conn, "SELECT id, sender FROM inbound_message WHERE tenant_id = :t", tid):
        for pk, sender in rows:
            new = _normal("sms", sender)
            if new != sender:
                conn.execute(sa.text("UPDATE inbound_message SET sender = :v WHERE id = :k"), {"v": new, "k": pk})
                n += 1
    return n


def _recipients(conn, tid: int, table: str, scope: tuple[str, ...], on_clash: str) -> int:
    """``table``.recipient normalised by its channel, unique within (tenant, *scope, channel, recipient)."""
    # ``table`` and ``scope`` are this module's constants, never input: S608 does not apply below.
    n = 0
    columns = ", ".join(scope)
    same = " AND ".join(f"{c} = :{c}" for c in scope)
    sql = f"SELECT id, channel, recipient, {columns} FROM {table} WHERE tenant_id = :t"  # noqa: S608
    for rows in _batches(conn, sql, tid):
        for pk, channel, recipient, *keys in rows:
            new = _normal(channel, recipient)
            if new == recipient:
                continue
            values = dict(zip(scope, keys, strict=True))
            check = (f"SELECT id FROM {table} WHERE tenant_id = :t AND {same} "  # noqa: S608
                     "AND channel = :ch AND recipient = :r AND id <> :k")
            clash = conn.execute(sa.text(check), {"t": tid, "ch": channel, "r": new, "k": pk, **values}).first()
            if clash is None:
                conn.execute(sa.text(f"UPDATE {table} SET recipient = :v WHERE id = :k"),  # noqa: S608
                             {"v": new, "k": pk})
            elif on_clash == "delete":
                conn.execute(sa.text(f"DELETE FROM {table} WHERE id = :k"), {"k": pk})  # noqa: S608
            else:
                continue
            n += 1
    return n
