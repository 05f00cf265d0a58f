"""Encryption at rest for secrets we must read back (webhook signing secrets).

Fernet (AES-128-CBC + HMAC) from `cryptography`. Keys come from
FIELD_ENCRYPTION_KEYS (the first encrypts, all decrypt, for rotation) or,
when unset, one derived from SECRET_KEY.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings


def _fernet() -> MultiFernet:
    keys = list(settings.FIELD_ENCRYPTION_KEYS)
    if not keys:
        derived = hashlib.sha256(f"removal-desk-fields:{settings.SECRET_KEY}".encode()).digest()
        keys = [base64.urlsafe_b64encode(derived).decode()]
    return MultiFernet([Fernet(k) for k in keys])


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def encrypt_bytes(plaintext: bytes) -> bytes:
    """For files at rest (identity documents): the Fernet token, itself ASCII."""
    return _fernet().encrypt(plaintext)


def decrypt_bytes(token: bytes) -> bytes:
    return _fernet().decrypt(token)
