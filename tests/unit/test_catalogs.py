"""Every user-visible string is in the gettext catalogs, and each complete language translates all of them."""

import re
import subprocess
import sys

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from server.config import ROOT

COMPLETE = ["de", "tr", "ar", "uk", "ru"]  # English needs no catalog entries: its msgids are the English texts
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*\}")


def _ids(path) -> set[str]:
    with open(path, "rb") as fh:
        return {m.id for m in read_po(fh) if m.id}


def _catalog(lang: str) -> Catalog:
    with open(ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh, locale=lang)


def _forms(message: Message) -> list[str]:
    return list(message.string) if message.pluralizable else [message.string]


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def test_template_is_up_to_date_with_the_sources(tmp_path):
    fresh = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
                    "-o", str(fresh), "--no-location", "."], cwd=ROOT, check=True, capture_output=True)
    missing = _ids(fresh) - _ids(ROOT / "translations" / "messages.pot")
    assert missing == set(), "run `make extract-messages` and translate the new strings"


@pytest.mark.parametrize("lang", COMPLETE)
def test_complete_languages_translate_every_message(lang):
    catalog = _catalog(lang)
    assert _ids(ROOT / "translations" / "messages.pot") <= {m.id for m in catalog if m.id}
    untranslated = [m.id for m in catalog if m.id and not all(_forms(m))]
    assert untranslated == []
    assert [m.id for m in catalog if m.id and m.fuzzy] == []


@pytest.mark.parametrize("lang", COMPLETE)
def test_plural_messages_fill_every_form_of_the_language(lang):
    catalog = _catalog(lang)
    wrong = [m.id for m in catalog if m.id and m.pluralizable and len(m.string) != catalog.num_plurals]
    assert wrong == []


@pytest.mark.parametrize("lang", COMPLETE)
def test_translations_keep_the_placeholders_of_their_message(lang):
    wrong = []
    for m in _catalog(lang):
        if not m.id:
            continue
        wanted = _placeholders(" ".join(m.id) if m.pluralizable else m.id)
        for form in _forms(m):
            got = _placeholders(form)
            # a plural form for exactly one (or zero) may spell the number out, so it may drop a placeholder
            if got - wanted or (not m.pluralizable and got != wanted):
                wrong.append((m.id, form))
    assert wrong == []


def test_english_catalog_exists_and_falls_back_to_the_english_source():
    assert _ids(ROOT / "translations" / "messages.pot") <= _ids(ROOT / "translations" / "en" / "LC_MESSAGES" /
                                                                "messages.po")
