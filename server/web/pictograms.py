"""Service pictograms: a fixed choice of icons from the lucide-static npm package (package.json), served from
node_modules by server/web/vendor.py. A service stores the name; kiosks draw it next to the service name."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# name stored on the service -> (lucide icon file, what it shows, for the admin's pick list)
PICTOGRAMS = {
    "id-card": ("id-card", _l("Identity card")),
    "passport": ("book-open", _l("Passport")),
    "house": ("house", _l("Registration of address")),
    "car": ("car", _l("Vehicles")),
    "bike": ("bike", _l("Bicycle")),
    "baby": ("baby", _l("Birth and family")),
    "users": ("users", _l("People")),
    "heart": ("heart-handshake", _l("Marriage and partnership")),
    "document": ("file-text", _l("Documents")),
    "certificate": ("file-badge", _l("Certificates")),
    "stamp": ("stamp", _l("Certification")),
    "money": ("hand-coins", _l("Payments")),
    "receipt": ("receipt", _l("Fees")),
    "business": ("briefcase", _l("Business")),
    "school": ("graduation-cap", _l("School and education")),
    "dog": ("dog", _l("Dogs")),
    "key": ("key-round", _l("Keys and access")),
    "plane": ("plane", _l("Travel")),
    "lost": ("baggage-claim", _l("Lost and found")),
    "calendar": ("calendar-check", _l("Appointments")),
    "accessible": ("accessibility", _l("Accessibility")),
    "info": ("info", _l("Information")),
    "building": ("landmark", _l("Town hall")),
}


def pictogram_file(name: str) -> str | None:
    """The file inside node_modules for a pictogram name, or None."""
    entry = PICTOGRAMS.get(name)
    return f"lucide-static/icons/{entry[0]}.svg" if entry else None


def pictogram_choices() -> list[dict]:
    return [{"name": name, "label": str(label)} for name, (_, label) in PICTOGRAMS.items()]
