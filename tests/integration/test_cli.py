"""The CLI as an operator uses it: init twice, users, tokens, and clear errors for bad configuration."""

import subprocess
import sys

import requests

from server.config import ROOT
from tests.support import databases
from tests.support.server_proc import ServerProcess


def run_cli(server: ServerProcess, *args, stdin=None, env=None):
    return subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, env={**server.env, **(env or {})},
                          input=stdin, capture_output=True, text=True, timeout=120)


def test_init_demo_twice_is_idempotent(tmp_path):
    server = ServerProcess(tmp_path, databases.new_sqlite_url(tmp_path))
    first = server.cli("init", "--demo")
    assert "schema: created" in first and "created office mitte" in first
    assert "created counter mitte/schalter-4" in first
    second = server.cli("init", "--demo")
    assert "schema: up to date" in second and "created" not in second.replace("demo tokens", "")
    tokens = dict(line.split("=", 1) for line in (tmp_path / "demo-tokens.txt").read_text().split())
    assert set(tokens) == {"ADMIN", "SUPERVISOR", "CLERK", "KIOSK", "DISPLAY"}


def test_token_add_prints_only_the_token_and_it_works(tmp_path):
    server = ServerProcess(tmp_path, databases.new_sqlite_url(tmp_path))
    server.cli("init", "--demo")
    out = server.cli("token", "add", "eingang-2", "--device", "kiosk", "--office", "mitte")
    token = out.strip()
    assert out == token + "\n" and token.startswith("cq_") and len(token) > 40
    server.start()
    try:
        r = requests.post(server.url + "/api/v1/offices/mitte/tickets", json={"service": "abholung"},
                          headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert r.status_code == 201 and r.json()["code"] == "C001"
    finally:
        server.stop()


def test_token_errors_are_clear(tmp_path):
    server = ServerProcess(tmp_path, databases.new_sqlite_url(tmp_path))
    server.cli("init", "--demo")
    no_office = run_cli(server, "token", "add", "x", "--role", "clerk")
    assert no_office.returncode == 2 and "needs --office" in no_office.stderr and no_office.stdout == ""
    unknown = run_cli(server, "token", "add", "x", "--device", "display", "--office", "nowhere")
    assert unknown.returncode == 2 and "no office 'nowhere'" in unknown.stderr


def test_user_add_reads_the_password_from_stdin(tmp_path):
    server = ServerProcess(tmp_path, databases.new_sqlite_url(tmp_path))
    server.cli("init", "--demo")
    ok = run_cli(server, "user", "add", "erika", "--role", "clerk", "--office", "mitte", stdin="a-long-secret\n")
    assert ok.returncode == 0, ok.stderr
    again = run_cli(server, "user", "add", "erika", "--role", "clerk", "--office", "mitte", stdin="a-long-secret\n")
    assert again.returncode == 2 and "already exists" in again.stderr
    weak = run_cli(server, "user", "add", "max", "--role", "admin", stdin="short\n")
    assert weak.returncode == 2 and "at least 10 characters" in weak.stderr


def test_user_passwd_sets_a_new_password_and_rejects_bad_input(tmp_path):
    from server.auth.users import check_password
    from server.db import Database
    from server.db.models import User

    server = ServerProcess(tmp_path, databases.new_sqlite_url(tmp_path))
    server.cli("init", "--demo")
    run_cli(server, "user", "add", "erika", "--role", "clerk", "--office", "mitte", stdin="a-long-secret\n")
    done = run_cli(server, "user", "passwd", "erika", stdin="another-long-secret\n")
    assert done.returncode == 0 and "0 session(s) ended" in done.stderr, done.stderr
    db = Database(server.env["QMS_DATABASE_URL"])
    with db.read_session() as session:
        user = session.query(User).filter_by(name="erika").one()
        assert check_password(user, "another-long-secret") and not check_password(user, "a-long-secret")
    db.dispose()
    assert run_cli(server, "user", "passwd", "nobody", stdin="another-long-secret\n").returncode == 2
    short = run_cli(server, "user", "passwd", "erika", stdin="short\n")
    assert short.returncode == 2 and "at least 10 characters" in short.stderr


def test_broken_config_file_stops_with_file_key_and_problem(tmp_path):
    bad = tmp_path / "broken.toml"
    bad.write_text('[server]\nlanguages = "de"\n')
    server = ServerProcess(tmp_path, databases.new_sqlite_url(tmp_path))
    for command in (["init"], ["run", "--port", "1"]):
        done = run_cli(server, *command, env={"QMS_CONFIG": str(bad)})
        assert done.returncode == 2
        assert "broken.toml" in done.stderr and "server.languages" in done.stderr
        assert "Traceback" not in done.stderr


def test_run_without_schema_says_to_init(tmp_path):
    server = ServerProcess(tmp_path, databases.new_sqlite_url(tmp_path))
    done = run_cli(server, "run", "--port", "1")
    assert done.returncode == 2 and "python -m server init" in done.stderr


def test_unreachable_database_is_reported(tmp_path):
    server = ServerProcess(tmp_path, "postgresql://nobody@127.0.0.1:1/none")
    done = run_cli(server, "init")
    assert done.returncode == 2 and "cannot connect to the database" in done.stderr
    assert "Traceback" not in done.stderr
