"""SQLite FTS5: a table of analysed terms, question column weighted over answer.

The table `faq_fts(question, answer)` is created by migration 0008 (which carries its own SQL).
"""

from reference.faq.search.base import SearchBackend


def _quote(term):
    return '"' + term.replace('"', "") + '"'


class SqliteBackend(SearchBackend):
    vendor = "sqlite"

    def index(self, entry_id, question_terms, answer_terms):
        with self.connection.cursor() as c:
            c.execute("DELETE FROM faq_fts WHERE rowid = %s", [entry_id])
            c.execute("INSERT INTO faq_fts(rowid, question, answer) VALUES (%s, %s, %s)",
                      [entry_id, question_terms, answer_terms])

    def remove(self, entry_id):
        with self.connection.cursor() as c:
            c.execute("DELETE FROM faq_fts WHERE rowid = %s", [entry_id])

    def rebuild(self):
        with self.connection.cursor() as c:
            c.execute("DELETE FROM faq_fts")
            c.execute("INSERT INTO faq_fts(rowid, question, answer) SELECT id, search_question, search_answer "
                      "FROM reference_faqentry WHERE status = 'published'")
            c.execute("INSERT INTO faq_fts(faq_fts) VALUES ('optimize')")

    def candidates(self, terms, limit, rank_budget):
        if not terms:
            return []
        # Question matches count three times an answer match in the engine's BM25 ranking.
        match = " OR ".join(_quote(t) for t in terms)
        # FTS5 yields matches in rowid order, so the inner LIMIT stops the scan: bm25() runs on at
        # most rank_budget rows (about 0.6 µs each) instead of every match.
        with self.connection.cursor() as c:
            c.execute("SELECT rowid FROM (SELECT rowid, bm25(faq_fts, 3.0, 1.0) AS rank FROM faq_fts "
                      "WHERE faq_fts MATCH %s ORDER BY rowid DESC LIMIT %s) ORDER BY rank, rowid LIMIT %s",
                      [match, rank_budget, limit])
            return [row[0] for row in c.fetchall()]
