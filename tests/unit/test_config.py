"""Configuration: defaults -> file -> environment, and errors that name the file, key and problem."""

import pytest

from server.config import DEMO_CONFIG, ConfigError, database_url, load_settings


def write(tmp_path, text, name="qms.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_for(tmp_path, text, env=None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text), env=env or {})
    return info.value


OFFICE = """
[[offices]]
slug = "mitte"
name = "Mitte"
[[offices.services]]
slug = "a"
prefix = "A"
name = { de = "A" }
"""


def test_demo_office_is_valid_and_complete():
    settings = load_settings(env={}, extra_files=[DEMO_CONFIG])
    office = settings.offices[0]
    assert office.name == "Bürgerbüro Mitte" and office.timezone == "Europe/Berlin"
    assert len(office.services) >= 3 and len(office.counters) >= 4
    assert {s.prefix for s in office.services} >= {"A", "B", "C"}
    assert len({tuple(c.services) for c in office.counters}) == len(office.counters)
    assert all(s.daily_cap is None and s.range == (1, 999) for s in office.services)


def test_defaults_then_file_then_environment(tmp_path):
    path = write(tmp_path, '[server]\ndatabase_url = "sqlite:///from-file.db"\nlanguages = ["de"]\n')
    from_file = load_settings(path, env={})
    assert database_url(from_file) == "sqlite:///from-file.db"
    assert from_file.server.default_language == "de"  # default kept
    from_env = load_settings(path, env={"QMS_DATABASE_URL": "postgresql://x@h/db"})
    assert database_url(from_env) == "postgresql://x@h/db"
    assert from_env.server.languages == ["de"]


def test_qms_config_variable_selects_the_file(tmp_path):
    path = write(tmp_path, '[server]\npublic_url = "https://q.example"\n')
    assert load_settings(env={"QMS_CONFIG": str(path)}).server.public_url == "https://q.example"


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path / "nope.toml", env={})
    assert "nope.toml" in str(info.value) and "not found" in str(info.value)


def test_toml_syntax_error_names_file_and_line(tmp_path):
    err = error_for(tmp_path, "[server\nx = 1\n")
    assert err.source.endswith("qms.toml")
    assert "line 1" in err.problem


def test_unknown_key_is_named(tmp_path):
    err = error_for(tmp_path, "[server]\ndatabse_url = 'x'\n")
    assert err.key == "server.databse_url" and "unknown key" in err.problem


def test_bad_time_zone_is_named(tmp_path):
    err = error_for(tmp_path, OFFICE.replace('name = "Mitte"', 'name = "Mitte"\ntimezone = "Europe/Berln"'))
    assert err.key == "offices[0].timezone" and "Europe/Berln" in err.problem


def test_bad_prefix_is_named(tmp_path):
    err = error_for(tmp_path, OFFICE.replace('prefix = "A"', 'prefix = "a1"'))
    assert err.key == "offices[0].services[0].prefix"


def test_counter_with_unknown_service_is_refused(tmp_path):
    text = OFFICE + '[[offices.counters]]\nslug = "s1"\nname = "S1"\nservices = ["zz"]\n'
    err = error_for(tmp_path, text)
    assert err.key == "offices[0]" and "unknown service 'zz'" in err.problem


def test_clashing_codes_are_refused(tmp_path):
    text = OFFICE + '[[offices.services]]\nslug = "b"\nprefix = "A"\nrange = [500, 600]\nname = { de = "B" }\n'
    assert "overlapping" in error_for(tmp_path, text).problem


def test_same_prefix_with_separate_ranges_is_fine(tmp_path):
    text = OFFICE.replace('prefix = "A"', 'prefix = ""\nrange = [100, 199]') + (
        '[[offices.services]]\nslug = "b"\nprefix = ""\nrange = [200, 299]\nname = { de = "B" }\n')
    assert len(load_settings(write(tmp_path, text), env={}).offices[0].services) == 2


def test_wrong_type_is_named(tmp_path):
    err = error_for(tmp_path, OFFICE + "daily_cap = 'many'\n")
    assert err.key == "offices[0].services[0].daily_cap"


def test_bad_environment_value_names_the_variable(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, ""), env={"QMS_DATABASE_URL": "not a url"})
    assert info.value.source == "environment QMS_DATABASE_URL"


@pytest.mark.parametrize(("text", "key"), [
    ('[server]\nlogin_limit = "lots"\n', "server.login_limit"),
    (OFFICE + '[[offices.devices]]\nname = "k"\nkind = "kiosk"\nprinter = { backend = "network" }\n',
     "offices[0].devices[0].printer"),
    (OFFICE + '[[offices.devices]]\nname = "k"\nkind = "kiosk"\nprinter = { backend = "usb", profile = "X" }\n',
     "offices[0].devices[0].printer"),
    (OFFICE + '[[offices.devices]]\nname = "d"\nkind = "display"\nprinter = { backend = "file", path = "/x" }\n',
     "offices[0].devices[0]"),
])
def test_bad_printer_and_login_settings_name_their_key(tmp_path, text, key):
    err = error_for(tmp_path, text)
    assert err.key == key, err
