"""requests_app.forms: text fields refuse what cannot be stored (in the page's language), the sign-up
form's limits, the artist's pages kept in the description, a new request's web addresses, and the
works-or-zip rule."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile


def test_the_refusal_of_an_unstorable_character_is_in_french_for_a_french_artist():
    from django.utils import translation

    from requests_app.forms import ArtistReplyForm

    with translation.override("fr"):
        form = ArtistReplyForm({"message": "a\x00b"})
        assert not form.is_valid()
        assert form.errors["message"] == [
            "Ce texte contient un caractère qui ne peut pas être enregistré (un caractère NUL ou de "
            "l’Unicode invalide) ; retirez-le et réessayez."  # noqa: RUF001
        ]


def test_every_text_field_refuses_a_lone_surrogate_and_a_nul_with_one_message():
    from requests_app.forms import ArtistReplyForm, SubmitForm

    for form in (ArtistReplyForm({"message": "a\ud800b"}), SubmitForm({"signed_name": "Ada\x00"})):
        assert not form.is_valid()
        [field] = form.errors
        [error] = form.errors.as_data()[field]
        assert error.code == "invalid_text"
    assert ArtistReplyForm({"message": "Ceci est à moi ✓"}).is_valid()


def test_the_signup_form_refuses_an_address_longer_than_a_username_and_two_passwords(db):
    from requests_app.forms import EMAIL_MAX_LENGTH, SignupForm

    long = "a" * EMAIL_MAX_LENGTH + "@example.com"
    form = SignupForm({"email": long, "display_name": "Ada", "password1": "x" * 20, "password2": "x" * 20})
    assert not form.is_valid() and "email" in form.errors
    form = SignupForm(
        {"email": "ada@example.com", "display_name": "Ada", "password1": "x" * 20, "password2": "y" * 20}
    )
    assert not form.is_valid() and "password2" in form.errors


def test_the_description_keeps_the_artists_pages_after_a_separator_and_gives_them_back():
    from requests_app.forms import description_with_pages, split_description

    urls = ["https://ada.example/portfolio", "https://shop.example/ada"]
    text = description_with_pages("  First shown at my gallery. ", urls)
    assert split_description(text) == ("First shown at my gallery.", urls)
    assert description_with_pages("Only words.", []) == "Only words."
    assert split_description("Only words.") == ("Only words.", [])


def test_the_new_request_form_takes_web_addresses_once_each_and_names_the_others():

    from requests_app.forms import RequestNewForm

    upload = {"works": [SimpleUploadedFile("cat.png", b"png")]}
    form = RequestNewForm(
        {
            "basis": "copyright",
            "page_urls": "https://ada.example/\n\n https://ada.example/ \nhttp://b.example",
        },
        upload,
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["page_urls"] == ["https://ada.example/", "http://b.example"]
    form = RequestNewForm(
        {"basis": "copyright", "page_urls": "ftp://ada.example\njavascript:alert(1)"}, upload
    )
    assert not form.is_valid()
    assert "ftp://ada.example, javascript:alert(1)" in form.errors["page_urls"][0]


def test_a_works_form_needs_an_image_or_a_zip_named_zip():

    from requests_app.forms import WorksAddForm

    assert "works" in WorksAddForm({}, {}).errors
    assert WorksAddForm({"js_upload": "1"}, {}).is_valid()  # the page's script sends them one by one
    form = WorksAddForm({}, {"zip": SimpleUploadedFile("works.rar", b"PK")})
    assert form.errors["zip"] == ["Choose a file whose name ends in .zip."]
