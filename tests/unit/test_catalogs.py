"""Every user-visible string is in the gettext catalogs, and German (the default) translates all of them."""

import subprocess
import sys

from babel.messages.pofile import read_po

from server.config import ROOT


def _ids(path) -> set[str]:
    with open(path, "rb") as fh:
        return {m.id for m in read_po(fh) if m.id}


def test_template_is_up_to_date_with_the_sources(tmp_path):
    fresh = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
                    "-o", str(fresh), "--no-location", "."], cwd=ROOT, check=True, capture_output=True)
    missing = _ids(fresh) - _ids(ROOT / "translations" / "messages.pot")
    assert missing == set(), "run `make extract-messages` and translate the new strings"


def test_german_translates_every_message():
    with open(ROOT / "translations" / "de" / "LC_MESSAGES" / "messages.po", "rb") as fh:
        catalog = read_po(fh)
    untranslated = [m.id for m in catalog if m.id and not m.string]
    assert untranslated == []
    assert _ids(ROOT / "translations" / "messages.pot") <= {m.id for m in catalog if m.id}


def test_english_catalog_exists_and_falls_back_to_the_english_source():
    assert _ids(ROOT / "translations" / "messages.pot") <= _ids(ROOT / "translations" / "en" / "LC_MESSAGES" /
                                                                "messages.po")
