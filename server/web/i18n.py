"""Languages: gettext catalogs through Flask-Babel, each language with its own name and writing direction."""

from __future__ import annotations

from flask import Flask, current_app, g, request
from flask_babel import Babel, get_locale
from flask_babel import gettext as _

# Code -> (name in that language, direction). The kiosk offers the configured ones in this order.
LANGUAGES = {
    "de": ("Deutsch", "ltr"),
    "en": ("English", "ltr"),
    "tr": ("Türkçe", "ltr"),
    "ar": ("العربية", "rtl"),
    "uk": ("Українська", "ltr"),
    "ru": ("Русский", "ltr"),
    "pl": ("Polski", "ltr"),
    "fa": ("فارسی", "rtl"),
}

babel = Babel()


def configured_languages() -> list[str]:
    return [code for code in current_app.config["QMS_LANGUAGES"] if code in LANGUAGES]


def select_locale() -> str:
    """A page's explicit choice (g.lang), then ?lang=, then the browser's preference, then the default."""
    languages = configured_languages()
    chosen = getattr(g, "lang", None) or request.args.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["QMS_DEFAULT_LANGUAGE"]


def text_direction(code: str | None = None) -> str:
    code = code or str(get_locale())
    return LANGUAGES.get(code, ("", "ltr"))[1]


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)

    @app.context_processor
    def _language_context():
        lang = str(get_locale())
        return {"lang": lang, "text_dir": text_direction(lang), "language_names": LANGUAGES,
                "languages": configured_languages()}


def printer_status_words() -> dict[str, str]:
    """A ticket printer's status in words, for every staff page that shows printers (keys printer_<status>)."""
    return {
        "printer_ok": _("ready"),
        "printer_paper_low": _("paper running low"),
        "printer_paper_out": _("out of paper"),
        "printer_offline": _("offline"),
        "printer_error": _("error"),
        "printer_unknown": _("status unknown"),
    }


def weekday_names() -> list[str]:
    """Monday to Sunday in the page's language."""
    return [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday")]


def estimate_words() -> dict[str, str]:
    """How an estimate reads to a citizen (kiosk, ticket, status page, display); {low} and {high} are minutes.

    The shortest ranges, 0–1 and 0–0 (the next in line at a counter that is free or about to be; 0–0 where its
    clerks call new tickets at once), read "less than 1 min.".
    """
    return {"estimate": _("about {low}–{high} min."), "soon": _("less than 1 min."),
            "noCounter": _("No counter open")}


def estimate_text(estimate: dict | None) -> str:
    """An estimate (Estimate.as_dict()) in words, as estimateText() in kiosk/static/kiosk/services.js; "" for
    none."""
    if not estimate:
        return ""
    words = estimate_words()
    if estimate.get("low") is None:
        return words["noCounter"] if estimate.get("reason") == "no_counter_open" else ""
    if estimate["low"] == 0 and estimate.get("high", 0) <= 1:
        return words["soon"]
    return words["estimate"].format(low=estimate["low"], high=estimate["high"])
