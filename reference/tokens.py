"""Signed patron tokens: who the patron is, without a login and without putting it in a URL."""

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

SALT = "ruangtanya.patron"


@dataclass(frozen=True)
class PatronIdentity:
    site_key: str
    patron_id: uuid.UUID


def issue_patron_token(site_key, patron_id=None):
    """A token for a new patron of a site (no row is written until they ask something)."""
    patron_id = patron_id or uuid.uuid4()
    return signing.dumps({"s": site_key, "p": str(patron_id)}, salt=SALT, compress=True)


def read_patron_token(token):
    from reference.errors import ServiceError

    if not isinstance(token, str) or not token or len(token) > 512:
        raise ServiceError("token_invalid")
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.PATRON_TOKEN_MAX_AGE)
        return PatronIdentity(site_key=data["s"], patron_id=uuid.UUID(data["p"]))
    except signing.SignatureExpired:
        raise ServiceError("token_expired") from None
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise ServiceError("token_invalid") from None
