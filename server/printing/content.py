"""A print job's stored facts → the ticket's texts in the citizen's language (gettext, CLDR dates)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_datetime_format
from flask_babel import force_locale
from flask_babel import gettext as _

from server.web.i18n import estimate_text

from .ticket_image import TicketContent


def ticket_content(facts: dict) -> TicketContent:
    """Needs an app context (the catalogs); the same facts always give the same texts."""
    lang = facts["lang"]
    issued = datetime.fromisoformat(facts["issued_at"]).astimezone(ZoneInfo(facts["timezone"]))
    with force_locale(lang):
        ahead, estimate = facts.get("people_ahead"), estimate_text(facts.get("estimate"))
        return TicketContent(
            office_name=facts["office"],
            number_label=_("Your number"),
            code=facts["code"],
            service_name=facts["service"],
            service_name_de=facts.get("service_de"),
            lang=lang,
            issued_at=_date_and_time(issued, lang),
            ahead_label=f"{_('People ahead of you')}: {ahead}" if ahead is not None else _("Reprint"),
            estimate_label=f"{_('Estimated wait')}: {estimate}" if estimate else None,
            qr_url=facts["status_url"],
            qr_caption=_("Scan to follow your number on your phone."),
            privacy_note=_("This ticket holds no personal data."),
        )


def _date_and_time(moment: datetime, lang: str) -> str:
    """The language's own order and separators, e.g. "26.11.2026, 09:41" or "26/11/2026، 9:41 ص"."""
    pattern = get_datetime_format("medium", locale=lang)
    return pattern.format(format_time(moment, "short", locale=lang), format_date(moment, "medium", locale=lang))
