"""requests_app.forms: text fields refuse what cannot be stored, in the page's language."""

from __future__ import annotations


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
