"""Removing personal data from transcript text before it becomes an FAQ draft.

redact(text, names=[...], emails=[...], card_numbers=[...], allow=[...]) → Redacted(text, spans): the
text with each piece of personal data replaced by a placeholder such as [EMAIL], and where the
placeholders are (for highlighting). suspicious(text) lists what still looks personal in a redacted
text (a name, a long number), for the curator to check.

How a piece is found, in order of precedence (an earlier find wins where two overlap):

1. what the patron gave in the form: their e-mail and library card number;
2. e-mail addresses, also written `nama[at]yahoo[dot]co[dot]id`, `budi @ gmail . com` or
   `tina dot wong at outlook dot com`;
   links that carry a token (a `?token=…`, a long random path segment); every part of the name the
   patron gave;
3. numbers after a word that says what they are: NIK/KTP, NISN, NIM/NPM/NIS, rekening/account/
   transfer ke (and bank names),
   kartu/anggota/member/card (also with a library's name between: "kartu anggota Perpusda Medan
   saya MDN-2019-004512"), no hp/wa/telp, a date after lahir/born/TTL/tgl lahir;
4. numbers by their shape: library card numbers (FAQ_CARD_NUMBER_PATTERN), 16-digit NIKs, phone
   numbers (mobile and landline with an area code, "(0621) 21456", any of spaces, dashes and dots)
   — unless they overlap an ISBN, a price, a time or a date;
5. words by their context: names after an honorific (Bu, Pak, Kak…, Mr, Ms…) or a title (Hj., H.,
   Dr., Ir., Prof.…, which stay) or after "nama saya", "my name is", "anak saya"…; street addresses
   (Jl., Gg., Kel., Kec., No.…, with an RT/RW after them; RT/RW alone); schools (SDN 060 Medan,
   SMP Negeri 1 Binjai, SD Negeri 163085) and a class (kelas 4B) when a school or a child is named.

Anything inside an `allow` string (the library's public contacts) is never replaced, and a phone
number whose digits are those of an allowed number stays too. Every pattern is linear: each starts
only at a token boundary (a look-behind) and has bounded or unambiguous repetition.
"""

import bisect
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

LABELS = {
    "email": "[EMAIL]", "card": "[NO. KARTU]", "nik": "[NIK]", "phone": "[TELEPON]", "name": "[NAMA]",
    "address": "[ALAMAT]", "birth": "[TGL LAHIR]", "account": "[NO. REKENING]", "nisn": "[NISN]",
    "school": "[SEKOLAH]", "class": "[KELAS]", "link": "[TAUTAN]", "student": "[NIM]",
}
# Library card numbers: FAQ_CARD_NUMBER_PATTERN (a regular expression) in settings.
DEFAULT_CARD_PATTERN = r"\b(?:TT|PKT)[- ]?\d{4}[- ]?\d{4,6}\b"


# --- words ----------------------------------------------------------------------------------------
# Words that are never a name (nor a street name), in Indonesian chat and in English. Checked in
# lower case, also without the suffixes -nya, -ku, -mu, -lah, -kah, -pun.
STOPWORDS = frozenset("""
ada adakah adalah agar akan aku aja ajah aja2 amat anda apa apakah atau atas bagaimana bagi bahwa baik
bahkan banyak baru bawa beberapa begitu belum benar berapa besok bisa boleh bukan buat cuma dan dapat
dari daripada dengan di dia dong dulu gak ga gitu harus hanya ini itu iya ya yah yaa ok oke okey okay
jadi jangan juga kalau kalo kami kamu kan karena ke kemarin kenapa kepada ketika kini kita lagi lah
lalu lebih maaf makasih mana masih mau maupun mereka min mohon nah nanti nggak ngga nih pada padahal
pun saat saja sama sambil sampai sangat saya sebelum sedang sehingga sejak selalu semua sendiri
seperti sesudah setelah siapa silakan silahkan sudah sih supaya tadi tapi telah tentang terima kasih
tetapi tidak tolong untuk utk udah walau yang yg sy gw gue ane kak kakak pak bapak bu ibu mas mbak mba
dik dek adik adek bang abang om tante sdr sdri saudara saudari tuan nyonya halo hallo hai hi hello
pagi siang sore malam selamat salam assalamualaikum wassalam permisi tanya bertanya nanya jawab mohon
hormat ini itu sini situ sana tsb dll dsb dgn dr krn tdk blm sdh bs gmn gimana gmana knp kpn kapan
dimana kemana berapa brp apa aj tp jg lg trs terus pas cuman banget bgt deh dah kok kek sih mah
juga pula tuh tu nya ku mu lho loh wah wkwk hehe haha sip siap baiklah yuk ayo mari tunggu
perpustakaan perpus perpusda pustaka pustakawan petugas admin layanan loket meja sirkulasi referensi
buku bukunya koleksi katalog opac pinjam pinjaman meminjam peminjaman kembali mengembalikan
pengembalian perpanjang perpanjangan denda kartu anggota keanggotaan daftar mendaftar pendaftaran
ruang ruangan lantai rak gedung kantor jam hari minggu bulan tahun tanggal tgl pukul wib wita wit
senin selasa rabu kamis jumat jum'at sabtu ahad libur buka tutup jadwal acara kegiatan lomba kelas
sekolah kampus kuliah mahasiswa siswa murid guru dosen anak anaknya ebook e-book jurnal skripsi tesis
majalah koran novel komik kamus ensiklopedia wifi internet komputer password akun aplikasi website
situs link email surel nomor no nmr hp wa telp telepon alamat rumah jalan kaki dekat depan belakang
samping kiri kanan atas bawah dalam luar rt rw kepala bagian staf staff tim pengelola pimpinan
informasi info bantuan bantuannya membantu tolongin mohon minta saran pesan pesanan kabar ucapan
umur usia kecil besar baru lama lain semua setiap tiap para sang si kepala dinas bidang seksi
sudah belum lagi masih pernah akan sedang mau ingin pengen pingin perlu bisa dapat harus boleh
lupa hilang rusak ketinggalan telat terlambat ambil ambilkan antar antarkan kirim kirimkan titip
cari mencari baca membaca tulis suka senang sedih bingung capek tinggal datang pergi pulang masuk
keluar naik turun bayar membayar beli harga biaya gratis tunai transfer uang rupiah ribu juta
sekali dua tiga empat lima enam tujuh delapan sembilan sepuluh satu pertama kedua terakhir
the a an and or but if of to in on at for from by with about as is are was were be been am do does
did have has had can could will would shall should may might must not no yes please thanks thank
thanks you your yours we our us they their he she his her him it its this that these those there
here what when where who why how which hello hi hey dear sir madam team library librarian staff
desk book books card number phone email address today tomorrow yesterday morning afternoon evening
monday tuesday wednesday thursday friday saturday sunday january february march april may june
july august september october november december good great ok okay sorry excuse just also very
really still already again only my me i i'm im mine lost renew return borrow help question
jl jln gg lr komp perum kel kec kav blok rt rw
""".split())
_SUFFIXES = ("nya", "ku", "mu", "lah", "kah", "pun")

