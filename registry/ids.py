"""Public identifiers: prefixed, random, safe to show (rm_..., msg_..., we_...)."""

import secrets


def public_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(16).replace('-', 'x').replace('_', 'z')}"


def new_removal_id() -> str:
    return public_id("rm")


def new_grant_id() -> str:
    return public_id("lg")


def new_event_id() -> str:
    return public_id("msg")


def new_endpoint_id() -> str:
    return public_id("we")


def new_delivery_id() -> str:
    return public_id("dl")


def new_import_id() -> str:
    return public_id("imp")


def new_dispute_id() -> str:
    return public_id("dp")
