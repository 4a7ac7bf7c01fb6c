#!/usr/bin/env python
"""A year of a busy library, for measuring the reports (issue 17, "Speed"): bench/reports.py.

Fills the database the settings pick (SQLITE_PATH or DATABASE_URL, as the server; `--sqlite PATH`
sets SQLITE_PATH) with one library (Asia/Jakarta), 3 queues, 2 widget sites, 12 librarians, a
manager who may see the whole desk's reports and export personal data, and by default 100,000
conversations with 1,000,000 messages over the last 365 days, shaped like a library's week:
opening hours, busier afternoons, quiet Saturdays and Sundays, holidays. Of the conversations,
about 8 % were abandoned while waiting, 5 % left as offline questions (most answered by e-mail
the next working hours), 4 % handed from one librarian to another, 3 % claimed but never answered;
some run past midnight (the e-resources desk is open until 23:59). Ratings, the librarians'
assessment (topics, READ scale, question type), survey answers, the librarians' time on duty, 200
published FAQ entries and the FAQ's hourly activity come with them.

Everything goes in with bulk_create in batches, one transaction per batch. The auto_now_add /
auto_now fields are switched off in this process while it loads, so the rows keep the times the
script gives them (it reads them back at the end to check).

    SQLITE_PATH=/tmp/year.sqlite3 .venv/bin/python bench/year_of_data.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rt_bench_year .venv/bin/python bench/year_of_data.py
    .venv/bin/python bench/year_of_data.py --sqlite /tmp/small.sqlite3 --conversations 5000 --messages 50000

The database must hold no conversations yet (migrate is run first). Random but repeatable: `--seed`.
"""

import argparse
import math
import os
import random
import sys
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as clock
from itertools import accumulate
from pathlib import Path
from zoneinfo import ZoneInfo

if __package__ in (None, ""):  # run as `python bench/year_of_data.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import django_ready, say  # noqa: E402

TIME_ZONE = "Asia/Jakarta"
MANAGER_USERNAME, MANAGER_PASSWORD = "kepala-layanan", "laporan-setahun-2026"
LIBRARIANS = 12
SHARES = {"abandoned": 0.08, "offline": 0.05, "transferred": 0.04, "silent": 0.03}  # the rest: answered
OFFLINE_ANSWERED = 0.75
RATED, COMMENTED, ASSESSED, SURVEYED = 0.30, 0.10, 0.70, 0.15  # of the chats a librarian answered live
RETURNED_AFTER_ABANDONING = 0.3

# Queues: slug, name, opening hours (library time), share of the live chats, member librarians.
QUEUES = [
    ("setahun-umum", "Layanan Umum", "mon-fri 08:00-21:00\nsat 08:00-16:00\nsun 10:00-14:00", 0.70, range(12)),
    ("setahun-anak", "Layanan Anak dan Remaja", "mon-sat 09:00-17:00", 0.15, (2, 3, 6, 7)),
    ("setahun-esumber", "Bantuan Sumber Elektronik", "mon-fri 08:00-23:59", 0.15, (0, 1, 9, 10, 11)),
]
# Sites: key, name, share of the chats, queues its patrons may choose (first = default).
SITES = [
    ("setahun-web", "Situs Perpustakaan Kota", 0.7, ("setahun-umum", "setahun-anak", "setahun-esumber")),
    ("setahun-opac", "Katalog Daring (OPAC)", 0.3, ("setahun-umum", "setahun-esumber")),
]
# How busy each hour and weekday is, relative to each other (library time).
HOUR_SHAPE = {0: 0.02, 1: 0.01, 2: 0.01, 3: 0.01, 4: 0.02, 5: 0.05, 6: 0.15, 7: 0.3, 8: 0.5, 9: 0.8, 10: 1.0,
              11: 1.0, 12: 0.7, 13: 1.1, 14: 1.3, 15: 1.35, 16: 1.2, 17: 0.9, 18: 0.7, 19: 0.6, 20: 0.45,
              21: 0.35, 22: 0.3, 23: 0.25}
WEEKDAY_SHAPE = [1.15, 1.1, 1.05, 1.0, 0.85, 0.5, 0.2]
HOLIDAYS = {(1, 1), (3, 19), (3, 20), (3, 21), (3, 23), (3, 24), (5, 1), (5, 14), (6, 1), (8, 17), (12, 25)}
# Shifts (library time): librarians → (start, end) on weekdays; the weekend is covered by rotation.
SHIFTS = {**{i: (clock(7, 45), clock(14, 15)) for i in (0, 1, 2, 3, 4)},
          **{i: (clock(13, 45), clock(21, 15)) for i in (5, 6, 7, 8)},
          **{i: (clock(15, 45), clock(23, 59)) for i in (9, 10, 11)}}
TOPICS = [("Katalog dan pencarian", "Catalogue and search"), ("Peminjaman dan pengembalian", "Loans and returns"),
          ("Keanggotaan", "Membership"), ("E-book dan e-jurnal", "E-books and e-journals"),
          ("Akses jarak jauh", "Remote access"), ("Sitasi dan daftar pustaka", "Citation and references"),
          ("Sejarah lokal", "Local history"), ("Layanan anak", "Children's services"),
          ("Ruang dan fasilitas", "Rooms and facilities"), ("Denda", "Fines"),
          ("Skripsi dan tugas akhir", "Theses"), ("Koleksi langka", "Rare collections"),
          ("Internet dan komputer", "Internet and computers"), ("Acara dan kelas", "Events and classes"),
          ("Jam buka", "Opening hours")]
SURVEY = [("yes_partly_no", "Apakah pertanyaan Anda terjawab?", "Was your question answered?"),
          ("scale", "Seberapa mudah mendapatkan bantuan hari ini?", "How easy was it to get help today?"),
          ("text", "Apa yang bisa kami perbaiki?", "What could we do better?")]


# ------------------------------------------------------------------------------------------------
# Words: Indonesian text of realistic lengths
# ------------------------------------------------------------------------------------------------

