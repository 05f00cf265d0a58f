"""The admin bases check what comes from outside before Django's admin reads it, in every app."""

from __future__ import annotations

import pytest

from registry import services as registry_services
from tests.helpers import logged_in

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/admin/registry/removal/?state__exact=%00",
        "/admin/registry/dataset/?q=%00",
        "/admin/registry/maintainer/?q=a%00b",
        "/admin/registry/webhookdelivery/?state__exact=%00",
        "/admin/registry/indexshard/?state__exact=%00",
    ],
)
def test_a_nul_in_a_registry_list_filter_is_a_message_not_a_server_error(superuser, path):
    operator = logged_in(superuser)
    response = operator.get(path, follow=True)
    assert response.status_code == 200
    assert "The list is shown without filters." in response.content.decode()


def test_a_unicode_digit_never_stands_for_a_registry_row(superuser, maintainer):
    operator = logged_in(superuser)
    dataset = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    arabic = str(dataset.pk).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    response = operator.get(f"/admin/registry/dataset/{arabic}/change/", follow=True)
    assert response.status_code == 200
    assert "doesn’t exist" in response.content.decode()  # noqa: RUF001 (Django's own wording)
    assert operator.get(f"/admin/registry/dataset/{'9' * 5000}/change/", follow=True).status_code == 200


def test_the_admin_pages_link_the_sites_icon(superuser):
    """Without it every admin page makes the browser ask for /favicon.ico: a 404 in its console."""
    operator = logged_in(superuser)
    assert 'rel="icon" href="/static/img/favicon.svg"' in operator.get("/admin/").content.decode()