# Honorifics before a name. Indonesian ones in any case; the English ones capitalised.
HONORIFICS_ID = ("bu", "ibu", "pak", "bapak", "bpk", "kak", "kakak", "mas", "mbak", "mba", "dik", "dek", "adik",
                 "adek", "sdr", "sdri", "saudara", "saudari", "bang", "abang", "om", "tante", "teh", "kang",
                 "ny", "nn", "uda", "cik", "koh", "ci", "ananda")
HONORIFICS_EN = ("Mr", "Mrs", "Ms", "Miss", "Mx", "Mister", "Madam")
# Titles before a name, capitalised (and "dr." for a physician): "Hj. Nurhayati", "Pak H. Ridwan",
# "Prof. Dr. Ir. Siregar". "H" and "dr" need their dot. A name after an honorific or "atas nama" may
# start with them; the titles stay and the name after them is taken.
TITLE_RE = re.compile(
    r"(?<![\w-])(?:(?:Hj|Hajjah|Hajah|Haji|Dr|Drs|Dra|Ir|Prof|KH|Ust|Ustadz|Ustadzah)\.?|(?:H|dr)\.)(?=[ \t])[ \t]*")
# The same in any case, for a title after a context that is itself enough ("nama saya hj. siti");
# "dr" (also "dari") only with its dot.
_TITLE_ANY_CASE_RE = re.compile(
    r"(?<![\w-])(?:(?i:hj|hajjah|hajah|haji|drs|dra|ir|prof|kh|ust|ustadz|ustadzah)\.?|Dr\.?|(?i:h|dr)\.)"
    r"(?=[ \t])[ \t]*")
# A dot after these is an abbreviation's, not a sentence's end.
_ABBREVIATED = {"sdr", "sdri", "bpk", "ny", "nn", "mr", "mrs", "ms", "mx"}

HONORIFIC_RE = re.compile(
    r"(?<![\w-])(?:(?i:" + "|".join(HONORIFICS_ID) + r")|" + "|".join(HONORIFICS_EN) + r")(?![\w-])(\.?)")
# Words that introduce a name: any word not in STOPWORDS after them is taken, also in lower case.
INTRO_RE = re.compile(
    r"(?<![\w-])(?:nama\s+(?:saya|sy|aku|ku|gw|anak\s+(?:saya|sy|ku))|namaku|namanya|bernama|atas\s+nama|"
    r"a\.\s?n\.|an\.|a/n|my\s+name\s+is|my\s+name's|name\s+is|named|called)(?![\w-])[\s:,]*", re.I)
# "saya X", "I'm X": a capitalised X, or a lower-case one followed by the end of the phrase.
SELF_RE = re.compile(r"(?<![\w-])(?:saya|sy|aku|ane|gw|gue|i'm|i\s+am|im|this\s+is|ini)(?![\w-])[\s,]*", re.I)
# "anak saya X", "my son X": a relative or friend named.
KIN_RE = re.compile(
    r"(?<![\w-])(?:(?:anak|adik|adek|kakak|abang|suami|istri|isteri|ibu|ayah|bapak|mama|papa|teman|temen|kawan|"
    r"putri|putra|keponakan|cucu|tetangga|pacar)(?:\s+(?:saya|sy|aku|gw|gue)|ku)|"
    r"my\s+(?:son|daughter|kid|child|wife|husband|friend|mother|mom|mum|father|dad|brother|sister|niece|"
    r"nephew|grandson|granddaughter|neighbour|neighbor))(?![\w-])[\s,]*(?:(?:yang\s+|yg\s+)?(?:bernama|namanya)\s*)?",
    re.I)
