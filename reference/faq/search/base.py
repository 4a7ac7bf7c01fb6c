"""The search backend interface: the vendor-specific parts are the index, candidate retrieval and
vocabulary lookups. sqlite.py and postgres.py implement it; backends.py picks one for a database
connection. Also what every module of the package shares: the vocabulary's document-count key and
the settings reader."""

from django.conf import settings

# The vocabulary row (FaqTerm) whose df is the number of published entries.
DOCS_KEY = "*"


def setting(name, default):
    """A FAQ_SEARCH_* setting, read when it is used (tests change them on the fly)."""
    return getattr(settings, name, default)


class SearchBackend:
    vendor = ""
    # Terms per `IN (…)` list: well under SQLite's limit of bound parameters.
    lookup_chunk = 2000

    def __init__(self, connection):
        self.connection = connection

    def index(self, entry_id, question_terms, answer_terms):
        """Make a published entry findable (its analysed question and answer terms)."""

    def remove(self, entry_id):
        """Make an entry unfindable."""

    def rebuild(self):
        """Rebuild the whole index from the stored analysed fields of published entries."""

    def document_frequencies(self, terms):
        """{term: df} from the vocabulary table (FaqTerm) for the given terms it holds."""
        out = {}
        with self.connection.cursor() as c:
            for i in range(0, len(terms), self.lookup_chunk):
                chunk = terms[i:i + self.lookup_chunk]
                c.execute("SELECT term, df FROM reference_faqterm WHERE term IN ({})".format(
                    ",".join(["%s"] * len(chunk))), chunk)
                out.update(c.fetchall())
        return out

    def candidates(self, terms, limit, rank_budget, library_id=None):
        """Ids of the library's published entries containing any of `terms`, best first by the
        engine's rank (every library's with library_id None). The library is filtered before the
        engine ranks and cuts: another library's entries take no place.

        The engine ranks at most `rank_budget` of the matching entries (the most recently added):
        ranking runs on every row it is given, before LIMIT, and is what a query costs."""
        raise NotImplementedError
