"""Partner keys: hashed like maintainers' keys, shown once, revocable, audited."""

from __future__ import annotations

from partners import services
from partners.models import PartnerAction, PartnerActionKind, PartnerKey
from registry.api.auth import PARTNER_KEY_PREFIX
from registry.services import api_key_authenticate, api_key_hash


def test_a_key_is_stored_as_its_hash_with_a_visible_prefix(partner, superuser):
    key, raw = services.partner_key_create(partner=partner.partner, name="ci", actor=superuser)
    assert raw.startswith("rdp_") and services.PARTNER_KEY_PREFIX == PARTNER_KEY_PREFIX
    assert key.key_hash == api_key_hash(raw) and raw not in {key.prefix, key.key_hash}
    assert raw.startswith(key.prefix) and len(key.prefix) == 12
    action = PartnerAction.objects.filter(kind=PartnerActionKind.KEY_CREATED, object_id=key.pk).get()
    assert action.detail == {"prefix": key.prefix, "name": "ci"} and action.actor == superuser


def test_it_authenticates_its_own_keys_only(partner, maintainer):
    assert services.partner_key_authenticate(partner.key).partner == partner.partner
    assert services.partner_key_authenticate(maintainer.key) is None
    assert api_key_authenticate(partner.key) is None
    assert services.partner_key_authenticate("rdp_nonsense") is None


def test_it_notes_when_a_key_was_last_used(partner):
    assert PartnerKey.objects.get(partner=partner.partner).last_used_at is None
    services.partner_key_authenticate(partner.key)
    assert PartnerKey.objects.get(partner=partner.partner).last_used_at is not None


def test_a_revoked_key_no_longer_authenticates_and_twice_is_one_audit_row(partner, superuser):
    key = PartnerKey.objects.get(partner=partner.partner)
    services.partner_key_revoke(key=key, actor=superuser)
    services.partner_key_revoke(key=key, actor=superuser)
    assert services.partner_key_authenticate(partner.key) is None
    assert PartnerAction.objects.filter(kind=PartnerActionKind.KEY_REVOKED, object_id=key.pk).count() == 1