# After "saya X" / "anak saya x" in lower case, one of these (or punctuation, or the end) must follow.
_NAME_FOLLOWERS = {"dari", "mau", "ingin", "pengen", "yang", "yg", "kak", "pak", "bu", "mbak", "mas", "dek",
                   "ya", "nih", "from", "and", "here", "di", "kelas", "umur", "usia", "sudah", "udah"}
WORD_RE = re.compile(r"[ \t]*([^\W\d_][^\W\d_'’-]*(?:['’-][^\W\d_]+)*)")

# --- numbers, dates, e-mail, links ----------------------------------------------------------------
_AT = r"(?:[ \t]*@[ \t]*|[ \t]*[\[({<][ \t]*(?:at|et)[ \t]*[\])}>][ \t]*|[ \t]+(?:at|et)[ \t]+)"
_DOT = r"(?:[ \t]*\.[ \t]*|[ \t]*[\[({<][ \t]*(?:dot|titik)[ \t]*[\])}>][ \t]*|[ \t]+(?:dot|titik)[ \t]+)"
# "tina dot wong at …": a spelt-out dot in the local part (only spelt out, so that splitting is unambiguous).
_SPELT_DOT = r"(?:[ \t]*[\[({<][ \t]*(?:dot|titik)[ \t]*[\])}>][ \t]*|[ \t]+(?:dot|titik)[ \t]+)"
_TLD = r"(?:com|net|org|id|co|ac|go|sch|or|my|edu|gov|info|biz|io|me|uk|us|sg|au|mil|web|desa|ponpes)"
EMAIL_RE = re.compile(
    r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,6}"  # the usual form
    r"|(?<![\w.+-])[\w.+-]{1,64}(?:" + _SPELT_DOT + r"[\w+-]{1,64}){0,3}"  # spelt out
    + _AT + r"[\w-]{1,63}(?:" + _DOT + r"[\w-]{1,63}){0,4}" + _DOT + _TLD + r"(?![\w-])",
    re.I)
URL_RE = re.compile(r"(?<![\w/@.])(?:https?://|www\.)[^\s<>\"']{1,2000}", re.I)
_SENSITIVE_KEYS = {"token", "key", "apikey", "api_key", "access_token", "auth", "sig", "signature", "session",
                   "sessionid", "sid", "pwd", "pass", "password", "otp", "code", "reset", "hash", "secret",
                   "email", "uid", "user", "userid", "t", "k"}
SEP = r"[ \t.\-\u00a0]"
PHONE_RE = re.compile(
    r"(?<![\w+])(?:(?:\+[ \t]?62|62|0)(?:" + SEP + r"{0,2}\d){6,13}"
    r"|\([ \t]?0\d{2,4}[ \t]?\)(?:" + SEP + r"{0,2}\d){5,13})(?!\d)")  # "(0621) 21456": 5 digits after a code
NIK_RE = re.compile(r"(?<![\d.])(?<!\d[ .-])\d(?:[ .-]?\d){15}(?![ .-]?\d)")
# Filler words between a keyword and its number: "NIK anak saya: 12…", "no rek BCA saya 12…".
_FILLERS = (r"(?:saya|sy|aku|ku|gw|gue|my|our|his|her|anak|adik|istri|suami|ibu|bapak|nya|no|nomor|nomer|nmr|"
            r"number|num|nr|id|is|adalah|yaitu|yg|yang|ini|itu|kak|pak|bu|bank|the|anggota|perpus|perpustakaan|"
            r"kampus|ke|card|kartu|ktp|rek|rekening|account|acc|bca|bri|bni|mandiri|bsi|cimb|niaga|btn|danamon|"
            r"permata|member|library|e-?ktp|hp|wa|whatsapp|telp|tlp|telepon|phone|mobile)")
