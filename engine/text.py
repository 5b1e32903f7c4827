"""Text in the product's two languages: Simplified Chinese (the default) and English.

Labels come as a ``[zh, en]`` pair, a ``{"zh-hans": ..., "en": ...}`` mapping or one
string; :func:`pick` takes the reader's, falling back to Chinese.
"""

from __future__ import annotations

LANGUAGES = ("zh-hans", "en")
DEFAULT = "zh-hans"


def normalise(language: str | None) -> str:
    """``en``, ``en-us``... → ``en``; anything else → ``zh-hans``."""
    return "en" if (language or "").lower().startswith("en") else DEFAULT


def pick(texts, language: str | None, fallback: str = "") -> str:
    if not texts:
        return fallback
    if isinstance(texts, str):
        return texts
    english = normalise(language) == "en"
    if isinstance(texts, dict):
        return (texts.get("en") if english else None) or texts.get(DEFAULT) or fallback
    return texts[1] if english and len(texts) > 1 and texts[1] else texts[0]


def gettext_noop(message: str) -> str:
    """Marks an English template for the server's catalogue (``makemessages`` reads the
    name); the engine itself has no gettext and uses the English."""
    return message


def render(phrase, translate=None) -> str:
    """A phrase, ``(template, params)`` with params that may be phrases themselves, as text:
    in English, or through ``translate`` (a gettext) in the reader's language."""
    if not isinstance(phrase, tuple):
        return str(phrase)
    template, params = phrase
    values = {k: render(v, translate) if isinstance(v, tuple) else v for k, v in params.items()}
    text = translate(template) if translate else template
    try:
        return text % values
    except (KeyError, TypeError, ValueError):  # a catalogue entry that does not fit
        return template % values
