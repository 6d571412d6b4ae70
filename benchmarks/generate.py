"""National-scale data for the benchmarks: 552 regions and 2,000,000 complaints, loaded with COPY.

    BENCH_SCALE=0.02 python -m benchmarks.generate     # quick: 11 regions, 40,000 complaints

Sizes: the largest region (Banjarmasin, synced from tenants/) holds 10 % of all complaints (200,000 at
full scale); the others follow a power law whose largest and smallest differ about 30x. Every status
and class occurs, open reports are recent (some overdue), closed ones spread over three years, and
each report has its events (submit, verify, dispose, answer, close…) and dispositions to agencies.
Writes go through PostgreSQL COPY (psycopg) with foreign-key triggers off for the session (the rows
are generated consistent), then ANALYZE. Prints the seconds it took.
"""

from __future__ import annotations

import io
import json
import os
import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/lapor_bench"
FULL_TENANTS = 552
FULL_COMPLAINTS = 2_000_000
LARGEST_SHARE = 0.10
OFFICER_PASSWORD = "bench-officer-pass-2026"  # noqa: S105 (a throwaway benchmark database)
CENTRAL_PASSWORD = "bench-central-pass-2026"  # noqa: S105
#: The Fernet key of stored secrets (the central administrator's TOTP secret), the same for the generator and the
#: served application (a throwaway benchmark database).
SECRETS_KEY = "YmVuY2gtc2VjcmV0cy1rZXktMzItYnl0ZXMtbG9uZyE="
#: A word that appears in about 2 % of descriptions: the free-text search of the inbox benchmark.
SEARCH_WORD = "genangan"

STATUS_WEIGHTS = {  # share of all complaints
    "submitted": 0.05, "on_hold": 0.015, "verified": 0.03, "disposed": 0.09, "answered": 0.035,
    "closed": 0.66, "referred": 0.04, "archived": 0.06, "merged": 0.02,
}
OPEN = ("submitted", "on_hold", "verified", "disposed", "answered")
CLASS_WEIGHTS = {"pengaduan": 0.6, "aspirasi": 0.2, "informasi": 0.15, "pengawasan": 0.05}
TIMEZONES = ("Asia/Jakarta", "Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")
TITLES = ("Jalan berlubang", "Lampu jalan mati", "Sampah menumpuk", "Saluran air tersumbat", "Pelayanan KTP lambat",
          "Pungutan liar di kantor kelurahan", "Banjir di permukiman", "Pohon tumbang", "Air PDAM keruh",
          "Trotoar rusak", "Parkir liar", "Jembatan retak", "Izin usaha berbelit", "Bantuan sosial tidak tepat sasaran",
          "Puskesmas kekurangan obat", "Sekolah rusak", "Kebisingan pabrik", "Pasar kumuh")
PLACES = ("Jl. A. Yani", "Jl. Sudirman", "Kelurahan Sungai Miai", "Kecamatan Banjarmasin Utara", "Jl. Veteran",
          "Pasar Lama", "Komplek Beruntung Jaya", "Jl. Pangeran Antasari", "Desa Tumbang Samba", "Jl. Merdeka")
SENTENCES = ("Sudah lebih dari dua minggu belum ada perbaikan dari dinas terkait.",
             "Warga sekitar sangat terganggu dan khawatir terjadi kecelakaan.",
             "Kami sudah melapor ke RT tetapi belum ada tindak lanjut.",
             "Mohon segera ditangani karena membahayakan anak-anak sekolah.",
             "Kondisi ini terjadi setiap kali hujan deras turun di malam hari.",
             "Petugas di lokasi meminta biaya tambahan tanpa kuitansi resmi.",
             "Antrean sangat panjang dan informasi jadwal tidak jelas.",
             "Foto kondisi terakhir sudah kami lampirkan pada laporan ini.")
SEARCH_SENTENCE = f"Ada {SEARCH_WORD} air setinggi lutut di depan rumah warga."
#: Map pins: the largest region's complaints lie in Banjarmasin's area (centre, half-extent in degrees:
#: ~11 km across, the city's 98 km²); the other regions get a centre somewhere in Indonesia and a wider area.
#: Half of the pins gather around a region's hotspots (markets, main roads), the rest spread evenly; a
#: fifth of the reports have no pin. A separate random generator keeps the other columns as before.
LARGEST_AREA = ((-3.32, 114.59), 0.05)
OTHER_HALF_EXTENT = 0.2
HOTSPOTS = 40
PIN_SHARE = 0.8