_GAP = r"(?:[ \t:#=()\-]{0,3}" + _FILLERS + r"\b\.?){0,6}[ \t:#=()\-]{0,3}"
NUMBER = r"\+?\d(?:" + SEP + r"?\d){%d,%d}(?!\d)"
CONTEXT_RULES = [
    # (kind, keyword, number pattern, min digits, max digits)
    ("nik", r"\b(?:NIK|e-?KTP|KTP|nomor\s+induk\s+kependudukan|ID\s+card)\b", NUMBER % (9, 19), 12, 18),
    ("nisn", r"\bNISN\b", NUMBER % (6, 13), 8, 12),
    ("student", r"\b(?:NIM|NPM|NIS|student\s+(?:id|number))\b", NUMBER % (4, 19), 5, 20),
    ("account", r"\b(?:rek|rekening|norek|no\.?\s?rek|account|acct|a/c|virtual\s+account|transfer\s+ke|"
                r"BCA|BRI|BNI|Mandiri|BSI|"
                r"CIMB(?:\s+Niaga)?|Danamon|BTN|Permata)\b", NUMBER % (4, 24), 6, 20),
    ("phone", r"\b(?:no\.?\s?hp|hp|wa|whatsapp|telp|tlp|telepon|telpon|phone|mobile|call\s+me\s+at)\b",
     NUMBER % (6, 15), 8, 15),
    # … and the name of the library that issued it: "kartu anggota Perpusda Medan saya MDN-2019-004512".
    ("card", r"\b(?:kartu(?:\s+anggota)?|no\.?\s*anggota|nomor\s+anggota|id\s+anggota|member(?:ship)?"
             r"(?:\s+(?:id|no|number|card))?|library\s+card|card)\b(?:[ \t]+(?-i:[A-Z][a-z][\w]{0,30})\b){0,3}",
     r"(?=[A-Za-z0-9./-]{0,30}\d)[A-Za-z0-9][A-Za-z0-9./-]{0,30}(?:[ ]\d{2,8}){0,3}(?![\w])", 4, 30),
]
YEAR_RE = re.compile(r"(?:19|20)\d{2}")  # "kartu anggota Perpustakaan Nasional 2024": a year, not a card
CONTEXT_RULES = [(kind, re.compile("(" + kw + ")" + _GAP + "(" + num + ")", re.I), lo, hi)
                 for kind, kw, num, lo, hi in CONTEXT_RULES]

MONTHS = (r"(?:januari|februari|pebruari|maret|april|mei|juni|juli|agustus|september|oktober|november|"
          r"nopember|desember|january|february|march|june|july|august|october|december|jan|feb|mar|apr|may|"
          r"jun|jul|agu|agt|aug|sept|sep|okt|oct|nov|nop|des|dec)")
DATE = (r"(?:\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2})(?!\d)|\d{4}-\d{1,2}-\d{1,2}(?!\d)"
        r"|\d{1,2}[ \t]+" + MONTHS + r"\.?[ \t]+\d{4}|" + MONTHS + r"\.?[ \t]+\d{1,2},?[ \t]+\d{4})")
DATE_RE = re.compile(r"(?<![\w.])" + DATE, re.I)
BIRTH_RE = re.compile(
    r"\b(?:tgl\.?\s*(?:lahir|lhr)|tanggal\s+lahir|lahir|lhr|kelahiran|born|birth(?:day|date)?|date\s+of\s+birth|"
    r"d\.?o\.?b\b|ttl|ultah|ulang\s+tahun)\b[^\n!?]{0,40}?(" + DATE + ")", re.I)

# What generic number shapes must leave alone.
ISBN_KW_RE = re.compile(r"\bISBN(?:-1[03])?(?:[ \t:]+[A-Za-z]{1,12}){0,2}[ \t:]*\d[\d \t-]{8,16}[\dXx](?![\w])", re.I)
ISBN_RE = re.compile(r"(?<![\d-])\d[\d-]{8,16}[\dXx](?![\d-])")
PRICE_RE = re.compile(r"\bRp\.?[ \t]?\d[\d.,]{0,20}(?:,-)?|(?<![\w.])\d[\d.]{0,20}[ \t]?(?:rupiah|ribu|rb|juta)\b",
                      re.I)
TIME_RE = re.compile(r"(?<![\d.])\d{1,2}[.:]\d{2}(?![\d])")
CALL_NUMBER_RE = re.compile(r"(?<![\w.])\d{3}(?:\.\d{1,8})?[ \t]+[A-Z]{2,4}[ \t]+[a-z]\b")

# Addresses.
STREET_RE = re.compile(r"(?<![\w-])(?:jl|jln|jalan|gg|gang|lr|lorong|komp|komplek|kompleks|perum|perumahan|"
                       r"kel|kelurahan|kec|kecamatan|kav)(?![\w-])\.?", re.I)
RT_RE = re.compile(r"(?<![\w-])(?:RT|RW)\.?[ \t]*:?[ \t]*\d{1,3}(?:[ \t]*[/,]?[ \t]*(?:RW|RT)\.?[ \t]*:?[ \t]*\d{1,3}"
                   r"|[ \t]*/[ \t]*\d{1,3})?(?!\d)", re.I)
ADDRESS_INTRO_RE = re.compile(r"(?<![\w-])(?:alamat|address)(?:[ \t]+(?:saya|sy|rumah|lengkap|kami|is|my|nya))*"
                              r"[ \t]*:?[ \t]*", re.I)
_HOUSE_NO_RE = re.compile(r"[ \t]*(?:no|nomor|nmr|number)\.?[ \t]*\d{1,5}[A-Za-z]?(?:[/-]\d{1,4}[A-Za-z]?)?(?![\w])",
                          re.I)
_BLOCK_RE = re.compile(r"[ \t]*blok[ \t]+[A-Za-z]{0,2}\d{0,4}[A-Za-z]?(?![\w])", re.I)
_NUM_TOKEN_RE = re.compile(r"[ \t]*\d{1,4}[A-Za-z]?(?![\w.])")
# A school's number: "SDN 060", "SD Negeri 163085" (the six-digit national numbering).
_SCHOOL_NO_RE = re.compile(r"[ \t]*\d{1,6}[A-Za-z]?(?![\w.])")