FIRST_NAMES = ["Ayu", "Budi", "Citra", "Dewi", "Eko", "Fajar", "Gita", "Hendra", "Indah", "Joko", "Kartika", "Lestari",
               "Made", "Nur", "Okta", "Putri", "Rizki", "Sari", "Taufik", "Utami", "Wahyu", "Yuni", "Zainal", "Agus",
               "Bayu", "Desi", "Fitri", "Galih", "Hasan", "Irma", "Lukman", "Maya", "Nanda", "Rina", "Siti", "Tono"]
LAST_NAMES = ["Saputra", "Wijaya", "Lestari", "Siregar", "Nasution", "Hidayat", "Kurniawan", "Pratama", "Santoso",
              "Rahmawati", "Setiawan", "Hutapea", "Harahap", "Simanjuntak", "Purba", "Sembiring", "Ginting", "Lubis"]
SUBJECTS = ["buku tentang sejarah Sumatera Utara", "jurnal ekonomi pembangunan", "novel Pramoedya Ananta Toer",
            "peta lama kota Medan", "skripsi tentang pendidikan anak usia dini", "e-book pemrograman Python",
            "koran tahun 1970-an", "buku resep masakan Batak", "data statistik penduduk", "kamus bahasa Belanda",
            "artikel tentang perubahan iklim", "buku cerita bergambar untuk anak", "arsip foto perkebunan",
            "panduan menulis daftar pustaka APA", "buku persiapan UTBK", "majalah arsitektur", "biografi Sukarno"]
PATRON_OPENERS = [
    "Selamat {part}, saya mencari {subject}. Apakah tersedia di perpustakaan?",
    "Halo, bagaimana cara meminjam {subject}?",
    "Permisi, saya sedang menulis tugas dan butuh {subject}. Bisa dibantu?",
    "Apakah perpustakaan punya {subject}? Saya sudah cari di katalog tapi tidak ketemu.",
    "Selamat {part}. Saya tidak bisa masuk ke akun e-resources, katanya kata sandi salah.",
    "Bagaimana cara memperpanjang pinjaman buku secara daring?",
    "Apakah perpustakaan buka pada hari Minggu? Saya ingin membaca {subject}.",
    "Saya mau daftar jadi anggota, syaratnya apa saja ya?",
    "Halo kak, apakah bisa akses {subject} dari rumah?",
    "Saya kena denda keterlambatan, bagaimana cara membayarnya?",
    "Tolong bantu saya menyusun daftar pustaka untuk {subject}.",
    "Apakah ada ruang diskusi yang bisa dipesan untuk besok siang?",
]
PATRON_LINES = ["Baik, terima kasih.", "Oh begitu ya. Kalau {subject} juga ada?", "Sebentar, saya coba dulu.",
                "Sudah saya coba, tapi masih muncul pesan galat.", "Bisa dikirim tautannya?",
                "Apakah bisa dipinjam lebih dari dua minggu?", "Saya masih bingung di bagian login-nya.",
                "Wah, sangat membantu. Terima kasih banyak, kak!", "Nomor panggilnya berapa ya?",
                "Kalau untuk anak SD, ada rekomendasi buku lain?", "Oke, saya ke sana sore ini.",
                "Halo? Masih di sana?",
                "Saya pakai laptop kampus, apakah perlu VPN?", "Berapa lama proses pendaftaran anggotanya?"]
LIBRARIAN_LINES = [
    "Selamat {part}, terima kasih sudah menghubungi kami. Saya bantu carikan {subject} sebentar ya.",
    "Di katalog kami ada tiga judul yang cocok. Yang paling lengkap ada di lantai 2, rak sejarah, "
    "nomor panggil 959.8 SIR.",
    "Untuk akses dari rumah, silakan masuk lewat menu E-Resources di situs kami memakai nomor kartu anggota dan PIN.",
    "Pinjaman bisa diperpanjang satu kali selama 14 hari melalui menu Akun Saya, "
    "selama belum ada yang memesan buku itu.",
    "Baik, saya cek dulu statusnya. Mohon tunggu sebentar.",
    "Buku tersebut sedang dipinjam sampai tanggal 12. Apakah ingin saya pesankan supaya disimpan untuk Anda?",
    "Syarat pendaftaran anggota: KTP atau kartu pelajar, pas foto, dan mengisi formulir daring. "
    "Kartu jadi dalam satu hari.",
    "Untuk daftar pustaka gaya APA, urutannya: nama penulis, tahun, judul (miring), lalu penerbit. "
    "Contohnya sudah saya kirim.",
    "Denda bisa dibayar di meja sirkulasi atau lewat transfer; bukti transfernya cukup dikirim ke email layanan kami.",
    "Koran lama tersedia dalam bentuk mikrofilm di ruang koleksi khusus, buka Senin sampai Jumat pukul 09.00-15.00.",
    "Sama-sama, senang bisa membantu. Jika ada pertanyaan lain, silakan hubungi kami lagi.",
    "Coba hapus cache peramban lalu masuk ulang. Jika masih gagal, saya bisa mengatur ulang PIN Anda.",
    "Ruang diskusi bisa dipesan maksimal dua jam, untuk 4-8 orang. Saya sudah catat pesanan atas nama Anda.",
    "Untuk anak usia 7-9 tahun, kami rekomendasikan seri cerita rakyat Nusantara di ruang anak lantai 1.",
]
REPLY_ENDINGS = ["", "", " Apakah ada lagi yang bisa saya bantu?", " Semoga membantu.",
                 " Informasi lengkapnya juga ada di halaman bantuan kami."]
COMMENTS = ["Pustakawannya ramah dan cepat sekali menjawab.", "Sangat membantu, terima kasih!",
            "Agak lama menunggu, tapi jawabannya jelas.", "Jawabannya kurang lengkap.", "Mantap, pelayanannya bagus.",
            "Saya jadi tahu cara memakai e-journal, terima kasih.", "Tolong tambah jam layanan di malam hari."]
SURVEY_TEXTS = ["Jam layanan chat diperpanjang.", "Sudah bagus.", "Tautan ke katalog langsung di chat.",
                "Lebih banyak e-book bahasa Indonesia.", "Waktu tunggu bisa lebih singkat."]