@dataclass
class Generated:
    database_url: str
    scale: float
    tenants: int = 0
    complaints: int = 0
    events: int = 0
    dispositions: int = 0
    seconds: float = 0.0
    largest_slug: str = "banjarmasin"
    largest_complaints: int = 0
    largest_agency_id: int = 0
    officer_email: str = "petugas@bench-lapor.id"
    officer_password: str = OFFICER_PASSWORD
    central_email: str = "pusat@bench-lapor.id"
    central_password: str = CENTRAL_PASSWORD
    central_totp_secret: str = ""
    search_word: str = SEARCH_WORD
    sizes: list[int] = field(default_factory=list)


def scale_from_env() -> float:
    return float(os.environ.get("BENCH_SCALE", "1.0"))


def tenant_sizes(scale: float) -> list[int]:
    """Complaints per tenant, largest first: 10 % for the largest, a ~30x power law for the rest."""
    n_tenants = max(3, round(FULL_TENANTS * scale))
    total = max(1000, round(FULL_COMPLAINTS * scale))
    largest = round(total * LARGEST_SHARE)
    rest = n_tenants - 1
    exponent = 1.2 if rest < 2 else __import__("math").log(30) / __import__("math").log(rest)
    weights = [1 / (i + 1) ** exponent for i in range(rest)]
    remaining = total - largest
    sizes = [max(1, int(remaining * w / sum(weights))) for w in weights]
    sizes[0] += remaining - sum(sizes)  # rounding remainder
    return [largest, *sizes]


def _admin_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    return urlunsplit(parts._replace(path="/postgres")), name


def recreate_database(url: str) -> None:
    admin, name = _admin_url(url)
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    admin, name = _admin_url(url)
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def generated_or_reused(url: str, reuse: bool) -> Iterator[str | dict]:
    """The benchmark database for one run: generated at ``BENCH_SCALE`` (dropped afterwards unless
    ``BENCH_KEEP_DB=1``) or, with ``reuse``, the one already there. Yields what goes under "generated"."""
    if reuse:
        yield "reused"
        return
    info = generate(url, scale_from_env())
    try:
        yield {"scale": info.scale, "tenants": info.tenants, "complaints": info.complaints, "seconds": info.seconds}
    finally:
        if os.environ.get("BENCH_KEEP_DB") != "1":
            drop_database(url)


def save_results(name: str, results: dict, extra: dict) -> Path:
    """Write ``results`` plus ``extra`` (e.g. query plans) to benchmarks/results/<name>-<time>.json and print
    ``results``; returns the file."""
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps({**results, **extra}, indent=2))
    print(json.dumps(results, indent=2))
    return path


def _migrate_and_seed_accounts(url: str, info: Generated) -> None:
    """Schema via Alembic, the reference region from tenants/, an officer and a central administrator."""
    import pyotp

    from app import create_app
    from app.accounts.models import PlatformAdmin, Role, User
    from app.extensions import db
    from app.tenancy.files import load_tenant_config, sync_tenant
    from app.tenancy.scope import tenant_scope

    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False,
                      "JOBS_INLINE": True, "SECRET_KEY": "bench-" * 8, "SECRETS_KEY": SECRETS_KEY})
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        tenant = sync_tenant(load_tenant_config(ROOT / "tenants", info.largest_slug))
        db.session.commit()
        with tenant_scope(tenant.id):
            officer = User(email=info.officer_email, name="Petugas Bench", role=Role.OFFICER)
            officer.set_password(info.officer_password)
            db.session.add(officer)
            db.session.commit()
        info.central_totp_secret = pyotp.random_base32()
        admin = PlatformAdmin(email=info.central_email, name="Admin Pusat Bench", totp_secret=info.central_totp_secret)
        admin.set_password(info.central_password)
        db.session.add(admin)
        db.session.commit()
        db.engine.dispose()


