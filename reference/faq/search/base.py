"""The search backend interface: the vendor-specific part is only the candidate retrieval."""


class SearchBackend:
    vendor = ""

    def __init__(self, connection):
        self.connection = connection

    def index(self, entry_id, question_terms, answer_terms):
        """Make a published entry findable (its analysed question and answer terms)."""

    def remove(self, entry_id):
        """Make an entry unfindable."""

    def rebuild(self):
        """Rebuild the whole index from the stored analysed fields of published entries."""

    def candidates(self, terms, limit, rank_budget):
        """Ids of published entries containing any of `terms`, best first by the engine's rank.

        The engine ranks at most `rank_budget` of the matching entries (the most recently added):
        ranking runs on every row it is given, before LIMIT, and is what a query costs."""
        raise NotImplementedError
