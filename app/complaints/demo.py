"""Demo complaints for `make run`: about 200 per region, in every state and class, in Indonesian."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.accounts.models import Role, User
from app.agencies.models import Agency, Category
from app.complaints import service
from app.complaints.models import Complaint, Privacy, ResponseTemplate
from app.complaints.sweep import sweep_tenant
from app.extensions import db
from app.tenancy.models import frozen_time, utcnow

PLACES = {
    "banjarmasin": ["Jl. A. Yani km 4", "Jl. Veteran", "Kayu Tangi", "Teluk Dalam", "Sungai Andai", "Pasar Lama",
                    "Kelayan Selatan", "Pekapuran Raya", "Belitung Darat", "Sungai Miai", "Pemurus Dalam",
                    "Jl. Pramuka", "Siring Tendean", "Alalak Utara", "Banua Anyar"],
    "katingan": ["Jl. Tjilik Riwut, Kasongan", "Kasongan Lama", "Tumbang Samba", "Pendahara", "Katingan Hilir",
                 "Tewang Sanggalang Garing", "Mendawai", "Katingan Kuala", "Jl. Ahmad Yani, Kasongan",
                 "Kereng Pangi", "Tumbang Lahang"],
    # The smaller demo regions of app.demo.EXTRA_REGIONS (no map pins).
    "palangkaraya": ["Jl. Tjilik Riwut km 2", "Jl. G. Obos", "Bukit Tunggal", "Menteng", "Pahandut", "Kereng Bangkirai",
                     "Jl. Yos Sudarso", "Panarung", "Palangka", "Jl. Rajawali"],
    "banjar": ["Martapura Kota", "Jl. A. Yani, Martapura", "Astambul", "Karang Intan", "Gambut", "Sungai Tabuk",
               "Kertak Hanyar", "Pengaron", "Cintapuri Darussalam", "Aluh-Aluh"],
    "pulangpisau": ["Jl. Tingang Menteng, Pulang Pisau", "Maliku", "Kahayan Hilir", "Pandih Batu", "Jabiren Raya",
                    "Sebangau Kuala", "Banama Tingang"],
}

#: Approximate map pins of the places (the command center's map); not every report gets one.
COORDS = {
    "Jl. A. Yani km 4": (-3.3300, 114.6100), "Jl. Veteran": (-3.3190, 114.6030), "Kayu Tangi": (-3.2960, 114.5880),
    "Teluk Dalam": (-3.3130, 114.5750), "Sungai Andai": (-3.2780, 114.6080), "Pasar Lama": (-3.3150, 114.5990),
    "Kelayan Selatan": (-3.3420, 114.5930), "Pekapuran Raya": (-3.3290, 114.6010),
    "Belitung Darat": (-3.3100, 114.5700), "Sungai Miai": (-3.2980, 114.5990), "Pemurus Dalam": (-3.3500, 114.6200),
    "Jl. Pramuka": (-3.3250, 114.6230), "Siring Tendean": (-3.3170, 114.5960), "Alalak Utara": (-3.2800, 114.5800),
    "Banua Anyar": (-3.3220, 114.6150),
    "Jl. Tjilik Riwut, Kasongan": (-1.8950, 113.4050), "Kasongan Lama": (-1.8800, 113.3900),
    "Tumbang Samba": (-1.4650, 112.9500), "Pendahara": (-2.0000, 113.4500), "Katingan Hilir": (-1.9000, 113.4100),
    "Tewang Sanggalang Garing": (-1.7500, 113.3000), "Mendawai": (-3.1000, 113.3500),
    "Katingan Kuala": (-3.2300, 113.0800), "Jl. Ahmad Yani, Kasongan": (-1.8900, 113.4000),
    "Kereng Pangi": (-1.7100, 113.3700), "Tumbang Lahang": (-1.2500, 112.8000),
}

#: (category code, class, title, description, answer)
SCENARIOS = [
    ("jalan", "pengaduan", "Jalan berlubang di {place}",
     "Jalan di {place} berlubang cukup dalam sejak dua minggu lalu. Saat hujan lubang tertutup air sehingga "
     "pengendara motor sering terjatuh. Mohon segera diperbaiki sebelum ada korban.",
     "Tim Dinas PUPR telah meninjau lokasi dan menambal lubang pada hari Kamis. Perbaikan menyeluruh "
     "dijadwalkan dalam paket pemeliharaan jalan tahun ini."),
    ("jalan", "aspirasi", "Usul penerangan jalan di {place}",
     "Ruas jalan di {place} gelap pada malam hari karena lampu jalan belum ada. Warga mengusulkan pemasangan "
     "lampu penerangan jalan umum agar lebih aman.",
     "Usulan dicatat dan dimasukkan dalam rencana pemasangan lampu penerangan jalan umum tahun depan."),
    ("drainase", "pengaduan", "Saluran drainase tersumbat di {place}",
     "Saluran air di {place} tersumbat sampah dan lumpur. Setiap hujan deras air meluap ke jalan dan masuk ke "
     "rumah warga. Kami mohon saluran dinormalisasi.",
     "Normalisasi saluran telah dilaksanakan oleh petugas drainase. Warga diimbau tidak membuang sampah ke "
     "saluran."),
    ("drainase", "pengawasan", "Proyek drainase di {place} tidak sesuai spesifikasi",
     "Pekerjaan saluran drainase di {place} tampak menggunakan material tipis dan sudah retak padahal baru "
     "selesai. Mohon diperiksa kesesuaiannya dengan kontrak.",
     "Inspektorat bersama Dinas PUPR telah memeriksa pekerjaan. Kontraktor diwajibkan memperbaiki bagian yang "
     "retak dalam masa pemeliharaan."),
    ("parkir", "pengaduan", "Juru parkir liar di {place}",
     "Di depan pertokoan {place} ada juru parkir yang memungut tarif Rp5.000 tanpa karcis. Apakah ini resmi?",
     "Dinas Perhubungan telah menertibkan juru parkir tanpa izin di lokasi tersebut. Tarif resmi roda dua "
     "adalah Rp2.000 dengan karcis."),
    ("parkir", "informasi", "Tarif parkir resmi di {place}",
     "Saya ingin menanyakan tarif parkir resmi untuk kendaraan roda dua dan roda empat di kawasan {place}.",
     "Tarif parkir tepi jalan umum sesuai peraturan daerah: roda dua Rp2.000 dan roda empat Rp3.000."),
    ("pkl", "pengaduan", "Pedagang kaki lima menutup trotoar di {place}",
     "Trotoar di {place} penuh lapak pedagang kaki lima sehingga pejalan kaki harus turun ke jalan. Mohon "
     "ditata agar tetap ada ruang untuk pejalan kaki.",
     "Satpol PP telah melakukan penataan dan memindahkan pedagang ke lokasi yang disediakan."),
    ("adminduk", "pengaduan", "KTP elektronik belum jadi sejak tiga bulan",
     "Saya sudah merekam KTP elektronik di kecamatan tiga bulan lalu tetapi sampai sekarang belum dicetak. "
     "Setiap ditanya jawabannya blangko habis.",
     "Blangko KTP-el sudah tersedia kembali. KTP Anda telah dicetak dan dapat diambil di kantor kecamatan."),
    ("adminduk", "informasi", "Syarat pembuatan akta kelahiran",
     "Apa saja syarat membuat akta kelahiran untuk anak yang lahir di rumah dan apakah bisa diurus secara "
     "daring?",
     "Syaratnya surat keterangan lahir, KK, dan KTP orang tua. Pengajuan dapat dilakukan melalui layanan "
     "daring Disdukcapil."),
    ("kesehatan", "pengaduan", "Antrean panjang di puskesmas {place}",
     "Antrean di puskesmas {place} sangat panjang, pasien menunggu lebih dari tiga jam dan loket pendaftaran "
     "hanya satu.",
     "Dinas Kesehatan menambah satu loket dan menerapkan nomor antrean daring mulai bulan ini."),
    ("kesehatan", "aspirasi", "Usul jadwal posyandu lansia di {place}",
     "Warga lansia di {place} mengusulkan posyandu lansia diadakan setiap bulan, bukan tiga bulan sekali.",
     "Usulan diterima. Jadwal posyandu lansia di wilayah tersebut menjadi setiap bulan."),
    ("sampah", "pengaduan", "Sampah menumpuk di TPS {place}",
     "Tempat pembuangan sementara di {place} tidak diangkut selama seminggu. Baunya menyengat dan sampah "
     "meluber ke jalan.",
     "Dinas Lingkungan Hidup telah mengangkut sampah dan menambah jadwal pengangkutan menjadi setiap hari."),
    ("pendidikan", "informasi", "Jadwal penerimaan murid baru",
     "Kapan jadwal penerimaan peserta didik baru tingkat SMP dan apa saja jalur pendaftarannya?",
     "Jadwal dan jalur penerimaan diumumkan di laman resmi Dinas Pendidikan pada bulan Mei."),
    ("bansos", "pengaduan", "Bantuan sosial tidak tepat sasaran di {place}",
     "Beberapa keluarga mampu di {place} menerima bantuan sosial, sementara tetangga kami yang lansia dan "
     "tidak bekerja tidak terdaftar.",
     "Dinas Sosial telah melakukan verifikasi ulang data penerima dan mengusulkan keluarga tersebut dalam "
     "pemutakhiran DTKS."),
]

NAMES = ["Ahmad Rifani", "Siti Norhayati", "Muhammad Yusuf", "Rina Kartika", "Hendra Wijaya", "Nur Aini",
         "Rahmat Hidayat", "Fitri Handayani", "Agus Salim", "Dewi Sartika", "Fajar Nugroho", "Lina Marlina",
         "Taufik Rahman", "Yuni Astuti", "Rizky Pratama", "Halimah", "Syahrani", "Mariani", "Jumberi", "Aluh Ipah"]

REPLIES = ["Terima kasih, sudah kami cek dan memang sudah diperbaiki.",
           "Sampai hari ini belum ada perubahan di lokasi. Mohon ditindaklanjuti lagi."]

TEMPLATES = [
    ("Terima kasih atas laporan", "Terima kasih atas laporan Anda. Laporan telah kami teruskan kepada perangkat "
                                  "daerah terkait untuk ditindaklanjuti."),
    ("Mohon lengkapi lokasi", "Mohon lengkapi alamat atau titik lokasi yang lebih rinci, serta foto kondisi "
                              "terkini, agar laporan dapat kami verifikasi."),
]

#: Final state → share of demo complaints (sums to 1).
MIX = [("closed", .40), ("answered", .10), ("disposed", .20), ("verified", .06), ("submitted", .12),
       ("on_hold", .04), ("referred", .03), ("archived", .03), ("replied", .02)]


#: Final state → range of age in days; open items are recent so only some are overdue.
AGE_DAYS = {"submitted": (0, 5), "on_hold": (2, 12), "verified": (1, 9), "disposed": (4, 30),
            "answered": (6, 14), "replied": (6, 30)}


#: Indonesian mobile prefixes (after the 08) that the numbering plan knows: the service refuses invalid numbers.
MOBILE_PREFIXES = ("11", "12", "13", "21", "22", "23", "51", "52", "53", "55", "56", "57", "58", "59", "77", "78",
                   "81", "82", "83", "85", "87", "88", "95", "96", "97", "98", "99")


def _demo_phone(a: int, b: int) -> str:
    """A valid mobile number such as 0812 0345 6789 from two random draws (as many as before)."""
    return f"08{MOBILE_PREFIXES[a % len(MOBILE_PREFIXES)]}{b % 100_000_000:08d}"


def _work_time(rng: random.Random, day: datetime, tz: ZoneInfo) -> datetime:
    local = datetime.combine(day.date(), time(rng.randint(7, 20), rng.randint(0, 59)), tzinfo=tz)
    return local.astimezone(ZoneInfo("UTC"))


def seed_complaints(tenant, count: int = 200, seed: int | None = None, max_age_days: int | None = None) -> int:
    """Create demo complaints in the bound tenant unless it already has some or it has no officer (a
    region without demo staff); returns how many. ``max_age_days``: none older (a region live only since)."""
    if db.session.scalar(select(func.count(Complaint.id))):
        return 0
    rng = random.Random(seed if seed is not None else tenant.id * 7919)
    # A second generator for the map pins, so adding them left the rest of the demo data unchanged.
    pin_rng = random.Random((seed if seed is not None else tenant.id * 7919) + 1)
    tz = ZoneInfo(tenant.timezone)
    officer = db.session.execute(select(User).where(User.role == Role.OFFICER).order_by(User.id)).scalars().first()
    if officer is None:  # a region without demo staff (one added to tenants/): nobody to handle complaints
        return 0
    liaisons = {u.agency_id: u for u in db.session.execute(select(User).where(User.role == Role.LIAISON)).scalars()}
    categories = {c.code: c for c in db.session.execute(select(Category)).scalars()}
    agencies = list(db.session.execute(select(Agency)).scalars())
    for title, body in TEMPLATES:
        db.session.add(ResponseTemplate(title=title, body=body))
    places = PLACES.get(tenant.slug, PLACES["katingan"])
    unit = service.Actor.of(officer)
    now = utcnow()
    made = 0
    finals = rng.choices([m[0] for m in MIX], weights=[m[1] for m in MIX], k=count)
    for i, final in enumerate(finals):
        # Open items are recent; finished ones spread over the last six months.
        age_days = rng.randint(*AGE_DAYS.get(final, (10, 180)))
        if max_age_days is not None:
            age_days = min(age_days, max_age_days)
        t = _work_time(rng, now - timedelta(days=age_days), tz)
        if t > now:
            t = now - timedelta(hours=2)
        cat_code, cls, title, desc, answer = rng.choice(SCENARIOS)
        place = rng.choice(places)
        privacy = rng.choices(Privacy.ALL, weights=[.7, .2, .1])[0]
        name = rng.choice(NAMES)
        email = f"{name.split()[0].lower()}{i}@contoh.id" if rng.random() < .5 else None
        phone = _demo_phone(rng.randint(11, 59), rng.randint(1000000, 99999999)) if rng.random() < .3 else None
        category = categories.get(cat_code)
        pin = COORDS.get(place) if pin_rng.random() < .7 else None
        if pin is not None:
            pin = (round(pin[0] + pin_rng.uniform(-.004, .004), 6), round(pin[1] + pin_rng.uniform(-.004, .004), 6))
        data = service.SubmitData(
            title=title.format(place=place), description=desc.format(place=place), complaint_class=cls,
            category_id=category.id if category else None, location_text=place, privacy=privacy,
            reporter_name=name, reporter_email=email, reporter_phone=phone, source=rng.choice(["web", "web", "sms"]),
            latitude=pin[0] if pin else None, longitude=pin[1] if pin else None,
        )
        with frozen_time(t):
            c, _ = service.submit_complaint(data)
        made += 1

        def step(hours_min: int, hours_max: int) -> datetime:
            nonlocal t
            t = min(t + timedelta(hours=rng.randint(hours_min, hours_max)), now - timedelta(minutes=5))
            return t

        if final == "submitted":
            continue
        if final == "on_hold":
            with frozen_time(step(2, 30)):
                service.hold(c, unit, "Mohon lengkapi lokasi yang lebih rinci dan foto kondisi terkini.")
            continue
        if final in ("referred", "archived"):
            with frozen_time(step(2, 60)):
                if final == "referred":
                    service.refer(c, unit, "Balai Wilayah Sungai Kalimantan III (jalan nasional)",
                                  "Ruas ini kewenangan pemerintah pusat; laporan telah kami teruskan.")
                else:
                    service.archive(c, unit, "Laporan tidak memuat informasi yang cukup untuk ditindaklanjuti.")
            continue
        with frozen_time(step(2, 70)):
            service.verify(c, unit, tags=[cat_code])
        if final == "verified":
            continue
        agency = category.default_agency if category and category.default_agency else rng.choice(agencies)
        with frozen_time(step(4, 80)):
            service.dispose(c, unit, [agency.id], instruction="Mohon ditindaklanjuti sesuai SOP.")
        if final == "disposed":
            if rng.random() < .4:
                liaison = liaisons.get(agency.id)
                with frozen_time(step(5, 40)):
                    service.save_followup_draft(c, service.Actor.of(liaison) if liaison else unit,
                                                answer, agency_id=agency.id, submit=True)
            continue
        liaison = liaisons.get(agency.id)
        with frozen_time(step(24, 24 * (20 if cls == "pengawasan" else 12))):
            fu = service.save_followup_draft(c, service.Actor.of(liaison) if liaison else unit, answer,
                                             agency_id=agency.id, submit=True)
        with frozen_time(step(2, 30)):
            service.publish_followup(c, unit, fu.id)
        if final == "answered":
            continue
        if final == "replied":
            with frozen_time(step(5, 60)):
                service.citizen_reply(c, REPLIES[1])
            continue
        # closed: most by the unit after a thank-you, some rated, some automatically (sweep below)
        with frozen_time(step(5, 100)):
            if rng.random() < .5:
                service.rate(c, rng.choices([5, 4, 3, 2, 1], weights=[.45, .3, .12, .08, .05])[0],
                             "Terima kasih, respons cepat." if rng.random() < .5 else None)
            if rng.random() < .7:
                service.close(c, unit, "Laporan selesai ditindaklanjuti.")
        db.session.flush()
    # Catch up with the clock: flag overdue items and auto-close answers with no reply.

    sweep_tenant(tenant, now)
    db.session.flush()
    return made


def seed_test_report(tenant) -> Complaint:
    """The report the region's staff sent to try the service just before go-live, marked as a test report
    (left out of every statistic), as the onboarding's go-live does."""
    at = (tenant.go_live_at or utcnow()) - timedelta(hours=20)
    data = service.SubmitData(
        title="Laporan uji coba sebelum peluncuran", description="Uji coba formulir pengaduan oleh petugas sebelum "
        "layanan dibuka untuk umum. Mohon diabaikan.", complaint_class="aspirasi", category_id=None,
        location_text=None, privacy=Privacy.PUBLIC, reporter_name="Petugas uji coba",
        reporter_email=None, reporter_phone=None, source="web")
    with frozen_time(at):
        c, _ = service.submit_complaint(data)
        service.mark_test(c, service.SYSTEM, True, "Dikirim sebelum layanan dibuka (uji coba penyiapan).")
    db.session.flush()
    return c
