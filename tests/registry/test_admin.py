"""The registry's side of the admin: keys created and revoked through services, read-only rows,
and the audit trail: every operator change writes one OperatorAction naming the operator (real
admin POSTs as a superuser; the service writes the row in the change's own transaction)."""

from __future__ import annotations

import io
import re
from typing import Any

from django.contrib.messages import get_messages
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from registry import services
from registry.hosts import Scope
from registry.models import ApiKey, DomainOptOut, Maintainer, OperatorAction, OperatorActionKind
from tests.helpers import logged_in


def key_in_messages(response: Any) -> str:
    [key] = [m for text in get_messages(response.wsgi_request) for m in re.findall(r"rdk_[\w-]+", str(text))]
    return key


def authenticates(key: str) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client.get("/api/v1/datasets/").status_code == 200


def test_a_superuser_creates_a_key_shown_once_and_revokes_it(superuser, maintainer):
    client = logged_in(superuser)
    response = client.post(
        reverse("admin:registry_maintainer_changelist"),
        {"action": "create_key", "_selected_action": [maintainer.maintainer.pk]},
    )
    assert response.status_code == 302
    key = key_in_messages(response)
    assert authenticates(key)
    new = ApiKey.objects.get(prefix=key[:12])

    change = reverse("admin:registry_maintainer_change", args=[maintainer.maintainer.pk])
    assert key in client.get(change).content.decode()  # the message, once
    page = client.get(change)
    assert new.prefix in page.content.decode() and key not in page.content.decode()

    client.post(
        reverse("admin:registry_apikey_changelist"), {"action": "revoke", "_selected_action": [new.pk]}
    )
    new.refresh_from_db()
    assert new.revoked_at is not None
    assert not authenticates(key)
    assert authenticates(maintainer.key)  # the other key is untouched