FAQ_QUESTIONS = ["Bagaimana cara {verb} {thing}?", "Apakah perpustakaan menyediakan {thing}?",
                 "Berapa lama {thing} bisa dipinjam?", "Di mana saya bisa {verb} {thing}?"]
FAQ_VERBS = ["meminjam", "memesan", "mengakses", "mencari", "mengembalikan", "mencetak", "memperpanjang"]
FAQ_THINGS = ["buku", "e-book", "jurnal daring", "ruang diskusi", "koran lama", "skripsi", "peta", "laptop",
              "koleksi anak", "majalah", "kartu anggota", "mikrofilm", "buku referensi", "komputer umum"]


def part_of_day(hour):
    return "pagi" if hour < 11 else "siang" if hour < 15 else "sore" if hour < 18 else "malam"


def patron_opening(rng, hour):
    return rng.choice(PATRON_OPENERS).format(part=part_of_day(hour), subject=rng.choice(SUBJECTS))


def patron_line(rng):
    return rng.choice(PATRON_LINES).format(subject=rng.choice(SUBJECTS))


def librarian_line(rng, hour):
    text = rng.choice(LIBRARIAN_LINES).format(part=part_of_day(hour), subject=rng.choice(SUBJECTS))
    if rng.random() < 0.3:
        text += " " + rng.choice(LIBRARIAN_LINES).format(part=part_of_day(hour), subject=rng.choice(SUBJECTS))
    return text + rng.choice(REPLY_ENDINGS)


# ------------------------------------------------------------------------------------------------
# The year's calendar: when chats come, who is on duty
# ------------------------------------------------------------------------------------------------


def parse_hours(text):
    """{weekday: [(open hour float, close hour float)]} from "mon-fri 08:00-21:00" lines."""
    from reference import hours

    by_day = defaultdict(list)
    for days, opens, closes in hours.parse(text):
        for day in days:
            by_day[day].append((opens.hour + opens.minute / 60, closes.hour + closes.minute / 60))
    return by_day


def open_fraction(spans, hour):
    """How much of the clock hour `hour` falls within the spans."""
    return sum(max(0.0, min(hour + 1, closes) - max(hour, opens)) for opens, closes in spans)


def day_factor(rng, day):
    """Busier in term time, quiet on holidays and around the end of the year; some noise."""
    if (day.month, day.day) in HOLIDAYS:
        return 0.15
    season = 0.75 if day.month in (7, 12) else 1.1 if day.month in (4, 5, 10, 11) else 1.0
    return season * rng.uniform(0.8, 1.2)


class Calendar:
    """Weighted (day, hour) cells for each queue's live chats and for questions left after hours."""

    def __init__(self, rng, days, tz):
        self.tz, self.days = tz, days
        factors = {day: day_factor(rng, day) for day in days}
        self.live = {}
        for slug, _name, hours_text, _share, _members in QUEUES:
            spans = parse_hours(hours_text)
            cells = [(day, hour, WEEKDAY_SHAPE[day.weekday()] * factors[day] * HOUR_SHAPE[hour]
                      * open_fraction(spans[day.weekday()], hour))
                     for day in days for hour in range(24)]
            self.live[slug] = [(d, h, w) for d, h, w in cells if w > 0]
        general = parse_hours(QUEUES[0][2])
        cells = [(day, hour, factors[day] * HOUR_SHAPE[hour] * (1 - open_fraction(general[day.weekday()], hour)))
                 for day in days for hour in range(24)]
        self.after_hours = [cell for cell in cells if cell[2] > 0]

    def sample(self, rng, cells, count, latest):
        """`count` aware datetimes drawn from weighted cells (uniform within the hour), before `latest`."""
        weights = list(accumulate(w for _d, _h, w in cells))
        out = []
        while len(out) < count:
            for day, hour, _w in rng.choices(cells, cum_weights=weights, k=count - len(out)):
                start = datetime(day.year, day.month, day.day, hour, tzinfo=self.tz)
                at = start + timedelta(seconds=rng.uniform(0, 3600))
                if at < latest:
                    out.append(at)
        return out


def duty_roster(rng, days, tz, now):
    """DutySpell times [(librarian index, start, end)] and {(day, hour): {librarian indices}}."""
    spells, on_duty = [], defaultdict(set)
    for day in days:
        weekday, week = day.weekday(), day.isocalendar()[1]
        if (day.month, day.day) in HOLIDAYS:
            continue
        if weekday < 5:
            shifts = {i: SHIFTS[i] for i in range(LIBRARIANS) if rng.random() > 0.08}  # leave, illness
        elif weekday == 5:
            shifts = {(week + k * 4) % LIBRARIANS: (clock(7, 45), clock(17, 15)) for k in range(3)}
        else:
            shifts = {week % LIBRARIANS: (clock(9, 45), clock(14, 15))}
        for index, (opens, closes) in shifts.items():
            start = datetime.combine(day, opens, tz) + timedelta(minutes=rng.uniform(-10, 10))
            end = datetime.combine(day, closes, tz) + timedelta(minutes=rng.uniform(-5, 25))
            parts = [(start, end)]
            if rng.random() < 0.3:  # a break in the middle: off duty for a while
                middle = start + (end - start) / 2
                parts = [(start, middle), (middle + timedelta(minutes=rng.uniform(20, 60)), end)]
            for begin, finish in parts:
                finish = min(finish, now)
                if begin >= finish:
                    continue
                spells.append((index, begin, finish))
                hour = begin.replace(minute=0, second=0, microsecond=0)
                while hour < finish:
                    on_duty[(hour.date(), hour.hour)].add(index)
                    hour += timedelta(hours=1)
    return spells, on_duty


# ------------------------------------------------------------------------------------------------
# Conversations, planned in memory first
# ------------------------------------------------------------------------------------------------


@dataclass
class Chat:
    kind: str  # answered, transferred, silent, abandoned, offline
    created: datetime
    queue: str = ""
    site: str = ""
    patron: int = -1
    librarian: int | None = None  # index; the one who finished
    first_librarian: int | None = None  # transferred: the one who handed it on
    first_assigned: datetime | None = None
    assigned: datetime | None = None
    first_response: datetime | None = None
    transfer_at: datetime | None = None
    closed: datetime | None = None
    closed_by_role: str = ""
    closed_by: int | None = None
    messages: int = 0
    extra: dict = field(default_factory=dict)


