from reference.consumers.librarian import LibrarianConsumer
from reference.consumers.patron import PatronConsumer

__all__ = ["LibrarianConsumer", "PatronConsumer"]