# Schools and a class.
SCHOOL_RE = re.compile(r"(?<![\w-])(?:SDN|SDIT|SDS|SD|SMPN|SMPIT|SMPS|SMP|SMAN|SMAIT|SMAS|SMA|SMKN|SMKS|SMK|MIN|MIS|"
                       r"MI|MTsN|MTsS|MTs|MAN|MA|TKIT|TK|PAUD|SLB)(?![\w-])")
_SCHOOL_WORDS = {"negeri", "swasta", "it", "islam", "terpadu", "kristen", "katolik", "santo", "santa", "st",
                 "al", "plus", "unggulan", "internasional"}
CLASS_RE = re.compile(r"(?<![\w-])(?:kelas|kls|grade|class)[ \t]*(?:\d{1,2}|[IVX]{1,4})(?:[A-Za-z](?![A-Za-z]))?"
                      r"(?![\w])", re.I)
CHILD_RE = re.compile(r"(?<![\w-])(?:ananda|anak|anakku|adik|adikku|adek|dek|putra|putri|cucu|keponakan|son|daughter|"
                      r"kid|child|namaku|nama\s+saya)(?![\w-])", re.I)


@dataclass
class Redacted:
    text: str
    spans: list = field(default_factory=list)  # (start, end, kind) in the redacted text


def is_stopword(word):
    w = word.lower().strip("'’-")
    if w in STOPWORDS:
        return True
    return any(w.endswith(s) and w[:-len(s)] in STOPWORDS for s in _SUFFIXES if len(w) > len(s) + 1)


def _digits(s):
    return "".join(ch for ch in s if ch.isdigit())


def _phone_digits(s):
    d = _digits(s)
    return "0" + d[2:] if d.startswith("62") else d


def _valid_phone(digits):
    if digits.startswith("08"):
        return 10 <= len(digits) <= 13
    if re.match(r"0[2-79]", digits):
        return 9 <= len(digits) <= 12
    return False


def _isbn_ok(chars):
    chars = chars.upper()
    if len(chars) == 10 and chars[:9].isdigit() and (chars[9].isdigit() or chars[9] == "X"):
        total = sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(chars))
        return total % 11 == 0
    if len(chars) == 13 and chars.isdigit() and chars[:3] in ("978", "979"):
        return sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(chars)) % 10 == 0
    return False


def _protected(text):
    """Spans that generic number shapes must not touch: ISBNs, prices, times, dates, call numbers."""
    spans = [m.span() for m in ISBN_KW_RE.finditer(text)]
    spans += [m.span() for m in ISBN_RE.finditer(text) if _isbn_ok(m.group().replace("-", ""))]
    for pattern in (PRICE_RE, TIME_RE, DATE_RE, CALL_NUMBER_RE):
        spans += [m.span() for m in pattern.finditer(text)]
    return spans


class _Spans:
    """Spans sorted by start, for overlap queries in O(log n) (plus the spans near the query)."""

    def __init__(self, spans=()):
        self.items = sorted(spans)
        self.starts = [s for s, *_ in self.items]
        self.longest = max((e - s for s, e, *_ in self.items), default=0)

    def add(self, item):
        i = bisect.bisect(self.starts, item[0])
        self.starts.insert(i, item[0])
        self.items.insert(i, item)
        self.longest = max(self.longest, item[1] - item[0])

    def overlaps(self, start, end):
        j = bisect.bisect_left(self.starts, end) - 1
        while j >= 0 and self.starts[j] > start - self.longest:
            if self.items[j][1] > start:
                return True
            j -= 1
        return False


class _Finds:
    def __init__(self, text, allow):
        self.text = text
        self.found = _Spans()
        allowed = []
        self.allowed_digits = set()
        for a in allow:
            a = (a or "").strip()
            if not a:
                continue
            pattern = r"\s+".join(re.escape(part) for part in a.split())
            allowed += [m.span() for m in re.finditer(pattern, text, re.I)]
            if len(_digits(a)) >= 6 and not re.search(r"[^\d\s()+.\-]", a):
                self.allowed_digits.add(_phone_digits(a))
        self.allowed = _Spans(allowed)
        self._protected = None

    @property
    def protected(self):
        if self._protected is None:
            self._protected = _Spans(_protected(self.text))
        return self._protected

    def add(self, start, end, kind, guarded=False):
        # Trim spaces and closing punctuation the pattern took along.
        while end > start and self.text[end - 1] in " \t.,;:!?":
            end -= 1
        if end <= start or self.found.overlaps(start, end) or self.allowed.overlaps(start, end):
            return False
        if kind in ("phone", "account", "nik") and _phone_digits(self.text[start:end]) in self.allowed_digits:
            return False
        if guarded and self.protected.overlaps(start, end):
            return False
        self.found.add((start, end, kind))
        return True


