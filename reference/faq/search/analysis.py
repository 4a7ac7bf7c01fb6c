"""Text analysis shared by both search backends: the same terms go into the index and the query.

normalise (lower case, informal spellings) → tokens → stop words out → stem (Indonesian affix
stripping, a light English suffix stripper). Entries are analysed in their own language; a query
is analysed in both, since patrons mix them, and each query word keeps its alternative forms.
"""

import re
import unicodedata

WORD_RE = re.compile(r"[a-z0-9]+")

# Informal chat spellings and abbreviations → the standard word. General chat Indonesian,
# not tied to any FAQ entry.
INFORMAL = {
    "gmn": "bagaimana", "gimana": "bagaimana", "gmana": "bagaimana", "bgmn": "bagaimana",
    "yg": "yang", "dgn": "dengan", "dg": "dengan", "sm": "sama", "ama": "sama",
    "gak": "tidak", "ga": "tidak", "gk": "tidak", "nggak": "tidak", "ngga": "tidak", "enggak": "tidak",
    "engga": "tidak", "tdk": "tidak", "ndak": "tidak", "kagak": "tidak",
    "udh": "sudah", "udah": "sudah", "sdh": "sudah", "dah": "sudah",
    "blm": "belum", "blum": "belum", "lom": "belum",
    "sy": "saya", "aku": "saya", "gw": "saya", "gue": "saya", "ane": "saya",
    "bs": "bisa", "bsa": "bisa", "bisakah": "bisa",
    "brp": "berapa", "brapa": "berapa", "knp": "kenapa", "napa": "kenapa", "kpn": "kapan",
    "dmn": "dimana", "dmana": "dimana", "mana": "mana",
    "tp": "tapi", "tpi": "tapi", "krn": "karena", "karna": "karena", "soalnya": "karena",
    "utk": "untuk", "buat": "untuk", "jg": "juga", "aja": "saja", "doang": "saja",
    "klo": "kalau", "kalo": "kalau", "kl": "kalau", "trs": "terus", "trus": "terus",
    "lg": "lagi", "bgt": "sekali", "banget": "sekali", "sblm": "sebelum", "stlh": "setelah",
    "org": "orang", "tgl": "tanggal", "hr": "hari", "jm": "jam", "bln": "bulan", "thn": "tahun",
    "pinjem": "pinjam", "minjem": "pinjam", "minjam": "pinjam", "balikin": "kembali",
    "ngembaliin": "kembali", "balik": "kembali", "perpus": "perpustakaan", "perpusda": "perpustakaan",
    "hp": "ponsel", "wa": "whatsapp", "ol": "online", "onlen": "online", "daptar": "daftar",
    "bikin": "buat", "ngurus": "urus", "nyari": "cari", "dapet": "dapat", "liat": "lihat",
    "tau": "tahu", "emang": "memang", "gratisan": "gratis", "mo": "mau", "pengen": "ingin",
    "pgn": "ingin", "kyk": "seperti", "kayak": "seperti", "gitu": "begitu", "gini": "begini",
    "u": "you", "ur": "your", "pls": "please", "plz": "please", "thx": "thanks", "im": "i",
    "cant": "cannot", "dont": "do", "wanna": "want", "gonna": "going",
}

STOP_ID = set("""
ada adakah adalah agar akan aku amat anda apa apakah apabila atas atau bagaimana bagaimanakah bagi
bahwa baik banyak beberapa begini begitu belum berapa bila bisa boleh bukan cara caranya dalam dan
dapat dari daripada demikian dengan di dia dimana disini ditanya ini itu jadi jika juga kah kak kakak
kalau kami kamu kan kapan karena ke kenapa kepada ketika kita lagi lah maaf mau masih min mimin mohon
nya oleh pada para per perlu pun punya saat saja saya sama sangat sebelum sedang sekali sekarang
selama semua sendiri seperti setelah siapa sih sudah supaya tanya tapi tentang terima kasih terus
tersebut tidak tolong untuk yaitu yang ya ok oke halo hai pagi siang sore malam selamat mas mbak bang
pak bu ibu bapak admin dong deh nih tuh kok loh lho kah gan sis bro nah eh wah ingin mungkin bagaimanakah menjadi
""".split())

STOP_EN = set("""
a about after again all am an and any are as at be been before being both but by can could did do does
doing for from had has have having he her here hi hello how i if in into is it its just me my myself
no nor not of off on once only or other our out over own please same she should so some such than thanks
thank that the their them then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours hey dear anyone know tell
""".split())

STOP = STOP_ID | STOP_EN

VOWELS = set("aeiou")


def fold(text):
    """Lower case, accents off, hyphenated words and reduplication (buku-buku) joined."""
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().lower()
    text = re.sub(r"\b([a-z]+)-\1\b", r"\1", text)
    return re.sub(r"\be-(?=[a-z])", "e", text)  # e-book, e-jurnal → ebook, ejurnal


def words(text):
    """Folded words with informal spellings replaced by the standard word."""
    out = []
    for w in WORD_RE.findall(fold(text)):
        w = re.sub(r"(.)\1{2,}", r"\1", w)  # "bukuuu" → "buku"
        out.append(INFORMAL.get(w, w))
    return out


