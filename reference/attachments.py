"""Files in a chat: images (JPEG, PNG, GIF, WebP) and PDF, both ways.

The type is read from the file's first bytes (its signature, and for images the dimensions in its
header), never from its name or the Content-Type the client claims. A file is uploaded first and
belongs to one conversation and one uploader; a later `message` frame names it, and the message is
stored (and acknowledged) like any other (reference.messaging). Files go through Django's default
storage under a random name and are served only through signed links that expire.
"""

import struct
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse

from reference.errors import ServiceError
from reference.models import Attachment, Conversation, Role

LINK_SALT = "ruangtanya.attachment"
# Enough to reach a JPEG's frame header behind large metadata (EXIF, ICC profile, up to 64 KB each).
HEAD_BYTES = 1024 * 1024
NAME_MAX_LENGTH = 200


@dataclass(frozen=True)
class Kind:
    content_type: str
    extension: str
    width: int | None = None
    height: int | None = None


# ---- what a file is, from its content


def sniff(head):
    """The Kind of a file from its first bytes, or None when it is not one we accept."""
    if head.startswith(b"%PDF-"):
        return Kind("application/pdf", "pdf")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _image("image/png", "png", _png_size(head))
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return _image("image/gif", "gif", _gif_size(head))
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _image("image/webp", "webp", _webp_size(head))
    if head.startswith(b"\xff\xd8\xff"):
        return _image("image/jpeg", "jpg", _jpeg_size(head))
    return None


def _image(content_type, extension, size):
    """An image is only what it claims when its header holds sensible dimensions."""
    if not size or not all(0 < side <= 65535 for side in size):
        return None
    return Kind(content_type, extension, *size)


def _png_size(head):
    if len(head) < 24 or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def _gif_size(head):
    return struct.unpack("<HH", head[6:10]) if len(head) >= 10 else None


def _webp_size(head):
    chunk = head[12:16]
    if chunk == b"VP8 " and len(head) >= 30 and head[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(head) >= 25 and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(head) >= 30:
        return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    return None


def _jpeg_size(head):
    """Walk the segments to the first start-of-frame marker, which holds height and width."""
    at = 2
    while at + 9 < len(head):
        if head[at] != 0xFF:
            return None
        marker = head[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # segments without a length
            at += 2
            continue
        length = struct.unpack(">H", head[at + 2:at + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", head[at + 5:at + 9])
            return width, height
        at += 2 + length
    return None


def check_file(uploaded):
    """The Kind of an uploaded file, or ServiceError (empty, too large, not an accepted type)."""
    if uploaded is None:
        raise ServiceError("attachment_missing")
    if uploaded.size == 0:
        raise ServiceError("attachment_empty")
    if uploaded.size > settings.ATTACHMENT_MAX_BYTES:
        raise ServiceError("attachment_too_large", limit=_megabytes(settings.ATTACHMENT_MAX_BYTES))
    uploaded.seek(0)
    kind = sniff(uploaded.read(HEAD_BYTES))
    uploaded.seek(0)
    if kind is None:
        raise ServiceError("attachment_type")
    return kind


def _megabytes(size):
    return f"{size / (1024 * 1024):g} MB"


def clean_name(name, kind):
    """What the file is called when shown and downloaded: no path, no control characters, and the
    extension of what it really is."""
    name = str(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().strip(".") or "file"
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{stem[:NAME_MAX_LENGTH - 10]}.{kind.extension}"


# ---- uploading


def upload_for_patron(*, patron, conversation_id, uploaded):
    conversation = Conversation.objects.filter(pk=conversation_id, patron=patron).first()
    return _store(conversation, uploaded, role=Role.PATRON, patron=patron)


def upload_for_librarian(*, user, conversation_id, uploaded):
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is not None and conversation.librarian_id != user.pk:
        raise ServiceError("not_assigned")
    return _store(conversation, uploaded, role=Role.LIBRARIAN, user=user)


def _store(conversation, uploaded, *, role, patron=None, user=None):
    if conversation is None:
        raise ServiceError("not_found")
    if conversation.is_closed:
        raise ServiceError("conversation_closed")
    kind = check_file(uploaded)
    attachment = Attachment(conversation=conversation, role=role, patron=patron, user=user,
                            name=clean_name(uploaded.name, kind), content_type=kind.content_type,
                            size=uploaded.size, width=kind.width, height=kind.height)
    # A random stored name: nothing the uploader chose reaches the file system.
    attachment.file.save(f"{uuid.uuid4().hex}.{kind.extension}", uploaded, save=False)
    attachment.save()
    return attachment


def claim_for_message(*, conversation, attachment_id, role, patron_id=None, user=None):
    """The attachment a new message sends: uploaded by the sender into this conversation and not
    sent before. The caller holds the conversation's row lock."""
    if not isinstance(attachment_id, int) or isinstance(attachment_id, bool):
        raise ServiceError("invalid_frame", field="attachment")
    attachment = Attachment.objects.filter(pk=attachment_id, conversation=conversation, role=role).first()
    owner_ok = attachment is not None and (
        attachment.patron_id == patron_id if role == Role.PATRON else attachment.user_id == user.pk)
    if not owner_ok:
        raise ServiceError("attachment_not_yours")
    if Attachment.objects.filter(pk=attachment.pk, message__isnull=False).exists():
        raise ServiceError("attachment_used")
    return attachment


def purge_unsent(*, older_than):
    """Files uploaded before `older_than` that no message ever sent (the patron left, the upload's
    message was refused): deleted from the storage and the database. Returns how many."""
    unsent = Attachment.objects.filter(message__isnull=True, created_at__lt=older_than)
    count = 0
    for attachment in unsent.iterator():
        attachment.file.delete(save=False)
        attachment.delete()
        count += 1
    return count


def delete_file_with_its_row(sender, instance, **kwargs):
    """However a file's row goes (a patron deleted in the admin, a conversation's cascade), its file
    leaves the storage too, once the deletion is committed."""
    storage, name = instance.file.storage, instance.file.name
    if name:
        transaction.on_commit(lambda: storage.delete(name))


# ---- links that expire


def signed_url(attachment):
    token = signing.TimestampSigner(salt=LINK_SALT).sign(str(attachment.pk))
    return reverse("reference:attachment", args=[token])


def from_signed(token):
    """The attachment a link names. Raises signing.SignatureExpired (too old), signing.BadSignature
    (forged) or Attachment.DoesNotExist."""
    value = signing.TimestampSigner(salt=LINK_SALT).unsign(token, max_age=settings.ATTACHMENT_LINK_MAX_AGE)
    return Attachment.objects.get(pk=int(value))


def payload(attachment):
    return {"id": attachment.pk, "name": attachment.name, "size": attachment.size,
            "type": attachment.content_type, "width": attachment.width, "height": attachment.height,
            "url": signed_url(attachment), "expires_in": settings.ATTACHMENT_LINK_MAX_AGE}