def lognormal(rng, median, sigma, low, high):
    return min(high, max(low, median * math.exp(rng.gauss(0, sigma))))


def pick_librarian(rng, on_duty, members, at, exclude=None):
    present = [i for i in on_duty.get((at.date(), at.hour), ()) if i in members and i != exclude]
    return rng.choice(present or [i for i in members if i != exclude])


def plan_chats(rng, args, calendar, on_duty, now):
    n = args.conversations
    kinds = (["abandoned"] * round(n * SHARES["abandoned"]) + ["offline"] * round(n * SHARES["offline"])
             + ["transferred"] * round(n * SHARES["transferred"]) + ["silent"] * round(n * SHARES["silent"]))
    kinds += ["answered"] * (n - len(kinds))
    rng.shuffle(kinds)
    members = {slug: set(m) for slug, _n, _h, _s, m in QUEUES}
    chats = []
    live_by_queue = Counter()
    for kind in kinds:
        if kind == "offline":
            chats.append(Chat(kind, None, queue=QUEUES[0][0]))
        else:
            queue = rng.choices([q[0] for q in QUEUES], weights=[q[3] for q in QUEUES])[0]
            live_by_queue[queue] += 1
            chats.append(Chat(kind, None, queue=queue))
    # Started early enough to have ended by now (waits and chats are capped at 30 min and 3 h).
    latest = now - timedelta(hours=4)
    times = {slug: calendar.sample(rng, calendar.live[slug], count, latest) for slug, count in live_by_queue.items()}
    offline_times = calendar.sample(rng, calendar.after_hours, sum(c.kind == "offline" for c in chats), latest)
    for chat in chats:
        chat.created = offline_times.pop() if chat.kind == "offline" else times[chat.queue].pop()
        sites = [s for s in SITES if chat.queue in s[3]]
        chat.site = rng.choices([s[0] for s in sites], weights=[s[2] for s in sites])[0]
    chats.sort(key=lambda c: c.created)
    for chat in chats:
        timeline(rng, chat, members[chat.queue], on_duty, now)
    returns_after_abandoning(rng, chats, members, on_duty, now)
    chats.sort(key=lambda c: c.created)
    patron_sites = assign_patrons(rng, chats)
    message_counts(rng, chats, args.messages)
    return chats, patron_sites


def timeline(rng, chat, members, on_duty, now):
    """created → first_assigned → first_response → closed, and who did what."""
    start = chat.created
    if chat.kind == "abandoned":
        chat.closed = start + timedelta(seconds=lognormal(rng, 240, 0.8, 20, 3600))
        chat.closed_by_role = "system"
        return
    if chat.kind == "offline":
        chat.closed = start + timedelta(seconds=rng.uniform(0.2, 2))
        chat.closed_by_role = "patron"
        if rng.random() < OFFLINE_ANSWERED:
            answer = next_opening(rng, start, on_duty)
            if answer is not None and answer < now - timedelta(hours=4):  # as every other time here
                chat.librarian = chat.closed_by = pick_librarian(rng, on_duty, members, answer)
                chat.first_response = answer
        return
    wait = lognormal(rng, 40, 0.9, 3, 1800)
    chat.first_assigned = chat.assigned = start + timedelta(seconds=wait)
    chat.librarian = pick_librarian(rng, on_duty, members, chat.first_assigned)
    length = timedelta(seconds=lognormal(rng, 540, 0.8, 60, 3 * 3600))
    chat.closed = chat.first_assigned + length
    if chat.kind != "silent":
        chat.first_response = chat.first_assigned + timedelta(seconds=lognormal(rng, 25, 0.7, 3, 600))
        chat.closed = max(chat.closed, chat.first_response + timedelta(seconds=30))
    if chat.kind == "transferred":
        chat.first_librarian = chat.librarian
        chat.transfer_at = chat.first_response + (chat.closed - chat.first_response) * rng.uniform(0.2, 0.6)
        chat.assigned = chat.transfer_at + timedelta(seconds=lognormal(rng, 15, 0.6, 2, 120))
        chat.librarian = pick_librarian(rng, on_duty, members, chat.assigned, exclude=chat.first_librarian)
        chat.closed = max(chat.closed, chat.assigned + timedelta(seconds=60))
    if rng.random() < 0.7:
        chat.closed_by_role, chat.closed_by = "librarian", chat.librarian
    else:
        chat.closed_by_role = "patron"


def next_opening(rng, after, on_duty):
    """When a librarian on duty answers a question left after hours: their next hour on duty."""
    hour = after.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    for _ in range(24 * 5):
        if on_duty.get((hour.date(), hour.hour)):
            return hour + timedelta(seconds=rng.uniform(300, 3 * 3600))
        hour += timedelta(hours=1)
    return None


def returns_after_abandoning(rng, chats, members, on_duty, now):
    """Some patrons who gave up waiting come back a little later: a later answered chat becomes theirs."""
    answered = [c for c in chats if c.kind == "answered"]
    rng.shuffle(answered)
    latest = now - timedelta(hours=4)
    for chat in chats:
        again = chat.closed + timedelta(seconds=rng.uniform(60, 1800))
        if chat.kind == "abandoned" and answered and again < latest and rng.random() < RETURNED_AFTER_ABANDONING:
            back = answered.pop()
            back.created = again
            back.queue, back.site = chat.queue, chat.site
            timeline(rng, back, members[back.queue], on_duty, now)
            chat.extra["came_back"] = back


def assign_patrons(rng, chats):
    """Patrons per site, many of them coming back: about 55 chats per 100 come from a new patron.
    Sets each chat's patron (an index); returns each patron's site key."""
    pools = {key: [] for key, *_ in SITES}
    patron_sites = []
    for chat in chats:
        if chat.patron >= 0:
            continue
        pool = pools[chat.site]
        if pool and rng.random() > 0.55:
            chat.patron = pool[int(len(pool) * rng.random() ** 1.5)]
        else:
            chat.patron = len(patron_sites)
            pool.append(chat.patron)
            patron_sites.append(chat.site)
        back = chat.extra.get("came_back")
        if back is not None:
            back.patron = chat.patron
    return patron_sites


