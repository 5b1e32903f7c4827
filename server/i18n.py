"""The reader's language, read one way everywhere: Django's, as LocaleMiddleware set it
for the request (the 中文/EN switch's cookie, else Accept-Language), as ``zh-hans`` or
``en``. Text in both languages is chosen with :func:`engine.text.pick`."""

from django.utils import translation

from engine.text import normalise


def current_language() -> str:
    return normalise(translation.get_language())
