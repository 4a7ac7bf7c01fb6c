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

    def candidates(self, terms, limit, rank_budget, library_id=None):
        if not terms:
            return []
        # Question matches count three times an answer match in the engine's BM25 ranking.
        match = " OR ".join(_quote(t) for t in terms)
        # FTS5 yields matches in rowid order, so the inner LIMIT stops the scan: bm25() runs on at
        # most rank_budget rows (about 0.6 µs each) instead of every match. The library is checked
        # on each match (a primary-key lookup) before that limit.
        join, where, params = "", "", [match]
        if library_id is not None:
            join = " JOIN reference_faqentry AS e ON e.id = faq_fts.rowid"
            where, params = " AND e.library_id = %s", [match, library_id]
        with self.connection.cursor() as c:
            c.execute("SELECT rowid FROM (SELECT faq_fts.rowid AS rowid, bm25(faq_fts, 3.0, 1.0) AS rank "
                      f"FROM faq_fts{join} WHERE faq_fts MATCH %s{where} ORDER BY faq_fts.rowid DESC LIMIT %s) "
                      "ORDER BY rank, rowid LIMIT %s",
                      [*params, rank_budget, limit])
            return [row[0] for row in c.fetchall()]