def message_counts(rng, chats, total):
    """Messages per chat summing to `total`: fixed shapes for the short ones, the rest lognormal."""
    fixed = {"abandoned": lambda c: 2 + (rng.random() < 0.3), "silent": lambda c: 3 + (rng.random() < 0.4),
             "offline": lambda c: 3 if c.first_response else 2}
    free = []
    for chat in chats:
        if chat.kind in fixed:
            chat.messages = fixed[chat.kind](chat)
        else:
            free.append(chat)
    minimum = {"answered": 4, "transferred": 5}
    budget = total - sum(c.messages for c in chats)
    mean = max(budget / max(1, len(free)), 6)
    for chat in free:
        chat.messages = max(minimum[chat.kind], round(mean * math.exp(rng.gauss(0, 0.55) - 0.55 ** 2 / 2)))
    difference = total - sum(c.messages for c in chats)
    while difference and free:
        chat = rng.choice(free)
        step = 1 if difference > 0 else -1
        if chat.messages + step >= minimum[chat.kind]:
            chat.messages += step
            difference -= step


# ------------------------------------------------------------------------------------------------
# Writing it
# ------------------------------------------------------------------------------------------------


@contextmanager
def given_times(*models):
    """Switch off auto_now / auto_now_add on these models in this process: bulk_create keeps our times."""
    fields = [f for m in models for f in m._meta.concrete_fields if getattr(f, "auto_now", False)
              or getattr(f, "auto_now_add", False)]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def desk(rng):
    """Library, queues, sites, survey questions, topics, librarians and the manager."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    from reference.models import LibrarianProfile, Library, Queue, SurveyQuestion, Topic
    from widgets.models import Site

    User = get_user_model()
    library = Library.objects.order_by("pk").first() or Library(name="Perpustakaan Kota")
    library.name, library.time_zone = "Perpustakaan Kota (setahun, bench)", TIME_ZONE
    library.save()
    queues = {}
    for slug, name, hours_text, _share, _members in QUEUES:
        queues[slug] = Queue.objects.create(slug=slug, name=name, opening_hours=hours_text)
    sites = {}
    for key, name, _share, choices in SITES:
        site = Site.objects.create(key=key, name=name, library=library, default_queue=queues[choices[0]],
                                   allowed_origins="https://perpustakaan.example.go.id",
                                   greeting="Halo! Ada yang bisa kami bantu?")
        site.queue_choices.set([queues[slug] for slug in choices])
        sites[key] = site
        SurveyQuestion.objects.bulk_create(
            SurveyQuestion(site=site, position=i + 1, kind=kind, text_id=text_id, text_en=text_en)
            for i, (kind, text_id, text_en) in enumerate(SURVEY))
    topics = Topic.objects.bulk_create(Topic(library=library, label_id=i, label_en=e) for i, e in TOPICS)
    librarians = []
    for i in range(LIBRARIANS):
        first, last = FIRST_NAMES[i * 3 % len(FIRST_NAMES)], LAST_NAMES[i % len(LAST_NAMES)]
        user = User(username=f"pustakawan-{i + 1:02d}", first_name=first, last_name=last, is_staff=True,
                    email=f"pustakawan{i + 1:02d}@perpustakaan.example.go.id")
        user.set_unusable_password()
        user.save()
        profile = LibrarianProfile.objects.create(user=user, library=library, display_name=f"{first} {last[0]}.",
                                                  status=LibrarianProfile.Status.OFFLINE)
        profile.queues.set([queues[slug] for slug, *_rest, members in QUEUES if i in members])
        librarians.append((user, profile.display_name))
    manager = User(username=MANAGER_USERNAME, first_name="Kepala", last_name="Layanan", is_staff=True,
                   email="kepala.layanan@perpustakaan.example.go.id")
    manager.set_password(MANAGER_PASSWORD)
    manager.save()
    manager.user_permissions.set(Permission.objects.filter(
        content_type__app_label="reference", codename__in=["view_desk_reports", "export_personal_data"]))
    LibrarianProfile.objects.create(user=manager, library=library, display_name="Kepala Layanan",
                                    status=LibrarianProfile.Status.OFFLINE, monthly_summary=True)
    return library, queues, sites, topics, librarians, manager


def write_patrons(rng, chats, patron_sites, sites, batch):
    """Patrons, seen first a second before their first chat; those who left a question offline have an e-mail."""
    from reference.models import Patron

    first_seen = {}
    for chat in chats:
        first_seen.setdefault(chat.patron, chat.created)
    offline = {chat.patron for chat in chats if chat.kind == "offline"}
    rows = []
    for index, site_key in enumerate(patron_sites):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}" if rng.random() < 0.8 else ""
        email = ""
        if index in offline or rng.random() < 0.6:
            email = f"{(name or 'pemustaka').split()[0].lower()}{rng.randrange(10, 9999)}@mail.example.com"
        rows.append(Patron(site_id=sites[site_key].pk, name=name, email=email,
                           language="en" if rng.random() < 0.12 else "id",
                           created_at=first_seen[index] - timedelta(seconds=1)))
    Patron.objects.bulk_create(rows, batch_size=batch)
    return [p.pk for p in rows]


def message_plan(rng, chat, names, tz):
    """[(role, librarian index or None, created, text)] in seq order, chat.messages long."""
    def hour(at):
        return at.astimezone(tz).hour

    first = ("patron", None, chat.created, patron_opening(rng, hour(chat.created)))
    if chat.kind == "abandoned":
        out = [first] + [("patron", None, chat.created + (chat.closed - chat.created) / 2, "Halo? Masih ada orang?")
                         for _ in range(chat.messages - 2)]
        return out + [("system", None, chat.closed, "Pemustaka pergi sebelum pustakawan sempat menjawab.")]
    if chat.kind == "offline":
        out = [first, ("system", None, chat.closed, "Terima kasih. Saat ini belum ada yang dapat menjawab langsung; "
                       "pustakawan akan mengirim jawaban ke email Anda.")]
        if chat.first_response:
            answer = librarian_line(rng, hour(chat.first_response))
            out.append(("librarian", chat.librarian, chat.first_response, answer))
        return out
    holder = chat.first_librarian if chat.kind == "transferred" else chat.librarian
    joined = ("system", None, chat.first_assigned, f"{names[holder]} bergabung dalam obrolan.")
    closing = ("system", None, chat.closed, "Pemustaka menutup obrolan." if chat.closed_by_role == "patron"
               else f"{names[chat.librarian]} menutup obrolan.")
    if chat.kind == "silent":
        middle = [("patron", None, chat.first_assigned + (chat.closed - chat.first_assigned) * rng.random(),
                   patron_line(rng)) for _ in range(chat.messages - 3)]
        return [first, joined, *sorted(middle, key=lambda m: m[2]), closing]
    reply = ("librarian", holder, chat.first_response, librarian_line(rng, hour(chat.first_response)))
    rest = chat.messages - 4 - (chat.kind == "transferred")
    span = (chat.closed - chat.first_response).total_seconds()
    times = sorted(chat.first_response + timedelta(seconds=rng.uniform(1, max(2, span - 1))) for _ in range(rest))
    middle, role = [], "patron"
    for at in times:
        if chat.transfer_at and at >= chat.assigned:
            holder = chat.librarian
        middle.append((role, holder if role == "librarian" else None, at,
                       librarian_line(rng, hour(at)) if role == "librarian" else patron_line(rng)))
        role = ("librarian" if role == "patron" else "patron") if rng.random() < 0.75 else role
    if chat.kind == "transferred":
        handover = ("system", None, chat.assigned, f"{names[chat.librarian]} telah mengambil alih obrolan.")
        middle = sorted(middle + [handover], key=lambda m: m[2])
    return [first, joined, reply, *middle, closing]


def write_chats(rng, chats, args, objects):
    """Conversations and everything hanging on them, one transaction per batch of conversations."""
    from django.db import transaction

    from reference.models import Conversation, Message, SurveyAnswer, Transfer

    library, queues, sites, topics, librarians, _manager = objects["desk"]
    patron_ids = objects["patron_ids"]
    users = [u.pk for u, _name in librarians]
    names = [name for _u, name in librarians]
    questions = {key: list(site.survey_questions.order_by("position")) for key, site in sites.items()}
    TopicLink = Conversation.topics.through
    tz = ZoneInfo(TIME_ZONE)
    counts = Counter()
    for start in range(0, len(chats), args.batch):
        batch = chats[start:start + args.batch]
        with transaction.atomic():
            plans = [message_plan(rng, chat, names, tz) for chat in batch]
            rows = [conversation_row(rng, chat, plan[0][3], queues, sites, patron_ids, users)
                    for chat, plan in zip(batch, plans, strict=True)]
            Conversation.objects.bulk_create(rows, batch_size=1000)
            messages, transfers, links, answers = [], [], [], []
            for chat, row, plan in zip(batch, rows, plans, strict=True):
                for seq, (role, librarian, at, text) in enumerate(plan, 1):
                    messages.append(Message(conversation_id=row.pk, seq=seq, role=role, created_at=at, text=text,
                                            author_id=users[librarian] if librarian is not None else None,
                                            author_name=names[librarian] if librarian is not None else ""))
                if chat.kind == "transferred":
                    transfers.append(Transfer(conversation_id=row.pk, from_user_id=users[chat.first_librarian],
                                              to_user_id=users[chat.librarian], status=Transfer.Status.ACCEPTED,
                                              note="Mohon dilanjutkan, pertanyaannya soal akses e-resources.",
                                              created_at=chat.transfer_at, answered_at=chat.assigned,
                                              expires_at=chat.transfer_at + timedelta(seconds=60)))
                if row.read_scale:
                    links += [TopicLink(conversation_id=row.pk, topic_id=t.pk)
                              for t in rng.sample(topics, 1 + (rng.random() < 0.3))]
                if chat.extra.get("surveyed"):
                    answers += survey_answers(rng, row, questions[chat.site])
            Message.objects.bulk_create(messages, batch_size=2000)
            Transfer.objects.bulk_create(transfers, batch_size=1000)
            TopicLink.objects.bulk_create(links, batch_size=2000)
            SurveyAnswer.objects.bulk_create(answers, batch_size=1000)
        counts.update(conversations=len(rows), messages=len(messages), transfers=len(transfers),
                      topic_links=len(links), survey_answers=len(answers))
        if (start // args.batch) % 10 == 0:
            say(f"  {start + len(batch)} conversations, {counts['messages']} messages "
                f"({time.monotonic() - args.t0:.0f} s)")
    return counts


def conversation_row(rng, chat, subject, queues, sites, patron_ids, users):
    from reference.models import Conversation, QuestionType

    row = Conversation(
        patron_id=patron_ids[chat.patron], subject=subject[:280], site_id=sites[chat.site].pk,
        queue_id=queues[chat.queue].pk,
        status=Conversation.Status.CLOSED, is_offline=chat.kind == "offline", created_at=chat.created,
        queued_at=chat.created, assigned_at=chat.assigned, first_assigned_at=chat.first_assigned,
        first_response_at=chat.first_response, closed_at=chat.closed, closed_by_role=chat.closed_by_role,
        librarian_id=users[chat.librarian] if chat.librarian is not None else None,
        closed_by_id=users[chat.closed_by] if chat.closed_by is not None else None,
        last_seq=chat.messages, patron_read_seq=chat.messages,
        librarian_read_seq=chat.messages if chat.librarian is not None else 0)
    if chat.kind in ("answered", "transferred"):
        if rng.random() < RATED:
            row.rating = rng.choices([5, 4, 3, 2, 1], weights=[55, 25, 10, 5, 5])[0]
            row.rated_at = chat.closed + timedelta(seconds=rng.uniform(5, 120))
            if rng.random() < COMMENTED / RATED:
                row.rating_comment = rng.choice(COMMENTS)
        if rng.random() < ASSESSED:
            row.read_scale = rng.choices(range(1, 7), weights=[20, 35, 25, 12, 6, 2])[0]
            row.question_type = rng.choice(QuestionType.values)
        chat.extra["surveyed"] = rng.random() < SURVEYED
    return row


def survey_answers(rng, row, questions):
    from reference.models import SurveyAnswer

    at = row.closed_at + timedelta(seconds=rng.uniform(30, 180))
    out = []
    for question in questions:
        if question.kind == "yes_partly_no":
            out.append(SurveyAnswer(conversation_id=row.pk, question=question, answered_at=at,
                                    choice=rng.choices(["yes", "partly", "no"], weights=[70, 20, 10])[0]))
        elif question.kind == "scale":
            out.append(SurveyAnswer(conversation_id=row.pk, question=question, answered_at=at,
                                    score=rng.choices([5, 4, 3, 2, 1], weights=[45, 30, 15, 6, 4])[0]))
        elif rng.random() < 0.5:
            out.append(SurveyAnswer(conversation_id=row.pk, question=question, answered_at=at,
                                    text=rng.choice(SURVEY_TEXTS)))
    return out


def write_duty(spells, librarians, batch):
    from reference.models import DutySpell

    rows = [DutySpell(user_id=librarians[i][0].pk, started_at=begin, ended_at=end) for i, begin, end in spells]
    DutySpell.objects.bulk_create(rows, batch_size=batch)
    return len(rows)


def write_faq(rng, librarians, now):
    """100 questions in Indonesian, each with an English translation, all published."""
    from reference.faq.models import FaqEntry
    from reference.faq.search.indexing import rebuild_index

    entries = []
    published = now - timedelta(days=400)
    for i in range(100):
        verb, thing = rng.choice(FAQ_VERBS), FAQ_THINGS[i % len(FAQ_THINGS)]
        question = rng.choice(FAQ_QUESTIONS).format(verb=verb, thing=thing)
        more = rng.choice(LIBRARIAN_LINES).format(part="pagi", subject=thing)
        answer = (f"<p>Untuk {verb} {thing}, silakan datang ke meja layanan atau gunakan menu Akun Saya di situs "
                  f"perpustakaan. Bawa kartu anggota Anda.</p><p>{more}</p>")
        editor = rng.choice(librarians)[0]
        common = {"status": FaqEntry.Status.PUBLISHED, "author": editor, "published_by": editor,
                  "published_at": published, "created_at": published, "updated_at": published,
                  "topics": [rng.choice(TOPICS)[0]]}
        entries.append(FaqEntry(slug=f"tanya-{i + 1:03d}", language="id", question=question[:500], answer=answer,
                                **common))
        entries.append(FaqEntry(slug=f"ask-{i + 1:03d}", language="en",
                                question=f"How do I use the library's {thing} service? ({i + 1})",
                                answer=f"<p>Ask at the service desk or use My Account on our site ({thing}).</p>",
                                **common))
    FaqEntry.objects.bulk_create(entries)
    for original, translation in zip(entries[::2], entries[1::2], strict=True):
        translation.translation_of = original
    FaqEntry.objects.bulk_update(entries[1::2], ["translation_of"])
    rebuild_index()
    return entries


def write_faq_activity(rng, entries, sites, days, tz, now, batch):
    """Hourly FAQ use: about 1.6 searches per chat, 15 % of them finding nothing; views of a few
    popular entries; votes and "this answered my question" on a share of the views."""
    from django.db.models import F

    from reference.faq.models import FaqEntry
    from reference.models import FaqActivity

    popularity = [1 / (rank + 1) ** 0.9 for rank in range(len(entries))]
    popular = list(accumulate(popularity))
    site_list = list(sites.values())
    rows, totals = [], defaultdict(Counter)
    for day in days:
        for hour in range(24):
            at = datetime(day.year, day.month, day.day, hour, tzinfo=tz)
            if at >= now:
                continue
            holiday = 0.15 if (day.month, day.day) in HOLIDAYS else 1
            expected = 1.2 * WEEKDAY_SHAPE[day.weekday()] * HOUR_SHAPE[hour] * holiday
            for site in site_list:
                searches = poisson(rng, expected * (2.2 if site is site_list[0] else 1.0))
                if not searches:
                    continue
                rows.append(FaqActivity(hour=at, kind="search", site=site, count=searches))
                if misses := sum(rng.random() < 0.15 for _ in range(searches)):
                    rows.append(FaqActivity(hour=at, kind="miss", site=site, count=misses))
                views = Counter(rng.choices(entries, cum_weights=popular, k=poisson(rng, searches * 0.7)))
                for entry, count in views.items():
                    rows.append(FaqActivity(hour=at, kind="view", entry=entry, site=site, count=count))
                    totals[entry.pk]["view_count"] += count
                    for kind, share, total in (("helpful", 0.06, "helpful_yes"), ("not_helpful", 0.02, "helpful_no"),
                                               ("answered", 0.04, "answered_in_widget")):
                        if hits := sum(rng.random() < share for _ in range(count)):
                            rows.append(FaqActivity(hour=at, kind=kind, entry=entry, site=site, count=hits))
                            totals[entry.pk][total] += hits
    FaqActivity.objects.bulk_create(rows, batch_size=batch)
    for pk, figures in totals.items():
        FaqEntry.objects.filter(pk=pk).update(**{name: F(name) + value for name, value in figures.items()})
    return len(rows)


def poisson(rng, mean):
    """Knuth's method; the means here are small."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