def _clone_tenants(conn: psycopg.Connection, n: int) -> list[tuple[int, str]]:
    """n-1 more regions like the reference one (settings, agencies, categories, message texts)."""
    src = conn.execute("SELECT id FROM tenant ORDER BY id LIMIT 1").fetchone()[0]
    conn.execute(
        """INSERT INTO tenant (slug, name, service_name, type, province, region_code, code_prefix, timezone, locale,
                               population, status, branding, settings, created_at, live)
           SELECT 'daerah-' || g, 'Pemerintah Kabupaten Uji ' || g, 'Lapor Uji ' || g,
                  CASE WHEN g %% 5 = 0 THEN 'kota' ELSE 'kabupaten' END, 'Provinsi Uji ' || (g %% 38),
                  '99.' || g, 'R' || lpad(g::text, 3, '0'), (%s::text[])[1 + g %% 4], 'id',
                  50000 + (g * 7919) %% 3000000, 'active', t.branding, t.settings, t.created_at, true
           FROM tenant t CROSS JOIN generate_series(1, %s) g WHERE t.id = %s""",
        (list(TIMEZONES), n - 1, src))
    conn.execute("""INSERT INTO agency (tenant_id, code, name, short_name, active)
                    SELECT t.id, a.code, a.name, a.short_name, a.active FROM agency a CROSS JOIN tenant t
                    WHERE a.tenant_id = %s AND t.id <> %s""", (src, src))
    conn.execute("""INSERT INTO category (tenant_id, code, name_id, name_en, default_agency_id, active)
                    SELECT t.id, c.code, c.name_id, c.name_en, na.id, c.active
                    FROM category c CROSS JOIN tenant t
                    LEFT JOIN agency sa ON sa.tenant_id = c.tenant_id AND sa.id = c.default_agency_id
                    LEFT JOIN agency na ON na.tenant_id = t.id AND na.code = sa.code
                    WHERE c.tenant_id = %s AND t.id <> %s""", (src, src))
    conn.execute("""INSERT INTO message_template (tenant_id, key, locale, subject, body)
                    SELECT t.id, m.key, m.locale, m.subject, m.body FROM message_template m CROSS JOIN tenant t
                    WHERE m.tenant_id = %s AND t.id <> %s""", (src, src))
    return list(conn.execute("SELECT id, code_prefix FROM tenant ORDER BY id").fetchall())


class _Stamp:
    """UTC instants as COPY text, cached per minute (formatting is the generator's hot spot)."""

    def __init__(self) -> None:
        self.cache: dict[int, str] = {}

    def __call__(self, epoch_minutes: int) -> str:
        s = self.cache.get(epoch_minutes)
        if s is None:
            s = datetime.fromtimestamp(epoch_minutes * 60, UTC).strftime("%Y-%m-%d %H:%M:00+00")
            self.cache[epoch_minutes] = s
        return s


def _pick(weights: dict[str, float], rng: random.Random, k: int) -> list[str]:
    return rng.choices(list(weights), weights=list(weights.values()), k=k)


def _pins(rng: random.Random, largest: bool):
    """A function giving one report's (latitude, longitude) as COPY text, or two NULLs, in a region's area."""
    if largest:
        (lat0, lon0), half = LARGEST_AREA
    else:
        lat0, lon0, half = rng.uniform(-8.5, 4.5), rng.uniform(96.0, 140.0), OTHER_HALF_EXTENT
    spots = [(lat0 + rng.uniform(-half, half), lon0 + rng.uniform(-half, half)) for _ in range(HOTSPOTS)]

    def pin() -> tuple[str, str]:
        r = rng.random()
        if r >= PIN_SHARE:
            return "\\N", "\\N"
        if r < PIN_SHARE / 2:
            lat, lon = spots[int(rng.random() * HOTSPOTS)]
            lat, lon = lat + rng.gauss(0, half / 25), lon + rng.gauss(0, half / 25)
        else:
            lat, lon = lat0 + rng.uniform(-half, half), lon0 + rng.uniform(-half, half)
        return f"{lat:.6f}", f"{lon:.6f}"

    return pin