# --- the rules, each adding to _Finds ----------------------------------------------------------------
def _given(f, emails, card_numbers):
    for email in emails:
        email = (email or "").strip()
        if "@" not in email:
            continue
        local, _at, domain = email.rpartition("@")
        pattern = (r"(?<![\w.+-])" + re.escape(local) + _AT
                   + _DOT.join(re.escape(p) for p in domain.split(".")) + r"(?![\w-])")
        for m in re.finditer(pattern, f.text, re.I):
            f.add(*m.span(), "email")
    for card in card_numbers:
        chars = [ch for ch in (card or "") if ch.isalnum()]
        if len(chars) < 4:
            continue
        pattern = r"(?<![A-Za-z0-9])" + r"[\s./-]{0,2}".join(re.escape(ch) for ch in chars) + r"(?![A-Za-z0-9])"
        for m in re.finditer(pattern, f.text, re.I):
            f.add(*m.span(), "card")


def _given_names(f, names):
    parts = sorted({p for n in names for p in re.split(r"\s+", n or "")
                    if len(p) >= 2 and p.lower().strip(".") not in HONORIFICS_ID + ("mr", "mrs", "ms", "miss")},
                   key=len, reverse=True)
    if parts:
        for m in re.finditer(r"\b(?:" + "|".join(re.escape(p) for p in parts) + r")\b", f.text, re.I):
            f.add(*m.span(), "name")


def _links(f):
    for m in URL_RE.finditer(f.text):
        url = m.group().rstrip(".,;:!?)")
        if _has_token(url):
            f.add(m.start(), m.start() + len(url), "link")


def _has_token(url):
    path, _q, query = url.partition("?")
    for pair in re.split(r"[&;]", query):
        key, _eq, value = pair.partition("=")
        if key.lower() in _SENSITIVE_KEYS and value:
            return True
        if len(value) >= 12 and re.search(r"\d", value) and re.search(r"[A-Za-z]", value):
            return True
    for segment in path.split("/")[3:] if "://" in path else path.split("/")[1:]:
        if len(segment) >= 16 and re.search(r"\d", segment) and re.search(r"[A-Za-z]", segment):
            return True
        if len(segment) >= 24 and re.fullmatch(r"[\w-]+", segment):
            return True
    return False


def _context_numbers(f):
    for m in BIRTH_RE.finditer(f.text):
        f.add(*m.span(1), "birth")
    for kind, pattern, lo, hi in CONTEXT_RULES:
        for m in pattern.finditer(f.text):
            value = m.group(2)
            n = len(_digits(value))
            if lo <= n <= hi and (kind != "card" or not (PRICE_RE.fullmatch(value) or YEAR_RE.fullmatch(value))):
                f.add(*m.span(2), kind)


def _shapes(f):
    card = re.compile(getattr(settings, "FAQ_CARD_NUMBER_PATTERN", DEFAULT_CARD_PATTERN), re.I)
    for m in card.finditer(f.text):
        f.add(*m.span(), "card", guarded=True)
    for m in NIK_RE.finditer(f.text):
        f.add(*m.span(), "nik", guarded=True)
    for m in PHONE_RE.finditer(f.text):
        _add_phone(f, m)


def _add_phone(f, m):
    """The longest prefix of the match, ending at a digit group, that is a valid phone number."""
    text = m.group()
    ends = [i + 1 for i in range(len(text)) if text[i].isdigit() and (i + 1 == len(text) or not text[i + 1].isdigit())]
    for end in reversed(ends):
        if _valid_phone(_phone_digits(text[:end])):
            f.add(m.start(), m.start() + end, "phone", guarded=True)
            return


def _take_name(text, pos, *, lower, max_words=4, need_follower=False):
    """The end of the name that starts at `pos` (after spaces), or None. Capitalised words are taken
    while they last; with `lower`, lower-case words not in STOPWORDS too (at most two)."""
    end, words, capitalised = pos, 0, None
    while words < max_words:
        m = WORD_RE.match(text, end)
        if not m:
            break
        word = m.group(1)
        if len(word) < 2 or is_stopword(word) or (word.isupper() and len(word) >= 3):
            break
        is_cap = word[0].isupper()
        if capitalised is None:
            if not is_cap and not lower:
                break
            capitalised = is_cap
        elif is_cap != capitalised or (not is_cap and words >= 2):
            break
        end, words = m.end(), words + 1
    if not words:
        return None
    if need_follower and not capitalised:
        rest = text[end:end + 30]
        nxt = WORD_RE.match(rest)
        if rest.strip() and not re.match(r"[ \t]*[,.!?;:)\n]", rest) and not (nxt and nxt.group(1).lower()
                                                                               in _NAME_FOLLOWERS):
            return None
    return end


def _take_titled_name(text, pos, **kw):
    """(start, end) of the name at `pos` (see _take_name) after any titles such as "Hj. ",
    "Prof. Dr. ", which stay; without them if no name follows the titles. None if no name."""
    p = _skip_blank(text, pos)
    for _i in range(3):
        m = _TITLE_ANY_CASE_RE.match(text, p)
        if not m:
            break
        p = m.end()
    if p != _skip_blank(text, pos):
        end = _take_name(text, p, **kw)
        if end:
            return p, end
    end = _take_name(text, pos, **kw)
    return (pos, end) if end else None