# ------------------------------------------------------------------------------------------------
# Checking what was stored
# ------------------------------------------------------------------------------------------------


def check_stored(chats, objects):
    """Read back the counts and times: auto_now_add must not have replaced ours."""
    from django.db.models import Count, Max, Min

    from reference.models import Conversation, Message, Patron, Transfer

    figures = Conversation.objects.aggregate(n=Count("id"), first=Min("created_at"), last=Max("created_at"))
    wanted_first, wanted_last = chats[0].created, chats[-1].created
    problems = []
    if max(abs(figures["first"] - wanted_first), abs(figures["last"] - wanted_last)) > timedelta(seconds=1):
        problems.append(f"conversation times stored {figures['first']}..{figures['last']}, "
                        f"wanted {wanted_first}..{wanted_last}")
    newest_message = Message.objects.aggregate(last=Max("created_at"))["last"]
    # The last planned moment: a chat's close, or the later e-mailed answer to a question left offline.
    last_planned = max(max(c.closed, c.first_response or c.closed) for c in chats)
    if newest_message > last_planned + timedelta(seconds=1):
        problems.append(f"a message is stamped {newest_message}, after the last planned moment")
    sample = Message.objects.filter(seq=1).order_by("conversation_id").select_related("conversation").first()
    if sample and sample.created_at != sample.conversation.created_at:
        problems.append("the first message's time differs from its conversation's")
    if Transfer.objects.filter(created_at__gt=objects["started"]).exists():
        problems.append("transfers stamped with the time of the load")
    if Patron.objects.filter(created_at__gt=objects["started"]).exists():
        problems.append("patrons stamped with the time of the load")
    return figures, problems