def generate(url: str = DEFAULT_DB, scale: float = 1.0, seed: int = 552) -> Generated:
    t0 = time.perf_counter()
    info = Generated(database_url=url, scale=scale, sizes=tenant_sizes(scale))
    recreate_database(url)
    _migrate_and_seed_accounts(url, info)
    rng = random.Random(seed)
    pin_rng = random.Random(seed + 1)
    stamp = _Stamp()
    now_min = int(datetime.now(UTC).timestamp() // 60)
    day = 24 * 60
    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")  # no FK triggers during the bulk load
        tenants = _clone_tenants(conn, len(info.sizes))
        agencies: dict[int, list[int]] = {}
        for tid, aid in conn.execute("SELECT tenant_id, id FROM agency ORDER BY id"):
            agencies.setdefault(tid, []).append(aid)
        categories: dict[int, list[int]] = {}
        for tid, cid in conn.execute("SELECT tenant_id, id FROM category ORDER BY id"):
            categories.setdefault(tid, []).append(cid)
        officer_id = conn.execute("SELECT id FROM user_account WHERE email = %s", (info.officer_email,)).fetchone()[0]
        info.tenants = len(tenants)
        info.largest_agency_id = agencies[tenants[0][0]][0]

        cid = 0
        eid = 0
        did = 0
        counters: dict[tuple[int, int], int] = {}
        descriptions = [f"{a} {b}" for a in SENTENCES for b in SENTENCES if a != b]
        cols_c = ("COPY complaint (id, tenant_id, code, access_token, title, description, category_id, complaint_class,"
                  " tags, location_text, latitude, longitude, anonymous, confidential, reporter_name, reporter_email,"
                  " source, status,"
                  " submitted_at, verified_at, disposed_at, first_response_at, answered_at, closed_at, due_at,"
                  " due_stage, stage_started_at, paused_at, paused_working_days, deadline_state, verified_on_time,"
                  " answered_on_time, refer_to, archive_reason, merged_into_id, reopen_count, updated_at, version)"
                  " FROM STDIN")
        cols_e = ("COPY complaint_event (id, tenant_id, complaint_id, at, kind, visibility, actor_type,"
                  " actor_id, actor_label, message, before, after) FROM STDIN")
        cols_d = ("COPY disposition (id, tenant_id, complaint_id, agency_id, instruction, created_by_id,"
                  " created_at, active) FROM STDIN")

        def flush(bc: io.StringIO, be: io.StringIO, bd: io.StringIO) -> None:
            # One COPY at a time: a connection carries a single COPY stream.
            with conn.cursor() as cur:
                for stmt, buf in ((cols_c, bc), (cols_e, be), (cols_d, bd)):
                    with cur.copy(stmt) as cp:
                        cp.write(buf.getvalue())

        for (tid, prefix), size in zip(tenants, info.sizes, strict=True):
            bc, be, bd = io.StringIO(), io.StringIO(), io.StringIO()
            statuses = _pick(STATUS_WEIGHTS, rng, size)
            classes = _pick(CLASS_WEIGHTS, rng, size)
            ags, cats = agencies[tid], categories.get(tid) or [None]
            staff = officer_id if tid == tenants[0][0] else None
            first_cid = cid + 1
            pin = _pins(pin_rng, tid == tenants[0][0])
            for i in range(size):
                cid += 1
                st = statuses[i]
                if st in OPEN:  # open reports are recent; a few are long overdue
                    sub = now_min - int(rng.random() ** 2 * 90 * day)
                else:  # more complaints lately (growth) over three years
                    sub = now_min - int((1 - rng.random() ** 0.7) * 3 * 365 * day) - day

                year = datetime.fromtimestamp(sub * 60, UTC).year
                n = counters.get((tid, year), 0) + 1
                counters[(tid, year)] = n
                code = f"{prefix}-{year % 100:02d}-{n:05d}"
                r = rng.random()
                desc = descriptions[int(r * len(descriptions))]
                if r < 0.02 or (r > 0.5 and r < 0.51):
                    desc = f"{desc} {SEARCH_SENTENCE}"
                title = f"{TITLES[i % len(TITLES)]} di {PLACES[(i // 7) % len(PLACES)]}"
                cat = cats[i % len(cats)]
                anon = "t" if r < 0.08 else "f"
                conf = "t" if 0.08 <= r < 0.1 else "f"
                verified = disposed = first = answered = closed = due = None
                due_stage = stage = None
                v_ok = a_ok = None
                refer = archive = merged = None
                reopen = 1 if 0.3 < r < 0.33 and st == "closed" else 0
                t = sub + int(rng.random() * 3 * day) + 30
                past_verify = st in ("verified", "disposed", "answered", "closed")
                if past_verify:
                    verified = t
                    first = t
                    v_ok = "t" if r < 0.85 else "f"
                if st in ("disposed", "answered", "closed"):
                    disposed = t + int(rng.random() * 2 * day) + 10
                if st in ("answered", "closed"):
                    answered = disposed + int(rng.random() * 12 * day) + 60
                    a_ok = "t" if r < 0.75 else "f"
                if st == "closed":
                    closed = answered + int(rng.random() * 10 * day) + 60
                elif st in ("referred", "archived", "merged"):
                    closed = t
                    first = t
                    if st == "referred":
                        refer = "Pemerintah Provinsi"
                    elif st == "archived":
                        archive = "Tidak dapat ditindaklanjuti"
                    elif cid > first_cid:
                        merged = first_cid
                if st in ("submitted", "on_hold"):
                    due_stage, stage, due = "verification", sub, sub + 3 * day
                elif st == "verified":
                    due_stage, stage, due = "coordination", verified, verified + 2 * day
                elif st == "disposed":
                    due_stage, stage, due = "followup", disposed, disposed + 14 * day
                elif st == "answered":
                    due_stage, stage, due = "auto_close", answered, answered + 10 * day
                deadline = "on_time"
                if due is not None and due < now_min:
                    deadline = "overdue"
                elif due is not None and due < now_min + 2 * day:
                    deadline = "due_soon"
                times = [sub, verified, disposed, first, answered, closed, due, stage]
                ts = [stamp(x) if x is not None else "\\N" for x in times]
                last = max(x for x in times[:6] if x is not None)
                bc.write("\t".join((
                    str(cid), str(tid), code, f"tok{cid:012d}{tid:06d}", title, desc,
                    str(cat) if cat else "\\N", classes[i], "[]", PLACES[i % len(PLACES)], *pin(), anon, conf,
                    f"Warga {cid}", f"warga{cid}@contoh.id" if r < 0.7 else "\\N", "web", st,
                    *ts[:7], due_stage or "\\N", ts[7], stamp(sub + 1) if st == "on_hold" else "\\N", "0",
                    deadline, v_ok or "\\N", a_ok or "\\N", refer or "\\N", archive or "\\N",
                    str(merged) if merged else "\\N", str(reopen), stamp(last), "1")))
                bc.write("\n")
                # Events: the timeline of what happened so far.
                evs = [(sub, "submit", "public", "citizen", '{"status": "submitted"}')]
                if st == "on_hold":
                    evs.append((sub + 1, "hold", "public", "staff", '{"status": "on_hold"}'))
                if verified is not None:
                    evs.append((verified, "verify", "public", "staff", '{"status": "verified"}'))
                if disposed is not None:
                    evs.append((disposed, "dispose", "public", "staff", '{"status": "disposed"}'))
                    did += 1
                    bd.write(f"{did}\t{tid}\t{cid}\t{ags[i % len(ags)]}\tMohon ditindaklanjuti\t"
                             f"{staff or chr(92) + 'N'}\t{stamp(disposed)}\tt\n")
                    if r < 0.15 and len(ags) > 1:  # some go to two agencies
                        did += 1
                        bd.write(f"{did}\t{tid}\t{cid}\t{ags[(i + 1) % len(ags)]}\t\\N\t"
                                 f"{staff or chr(92) + 'N'}\t{stamp(disposed)}\tt\n")
                if answered is not None:
                    evs.append((answered, "publish_followup", "public", "staff", '{"status": "answered"}'))
                if st in ("closed", "referred", "archived", "merged"):
                    evs.append((closed, st if st != "closed" else "close", "public", "staff",
                                f'{{"status": "{st}"}}'))
                for at, kind, vis, actor, after in evs:
                    eid += 1
                    actor_id = str(staff) if (actor == "staff" and staff) else "\\N"
                    label = "Petugas" if actor == "staff" else "\\N"
                    we_line = (f"{eid}\t{tid}\t{cid}\t{stamp(at)}\t{kind}\t{vis}\t{actor}\t{actor_id}\t"
                               f"{label}\t\\N\t{{}}\t{after}\n")
                    be.write(we_line)
                if i % 20000 == 19999:
                    flush(bc, be, bd)
                    bc, be, bd = io.StringIO(), io.StringIO(), io.StringIO()
            flush(bc, be, bd)
        info.complaints, info.events, info.dispositions = cid, eid, did
        info.largest_complaints = info.sizes[0]
        with conn.cursor() as cur:
            with cur.copy("COPY code_counter (tenant_id, year, last_value) FROM STDIN") as cp:
                for (tid, year), n in counters.items():
                    cp.write_row((tid, year, n))
        for table in ("complaint", "complaint_event", "disposition"):
            conn.execute(f"SELECT setval('{table}_id_seq', (SELECT coalesce(max(id), 1) FROM {table}))")
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    info.seconds = round(time.perf_counter() - t0, 1)
    return info


def main() -> int:
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    info = generate(url, scale_from_env())
    out = asdict(info)
    out.pop("sizes")
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