# --- Indonesian: Nazief-Adriani-style affix stripping, without a root dictionary ----------------
_PARTICLES = ("lah", "kah", "tah", "pun")
_POSSESSIVES = ("nya", "ku", "mu")
_SUFFIXES = ("kan", "an", "i")
MIN_STEM = 3


def _strip_suffixes(w):
    for p in _PARTICLES:
        if w.endswith(p) and len(w) - len(p) >= MIN_STEM + 1:
            w = w[: -len(p)]
            break
    for p in _POSSESSIVES:
        if w.endswith(p) and len(w) - len(p) >= MIN_STEM + 1:
            w = w[: -len(p)]
            break
    for s in _SUFFIXES:
        if w.endswith(s) and len(w) - len(s) >= MIN_STEM + 1:
            # "-i" only after a consonant that is not part of a common root ending ("-si", "-ri" kept)
            if s == "i" and (w[-2] in VOWELS or w.endswith(("si", "ti", "ri", "li", "ni", "gi", "di"))):
                continue
            return w[: -len(s)]
    return w


K_ROOTS = set("""
kembali kirim kenal kumpul kunjung kerja ketik kelola kurang kena kabar kecil keluar kenang kutip kaji
kutip kemas kunci kupas kuasa kata kira kukuh kejar kali
""".split())


def _strip_prefix(w, first=True):
    """One derivational prefix, with the Indonesian sound changes undone (meminjam → pinjam)."""
    if len(w) < MIN_STEM + 2:
        return w, False
    for pre in ("ber", "ter", "per"):
        if w.startswith(pre) and len(w) > 5 and (first or pre != "ter"):
            return w[3:], True
    if w.startswith("bel") and w[3:] == "ajar":
        return "ajar", True
    if w.startswith("pel") and w[3:].startswith("ajar"):
        return w[3:], True
    if w.startswith("be") and len(w) > 5 and w[2] not in VOWELS and w[3] == "e":
        return w[2:], True  # bekerja → kerja
    if first:
        for pre in ("meny", "peny"):
            if w.startswith(pre) and len(w) > 5 and w[4] in VOWELS:
                return "s" + w[4:], True
    for pre in ("meng", "peng"):
        if w.startswith(pre) and len(w) > 5 and (first or pre == "peng"):
            rest = w[4:]
            if rest[0] in VOWELS and "k" + _strip_suffixes(rest) in K_ROOTS:
                return "k" + rest, True  # mengembalikan → kembali
            return rest, True
    for pre in ("mem", "pem"):
        if w.startswith(pre) and len(w) > 4:
            rest = w[3:]
            if rest[0] in VOWELS:
                return "p" + rest, True  # meminjam → pinjam
            if rest[0] in "bfpv":
                return rest, True
    for pre in ("men", "pen"):
        if w.startswith(pre) and len(w) > 4:
            rest = w[3:]
            if rest[0] in VOWELS:
                return "t" + rest, True  # menulis → tulis
            if rest[0] in "cdjtsz":
                return rest, True
    for pre in ("me", "pe"):
        if w.startswith(pre) and len(w) > 4 and w[2] in "lmnrwy":
            return w[2:], True
    if first:
        for pre in ("di", "ke", "se"):
            if w.startswith(pre) and len(w) > 4:
                return w[2:], True
    return w, False


def stem_id(w):
    if len(w) <= MIN_STEM + 1 or w.isdigit():
        return w
    w = _strip_suffixes(w)
    if w in K_ROOTS:
        return w
    for i in range(2):
        stripped, changed = _strip_prefix(w, first=(i == 0))
        if not changed or len(stripped) < MIN_STEM:
            break
        w = stripped
        if w in K_ROOTS:
            break
    return w


# --- English: a light suffix stripper ------------------------------------------------------------
def stem_en(w):
    if len(w) <= 3 or w.isdigit():
        return w
    for suf, rep in (("ies", "y"), ("ied", "y"), ("sses", "ss"), ("ational", "ate"), ("ization", "ize"),
                     ("ations", "ate"), ("ation", "ate"), ("ments", ""), ("ment", ""), ("ness", ""),
                     ("ings", ""), ("ing", ""), ("ers", ""), ("er", ""), ("edly", ""), ("ed", ""),
                     ("ly", ""), ("es", ""), ("s", "")):
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            if suf == "s" and w.endswith(("ss", "us", "is")):
                return w
            w = w[: -len(suf)] + rep
            if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
                w = w[:-1]  # "stopp" → "stop"
            if w.endswith("e") and len(w) > 4:
                w = w[:-1]
            return w
    if w.endswith("e") and len(w) > 4:
        return w[:-1]
    return w


STEMMERS = {"id": stem_id, "en": stem_en}


def analyse(text, language):
    """Index side: the terms of a text in one language, in order (repeats kept)."""
    stem = STEMMERS.get(language, stem_id)
    return [stem(w) for w in words(text) if w not in STOP and len(w) > 1]


def analyse_query(text):
    """Query side: one entry per query word, each the set of its possible terms (both languages)."""
    out, seen = [], set()
    for w in words(text):
        if w in STOP or len(w) < 2:
            continue
        forms = frozenset({stem_id(w), stem_en(w)})
        if forms in seen:
            continue
        seen.add(forms)
        out.append((w, forms))
    return out
