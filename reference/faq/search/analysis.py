"""Text analysis shared by both search backends: the same terms go into the index and the query.

normalise (lower case, informal spellings) → tokens → stop words out → stem (Sastrawi's Indonesian
stemmer on a root list, a light English suffix stripper). Entries are analysed in their own language; a query
is analysed in both, since patrons mix them, and each query word keeps its alternative forms.
"""

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from Sastrawi.Dictionary.ArrayDictionary import ArrayDictionary
from Sastrawi.Stemmer.Stemmer import Stemmer

WORD_RE = re.compile(r"[a-z0-9]+")
# Longer "words" are not words (hashes, pasted links, keyboard mashing): cut so that stemming and
# the index stay bounded.
MAX_WORD = 40

# Informal chat spellings → the standard words ({informal: (standard, …)}). The search installs the
# staff-edited list (FaqSpelling, cached in expansion.py) with set_spellings_source(); this module
# reads no database. Index and query both go through words(), so they use the same list.
_spellings_source = dict  # none until the search installs its source


def set_spellings_source(source):
    """`source()` returns the {informal: (standard words)} map in force; called on every analysis."""
    global _spellings_source
    _spellings_source = source


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


def fold(text):
    """Lower case, accents off, hyphenated words and reduplication (buku-buku) joined."""
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().lower()
    text = re.sub(r"\b([a-z]+)-\1\b", r"\1", text)
    return re.sub(r"\be-(?=[a-z])", "e", text)  # e-book, e-jurnal → ebook, ejurnal


def words(text):
    """Folded words with informal spellings replaced by the standard word."""
    spellings = _spellings_source()
    out = []
    for w in WORD_RE.findall(fold(text)):
        w = re.sub(r"(.)\1{2,}", r"\1", w)[:MAX_WORD]  # "bukuuu" → "buku"
        out.extend(spellings.get(w, (w,)))
    return out


# --- Indonesian: Sastrawi's confix-stripping algorithm, guarded by a root list ---------------------
# An affix is stripped only when a root of the list remains, so roots are never cut (sekolah,
# kelas, digital, berita stay whole) and affixed forms meet their root (meminjam, peminjaman,
# dipinjam → pinjam). The list is the hunspell Indonesian dictionary's (data/id-roots.txt, LGPL-3).
ROOTS_FILE = Path(__file__).resolve().parent / "data" / "id-roots.txt"

# Rare roots left out of the list because they capture common affixed words: memesan → mes
# (not pesan), pengunjung → unjung (kunjung), kerusakan → rusa (rusak), mengetik → etik (ketik),
# berdiskusi → diskus, mengenali → nali, laman → lam, kamis → kam, kebijakan → bija, pengarang →
# arang (karang), berupa → upa (rupa), pengetahuan → ketahu (tahu). Roots of one or two letters
# are left out for the same reason (bertanya → ta).
LEFT_OUT_ROOTS = frozenset("mes pes mesan rusa etik unjung diskus nali lam kam bija arang upa ketahu".split())
_PARTICLES = ("lah", "kah", "pun", "nya", "ku", "mu")


def _load_roots():
    lines = ROOTS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(w for w in lines if len(w) > 2 and not w.startswith("#")) - LEFT_OUT_ROOTS


ROOTS = _load_roots()
_sastrawi = Stemmer(ArrayDictionary(list(ROOTS)))


def _strip_particle(w):
    for p in _PARTICLES:
        if w.endswith(p) and len(w) - len(p) >= 4:
            return w[: -len(p)]
    return w


def _stop_root_verb(w, root):
    """A verb made on a function word keeps its suffix, so its forms meet each other and not the
    root: mengadakan, diadakan → adakan (hold, provide); menanyakan, ditanyakan → tanyakan. Other
    derived words stay whole (pengadaan, bertanya, bersama)."""
    w = _strip_particle(w) if not w.endswith(root) else w
    for suffix in ("kan", "i"):
        # The root may have lost its first consonant to the prefix (menanyakan ← tanya).
        if w.endswith(suffix) and w[: -len(suffix)].endswith((root, root[1:])):
            return root + suffix
    return w


@lru_cache(maxsize=200_000)
def stem_id(w):
    """The Indonesian root of a word; a word with no root in the list keeps its form, less a
    particle or possessive (reservasinya → reservasi). A derived word whose root is a function
    word (mengadakan, pengadaan, berada ← ada; bersama ← sama) does not become that root: those
    roots are stop words, and the derived words mean something else (_stop_root_verb)."""
    if len(w) < 4 or not w.isalpha():
        return w
    root = _sastrawi.stem(w)
    if root in STOP:
        return _stop_root_verb(w, root)
    if root == w and w not in ROOTS:
        return _strip_particle(w)
    return root


def is_indonesian(w):
    """Whether a (folded) word is an Indonesian word by the root list: it is a root, or an affix
    strips off to one."""
    return w in ROOTS or stem_id(w) in ROOTS


# --- English: a light suffix stripper ------------------------------------------------------------
@lru_cache(maxsize=200_000)
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
        # An Indonesian word keeps its Indonesian root only: the English stripper would cut it
        # (kelas → kela); any other word may be either language's.
        forms = frozenset({stem_id(w)} if is_indonesian(w) else {stem_id(w), stem_en(w)})
        if forms in seen:
            continue
        seen.add(forms)
        out.append((w, forms))
    return out