def test_adding_a_maintainer_in_the_admin_gives_it_a_key(superuser):
    response = logged_in(superuser).post(
        reverse("admin:registry_maintainer_add"),
        {
            "name": "New Org",
            "email": "ops@new.example",
            "api_keys-TOTAL_FORMS": "0",
            "api_keys-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    org = Maintainer.objects.get(name="New Org")
    key = key_in_messages(response)
    assert ApiKey.objects.get(maintainer=org).prefix == key[:12]
    assert authenticates(key)


def test_a_moderator_reads_the_registry_but_cannot_touch_keys(moderator, maintainer):
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="demo", name="Demo")
    services.items_upsert(
        dataset=dataset,
        rows=[{"external_id": "1", "url": "https://img.example/1.jpg", "phash": "b15fe6465121175e"}],
    )
    client = logged_in(moderator)
    datasets = client.get(reverse("admin:registry_dataset_changelist"))
    assert datasets.status_code == 200
    assert datasets.context["cl"].result_list.get().item_count == 1
    items = client.get(reverse("admin:registry_datasetitem_changelist"))
    assert "b15fe6465121175e" in items.content.decode()
    assert client.get(reverse("admin:registry_removal_changelist")).status_code == 200
    assert client.get(reverse("admin:registry_webhookdelivery_changelist")).status_code == 200
    assert client.get(reverse("admin:registry_apikey_changelist")).status_code == 403
    listing = client.get(reverse("admin:registry_maintainer_changelist"))
    assert listing.status_code == 200 and "create_key" not in listing.content.decode()
    client.post(
        reverse("admin:registry_maintainer_changelist"),
        {"action": "create_key", "_selected_action": [maintainer.maintainer.pk]},
    )
    assert ApiKey.objects.filter(maintainer=maintainer.maintainer).count() == 1


def test_nobody_edits_removals_or_items_directly(superuser, maintainer):
    client = logged_in(superuser)
    assert client.get(reverse("admin:registry_removal_add")).status_code == 403
    assert client.get(reverse("admin:registry_datasetitem_add")).status_code == 403
    assert client.get(reverse("admin:requests_app_removalrequest_add")).status_code == 403


# --- the audit trail --------------------------------------------------------


def the_one_action(after: int) -> OperatorAction:
    """The single audit row written since `after`; fails if there are none or several."""
    [action] = OperatorAction.objects.filter(pk__gt=after)
    return action


def test_adding_a_maintainer_writes_one_row_naming_the_operator(operator, superuser, audit_mark):
    response = operator.post(
        reverse("admin:registry_maintainer_add"),
        {
            "name": "New Org",
            "email": "ops@new.example",
            "members": [superuser.pk],
            "api_keys-TOTAL_FORMS": "0",
            "api_keys-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    org = Maintainer.objects.get(name="New Org")
    assert list(org.members.all()) == [superuser]
    action = the_one_action(audit_mark)
    assert action.kind == OperatorActionKind.MAINTAINER_CREATED and action.actor == superuser
    assert (action.object_type, action.object_id, action.maintainer) == ("maintainer", org.pk, org)
    assert action.detail["api_key"] == ApiKey.objects.get(maintainer=org).prefix
    # Shown on the maintainer's page.
    page = operator.get(reverse("admin:registry_maintainer_change", args=[org.pk])).content.decode()
    assert "maintainer created" in page and "root@example.com" in page


def test_changing_a_maintainer_writes_one_row_saying_what_changed(
    operator, superuser, maintainer, audit_mark
):
    org = maintainer.maintainer
    response = operator.post(
        reverse("admin:registry_maintainer_change", args=[org.pk]),
        {
            "name": org.name,
            "email": "new-ops@example.com",
            "members": [superuser.pk],
            "api_keys-TOTAL_FORMS": "1",
            "api_keys-INITIAL_FORMS": "1",
            "api_keys-0-id": str(org.api_keys.get().pk),
            "api_keys-0-maintainer": str(org.pk),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    org.refresh_from_db()
    assert org.email == "new-ops@example.com" and list(org.members.all()) == [superuser]
    action = the_one_action(audit_mark)
    assert action.kind == OperatorActionKind.MAINTAINER_CHANGED and action.actor == superuser
    assert action.detail["changed"] == ["email", "members"]
    assert action.detail["email"] == ["ops@laion.example", "new-ops@example.com"]
    assert action.detail["members"] == ["root@example.com"]


def test_creating_and_revoking_a_key_write_one_row_each(operator, superuser, maintainer, audit_mark):
    org = maintainer.maintainer
    operator.post(
        reverse("admin:registry_maintainer_changelist"),
        {"action": "create_key", "_selected_action": [org.pk]},
    )
    created = the_one_action(audit_mark)
    new = ApiKey.objects.get(maintainer=org, name="admin")
    assert created.kind == OperatorActionKind.API_KEY_CREATED and created.actor == superuser
    assert (created.object_type, created.object_id, created.maintainer) == ("api_key", new.pk, org)
    assert created.detail["prefix"] == new.prefix

    operator.post(
        reverse("admin:registry_apikey_changelist"), {"action": "revoke", "_selected_action": [new.pk]}
    )
    revoked = the_one_action(created.pk)
    assert revoked.kind == OperatorActionKind.API_KEY_REVOKED and revoked.actor == superuser
    assert revoked.object_id == new.pk
    # Revoking it again changes nothing and writes nothing.
    operator.post(
        reverse("admin:registry_apikey_changelist"), {"action": "revoke", "_selected_action": [new.pk]}
    )
    services.api_key_revoke(key=ApiKey.objects.get(pk=new.pk))
    assert OperatorAction.objects.filter(pk__gt=audit_mark).count() == 2


def test_disabling_and_enabling_an_endpoint_write_one_row_each(operator, superuser, endpoint, audit_mark):
    endpoints = reverse("admin:registry_webhookendpoint_changelist")
    operator.post(endpoints, {"action": "disable", "_selected_action": [endpoint.pk]})
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    disabled = the_one_action(audit_mark)
    assert disabled.kind == OperatorActionKind.ENDPOINT_DISABLED and disabled.actor == superuser
    assert (disabled.object_type, disabled.object_id) == ("webhook_endpoint", endpoint.pk)
    assert disabled.detail["reason"] == endpoint.disabled_reason

    operator.post(endpoints, {"action": "enable", "_selected_action": [endpoint.pk]})
    endpoint.refresh_from_db()
    assert endpoint.enabled
    enabled = the_one_action(disabled.pk)
    assert enabled.kind == OperatorActionKind.ENDPOINT_ENABLED and enabled.actor == superuser

    page = operator.get(reverse("admin:registry_webhookendpoint_change", args=[endpoint.pk])).content.decode()
    assert "endpoint disabled" in page and "endpoint enabled" in page and "by root@example.com" in page


def test_the_delivery_engine_disabling_an_endpoint_writes_a_row_with_no_operator(endpoint, audit_mark):
    services.webhook_endpoint_disable(endpoint=endpoint, reason="the endpoint answered 410 Gone")
    action = the_one_action(audit_mark)
    assert action.actor is None and action.detail["reason"] == "the endpoint answered 410 Gone"


def test_the_create_maintainer_command_writes_one_row_with_no_actor(db):
    call_command("create_maintainer", "Cmd Org", "--email", "ops@cmd.example", stdout=io.StringIO())
    action = the_one_action(0)
    assert action.kind == OperatorActionKind.MAINTAINER_CREATED and action.actor is None
    assert action.maintainer == Maintainer.objects.get(name="Cmd Org")


def test_the_actions_are_listed_and_never_edited(operator, maintainer, audit_mark):
    services.api_key_create(maintainer=maintainer.maintainer, name="listed")
    listing = operator.get(reverse("admin:registry_operatoraction_changelist"))
    assert listing.status_code == 200 and "API key created" in listing.content.decode()
    action = the_one_action(audit_mark)
    assert operator.get(reverse("admin:registry_operatoraction_add")).status_code == 403
    assert operator.post(reverse("admin:registry_operatoraction_delete", args=[action.pk])).status_code == 403
    change = operator.post(
        reverse("admin:registry_operatoraction_change", args=[action.pk]), {"kind": "maintainer_created"}
    )
    assert change.status_code == 403
    action.refresh_from_db()
    assert action.kind == OperatorActionKind.API_KEY_CREATED


# --- domain opt-outs --------------------------------------------------------


def test_domain_optouts_are_listed_read_only_with_filters_search_and_the_ticket(moderator, superuser):
    services.domain_optouts_record(
        source_ref="RR-2026-000007",
        reason="copyright",
        scopes=[
            Scope("artist.example", include_subdomains=True),
            Scope("artist.example", path_prefix="/art/"),
        ],
    )
    services.domain_optouts_record(
        source_ref="RR-2026-000008", reason="privacy", scopes=[Scope("other.example")]
    )
    revoked = DomainOptOut.objects.get(host="other.example")
    DomainOptOut.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    url = reverse("admin:registry_domainoptout_changelist")
    client = logged_in(moderator)

    def listed(query: str = "") -> list[str]:
        response = client.get(url + query)
        assert response.status_code == 200
        return sorted(str(rule) for rule in response.context["cl"].result_list)

    assert listed() == [
        "*.artist.example (RR-2026-000007)",
        "artist.example/art/ (RR-2026-000007)",
        "other.example (RR-2026-000008)",
    ]
    mine = ["*.artist.example (RR-2026-000007)", "artist.example/art/ (RR-2026-000007)"]
    assert listed("?state=active") == mine
    assert listed("?state=revoked") == ["other.example (RR-2026-000008)"]
    assert listed("?q=OTHER.example") == ["other.example (RR-2026-000008)"]
    assert listed("?q=RR-2026-000007") == mine
    page = client.get(url).content.decode()
    queue = reverse("admin:requests_app_removalrequest_changelist")
    assert f'<a href="{queue}?q=RR-2026-000007">RR-2026-000007</a>' in page
    assert "revoked" in page and "active" in page
    # A hostile search is a message, not a server error.
    assert client.get(url + "?q=%00").status_code == 302
    # Nobody adds, edits or deletes a rule here: approval and revocation are the services' job.
    rule = DomainOptOut.objects.get(path_prefix="/art/")
    change = reverse("admin:registry_domainoptout_change", args=[rule.pk])
    admin = logged_in(superuser)
    assert admin.get(reverse("admin:registry_domainoptout_add")).status_code == 403
    detail = admin.get(change)
    assert detail.status_code == 200 and "/art/" in detail.content.decode()
    admin.post(change, {"path_prefix": "/other/"})
    rule.refresh_from_db()
    assert rule.path_prefix == "/art/"
    assert admin.post(reverse("admin:registry_domainoptout_delete", args=[rule.pk])).status_code == 403
    assert DomainOptOut.objects.count() == 3


def test_the_removals_list_says_who_filed_each_and_filters_by_it(moderator, maintainer):
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="demo", name="Demo")
    services.removals_record(
        source_ref="RR-2026-000001",
        reason="copyright",
        entries=[services.RemovalEntry(dataset=dataset, url="https://img.example/a.jpg")],
    )
    services.removals_record(
        source_ref="pf_filing",
        reason="copyright",
        entries=[services.RemovalEntry(dataset=dataset, url="https://art.example/b.jpg")],
        source="partner",
        partner="Art Platform",
    )
    client = logged_in(moderator)
    listing = client.get(reverse("admin:registry_removal_changelist"))
    rows = {
        r.source_ref: listing.context["cl"].model_admin.filed_by(r) for r in listing.context["cl"].result_list
    }
    assert rows == {"RR-2026-000001": "artist", "pf_filing": "Art Platform"}
    assert "Art Platform" in listing.content.decode()
    partners_only = client.get(reverse("admin:registry_removal_changelist") + "?source__exact=partner")
    assert [r.source_ref for r in partners_only.context["cl"].result_list] == ["pf_filing"]