def summary():
    """Row counts and the shares the reports should find."""
    from django.db.models import Count, Q

    from reference.models import (
        Conversation,
        DutySpell,
        FaqActivity,
        FaqEntry,
        LibrarianProfile,
        Message,
        Patron,
        SurveyAnswer,
        Transfer,
    )

    c = Conversation.objects.aggregate(
        total=Count("id"), abandoned=Count("id", filter=Q(librarian__isnull=True, closed_by_role="system")),
        offline=Count("id", filter=Q(is_offline=True)),
        offline_answered=Count("id", filter=Q(is_offline=True, first_response_at__isnull=False)),
        no_librarian_message=Count("id", filter=Q(first_assigned_at__isnull=False, first_response_at__isnull=True)),
        rated=Count("id", filter=Q(rating__isnull=False)), commented=Count("id", filter=~Q(rating_comment="")),
        assessed=Count("id", filter=Q(read_scale__isnull=False)))
    return {
        "conversations": c, "messages": Message.objects.count(), "patrons": Patron.objects.count(),
        "transfers": Transfer.objects.count(), "survey_answers": SurveyAnswer.objects.count(),
        "duty_spells": DutySpell.objects.count(), "librarians": LibrarianProfile.objects.count(),
        "faq_entries": FaqEntry.objects.count(), "faq_activity_rows": FaqActivity.objects.count(),
    }