_STREET_BEFORE_RE = re.compile(r"(?<![\w-])(?:jl|jln|jalan|gg|gang)\.?[ \t]*$", re.I)


def _name_spans(text):
    """(start, end) of names found by their context, in order of confidence. A title after the
    context ("atas nama Hj. Nurhayati", "Pak H. Ridwan") stays; the name after it is taken."""
    out = []
    for m in INTRO_RE.finditer(text):
        found = _take_titled_name(text, m.end(), lower=True)
        if found:
            out.append(found)
    for m in HONORIFIC_RE.finditer(text):
        word = m.group(0).rstrip(".").lower()
        if m.group(1) and word not in _ABBREVIATED:
            continue  # "… Bu. Selamat sore": the dot ends a sentence
        found = _take_titled_name(text, m.end(), lower=word in HONORIFICS_ID)
        if found:
            pos, end = found
            start = pos + len(text[pos:end]) - len(text[pos:end].lstrip())
            out.append((start, end))
    for m in TITLE_RE.finditer(text):
        if _STREET_BEFORE_RE.search(text, max(0, m.start() - 8), m.start()):
            continue  # "Jl. H. Misbah": a street named after someone
        found = _take_titled_name(text, m.end(), lower=False)
        if found:
            out.append(found)
    for pattern in (KIN_RE, SELF_RE):
        for m in pattern.finditer(text):
            found = _take_titled_name(text, m.end(), lower=True, need_follower=True)
            if found:
                out.append(found)
    return out


def _names(f):
    for start, end in _name_spans(f.text):
        f.add(start, end, "name")


def _addresses(f):
    text = f.text
    # The street first, so that it takes an RT/RW after it along ("Jalan Sudirman no 45 RT 02 RW 04").
    for m in STREET_RE.finditer(text):
        end = _take_address(text, m.end())
        if end:
            f.add(m.start(), end, "address")
    for m in ADDRESS_INTRO_RE.finditer(text):
        if STREET_RE.match(text, m.end()):
            continue
        end = _take_address(text, m.end())
        if end:
            f.add(m.end(), end, "address")
    for m in RT_RE.finditer(text):
        f.add(*m.span(), "address")


def _take_address(text, pos, max_tokens=10):
    end, taken = pos, 0
    while taken < max_tokens:
        for pattern in (_HOUSE_NO_RE, _BLOCK_RE, RT_RE, _NUM_TOKEN_RE):
            m = pattern.match(text, end) if pattern is not RT_RE else pattern.match(text, _skip_blank(text, end))
            if m:
                end, taken = m.end(), taken + 1
                break
        else:
            s = STREET_RE.match(text, _skip_blank(text, end)) or TITLE_RE.match(text, _skip_blank(text, end))
            if s and (taken or s.re is TITLE_RE):
                end = s.end()
                continue
            m = WORD_RE.match(text, end)
            if not m or is_stopword(m.group(1)):
                break
            word = m.group(1)
            if not (word[0].isupper() or len(word) >= 3) or (word.isupper() and len(word) >= 4):
                break
            end, taken = m.end(), taken + 1
    return end if taken else None


def _skip_blank(text, pos):
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos


def _schools(f):
    text = f.text
    schools = 0
    for m in SCHOOL_RE.finditer(text):
        end, taken = m.end(), 0
        while taken < 6:
            n = _SCHOOL_NO_RE.match(text, end)
            w = WORD_RE.match(text, end)
            if n:
                end, taken = n.end(), taken + 1
            elif w and (w.group(1).lower() in _SCHOOL_WORDS
                        or (w.group(1)[0].isupper() and not is_stopword(w.group(1)))):
                end, taken = w.end(), taken + 1
            else:
                break
        if taken and f.add(m.start(), end, "school"):
            schools += 1
    if schools or CHILD_RE.search(text):
        for m in CLASS_RE.finditer(text):
            f.add(*m.span(), "class")


def redact(text, names=(), *, emails=(), card_numbers=(), allow=()):
    """Replace the personal data in `text` with placeholders (see the module's docstring).

    names, emails, card_numbers: what the patron gave in the form; allow: strings never replaced."""
    text = text or ""
    f = _Finds(text, allow)
    _given(f, emails, card_numbers)
    for m in EMAIL_RE.finditer(text):
        f.add(*m.span(), "email")
    _links(f)
    _given_names(f, names)
    _context_numbers(f)
    _shapes(f)
    _names(f)
    _addresses(f)
    _schools(f)
    found = f.found.items
    out, spans, pos = [], [], 0
    length = 0
    for start, end, kind in found:
        out.append(text[pos:start])
        length += start - pos
        label = LABELS[kind]
        spans.append((length, length + len(label), kind))
        out.append(label)
        length += len(label)
        pos = end
    out.append(text[pos:])
    return Redacted("".join(out), spans)