# ------------------------------------------------------------------------------------------------
# Command line
# ------------------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlite", metavar="PATH", help="the embedded SQLite file (sets SQLITE_PATH)")
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365, help="how far back the data goes (default 365)")
    parser.add_argument("--batch", type=int, default=2000, help="conversations per transaction (default 2000)")
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args(argv)
    if args.sqlite and os.environ.get("DATABASE_URL"):
        parser.error("--sqlite and DATABASE_URL: pick one")
    if args.conversations < 100 or args.messages < 4 * args.conversations:
        parser.error("at least 100 conversations and 4 messages per conversation")
    if not 7 <= args.days <= 3660 or args.batch < 100:
        parser.error("--days 7..3660, --batch ≥ 100")
    if args.sqlite:
        os.environ["SQLITE_PATH"] = args.sqlite
    return args


def main(argv=None):
    args = parse_args(argv)
    args.t0 = time.monotonic()
    django_ready()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.common import database_description
    from reference.faq.models import FaqEntry
    from reference.models import Conversation, Message, Patron, Transfer

    call_command("migrate", verbosity=0)
    if Conversation.objects.exists():
        raise SystemExit(f"{database_description()} already holds conversations: use a fresh database")
    rng = random.Random(args.seed)
    tz = ZoneInfo(TIME_ZONE)
    now = timezone.now()
    today = now.astimezone(tz).date()
    days = [today - timedelta(days=k) for k in range(args.days - 1, -1, -1)]
    say(f"database {database_description()}: planning {args.conversations} conversations, {args.messages} messages "
        f"from {days[0]} to {today} ({TIME_ZONE})")
    calendar = Calendar(rng, days, tz)
    spells, on_duty = duty_roster(rng, days, tz, now)
    chats, patron_sites = plan_chats(rng, args, calendar, on_duty, now)
    say(f"planned in {time.monotonic() - args.t0:.0f} s; writing")
    objects = {"started": now}
    with given_times(Conversation, Message, Patron, Transfer, FaqEntry):
        with transaction.atomic():
            objects["desk"] = desk(rng)
            duty = write_duty(spells, objects["desk"][4], args.batch)
            objects["patron_ids"] = write_patrons(rng, chats, patron_sites, objects["desk"][2], args.batch)
        say(f"desk, {duty} duty spells and {len(objects['patron_ids'])} patrons in {time.monotonic() - args.t0:.0f} s")
        counts = write_chats(rng, chats, args, objects)
        with transaction.atomic():
            entries = write_faq(rng, objects["desk"][4], now)
            write_faq_activity(rng, entries, objects["desk"][2], days, tz, now, args.batch)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # what autovacuum would have done by the time anyone reads a report
            cursor.execute("ANALYZE")
    elapsed = time.monotonic() - args.t0
    stored, problems = check_stored(chats, objects)
    figures = summary()
    print(f"\n== a year of a busy library: {database_description()}")
    print(f"written in {elapsed:.0f} s ({counts['messages'] / elapsed:.0f} messages/s overall)")
    first, last = stored["first"].astimezone(tz), stored["last"].astimezone(tz)
    print(f"first chat {first:%Y-%m-%d %H:%M}, last {last:%Y-%m-%d %H:%M} ({TIME_ZONE})")
    for name, value in figures.items():
        print(f"{name:20} {value}")
    print(f"manager login        {MANAGER_USERNAME} / {MANAGER_PASSWORD} (view_desk_reports, export_personal_data)")
    print("librarians           pustakawan-01 … pustakawan-12 (no password)")
    if problems:
        raise SystemExit("stored times are wrong: " + "; ".join(problems))
    print("stored times         checked: conversations, messages, patrons and transfers keep the generated times")


if __name__ == "__main__":
    main()