# --- what is left for the curator to check --------------------------------------------------------
LEFTOVER_REASONS = {
    "name": _("This looks like a person's name. Replace it with [NAMA] unless it is an author, a title or a place."),
    "number": _("A long number: a phone, card, account or ID number? Keep it only if it is public, such as an "
                "ISBN or the library's own number."),
    "email": _("This looks like an e-mail address. Keep it only if it is the library's public address."),
}
PLACEHOLDER_RE = re.compile("|".join(re.escape(label) for label in LABELS.values()))
_CAP_RUN_RE = re.compile(r"(?<![\w-])[A-Z][a-z'’]+(?:[ \t]+[A-Z][a-z'’]+){1,3}(?![\w-])")
_LONG_NUMBER_RE = re.compile(r"(?<![\w.])\+?\d(?:[ .\-]?\d){6,}")
_AT_RE = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}(?:@|[ \t]*[\[(]at[\])][ \t]*)[A-Za-z][\w-]{0,62}", re.I)
_TITLE_BEFORE_RE = re.compile(r"(?<![\w-])(?:buku|judul|novel|komik|film|book|title|majalah|jurnal)[ \t]+$", re.I)
_SENTENCE_START_RE = re.compile(r"(?:^|[.!?:\n]|[\"“(])[ \t]*$")


@dataclass
class Leftover:
    start: int
    end: int
    kind: str  # "name", "number", "email"

    @property
    def reason(self):
        return LEFTOVER_REASONS[self.kind]


def suspicious(text, *, allow=()):
    """What in a redacted text still looks like personal data: names by their context (an honorific,
    "nama saya"…) or as capitalised words in the middle of a sentence that are not library words, long
    numbers that are not ISBNs, prices, times or dates, and e-mail addresses. Placeholders and
    `allow` strings are not flagged."""
    text = text or ""
    f = _Finds(text, allow)
    f.found = _Spans((m.start(), m.end(), "placeholder") for m in PLACEHOLDER_RE.finditer(text))
    out = []

    def add(start, end, kind):
        if f.add(start, end, kind):
            out.append(Leftover(start, end, kind))

    for m in _AT_RE.finditer(text):
        add(*m.span(), "email")
    for m in _LONG_NUMBER_RE.finditer(text):
        if len(_digits(m.group())) >= 7 and not f.protected.overlaps(*m.span()):
            add(*m.span(), "number")
    for start, end in _name_spans(text):
        add(start, end, "name")
    for m in _CAP_RUN_RE.finditer(text):
        words = m.group().split()
        if _SENTENCE_START_RE.search(text[max(0, m.start() - 3):m.start()] if m.start() else ""):
            continue
        if all(is_stopword(w) or w.lower() in _LIBRARY_WORDS for w in words):
            continue
        if _TITLE_BEFORE_RE.search(text[max(0, m.start() - 12):m.start()]):
            continue  # "buku Laskar Pelangi": a title
        add(*m.span(), "name")
    return sorted(out, key=lambda x: x.start)


# Capitalised words that are not names: days, months, places and words of a library's world.
_LIBRARY_WORDS = frozenset("""
indonesia jakarta medan bandung surabaya yogyakarta jogja semarang makassar palembang binjai deli serdang
sumatera sumut utara selatan barat timur tengah jawa bali kalimantan sulawesi papua negeri republik kota
kabupaten provinsi daerah nasional umum pusat universitas institut sekolah tinggi fakultas program studi
google microsoft windows android iphone zoom whatsapp instagram facebook youtube gmail yahoo outlook
opac inlislite slims ebook ipusnas kindle scopus garuda sinta doi pdf word excel islam kristen katolik
hindu buddha idul fitri adha natal imlek nyepi waisak ramadan lebaran kemerdekaan proklamasi wib wita
""".split())


def highlight_html(redacted):
    """The redacted text as escaped HTML with each placeholder in a <mark>."""
    out, pos = [], 0
    for start, end, kind in redacted.spans:
        out.append(escape(redacted.text[pos:start]))
        out.append(f'<mark class="redacted" data-kind="{kind}">{escape(redacted.text[start:end])}</mark>')
        pos = end
    out.append(escape(redacted.text[pos:]))
    return "".join(out)


def review_html(text, *, allow=()):
    """(HTML, leftovers) for the curator: `text` escaped, each placeholder in <mark class="redacted">
    and each leftover (suspicious()) in <mark class="leftover"> with its reason as a title and as
    text for screen readers, and a visible "?" so that colour is not the only sign."""
    leftovers = suspicious(text, allow=allow)
    marks = [(m.start(), m.end(), None) for m in PLACEHOLDER_RE.finditer(text)]
    marks += [(x.start, x.end, x) for x in leftovers]
    marks.sort(key=lambda m: m[0])
    out, pos = [], 0
    for start, end, leftover in marks:
        out.append(escape(text[pos:start]))
        piece = escape(text[start:end])
        if leftover is None:
            out.append(f'<mark class="redacted">{piece}</mark>')
        else:
            reason = escape(leftover.reason)
            out.append(f'<mark class="leftover" data-kind="{leftover.kind}" title="{reason}">'
                       f'<span class="visually-hidden">{escape(_("Check this:"))} </span>{piece}'
                       f'<span class="leftover-flag" aria-hidden="true">?</span>'
                       f'<span class="visually-hidden"> ({reason})</span></mark>')
        pos = end
    out.append(escape(text[pos:]))
    return mark_safe("".join(out)), leftovers
