"""Settings: flags win over SOCWATCH_* environment variables, which win over the config file,
which wins over the defaults; `socwatch config` says where each value came from."""

import json
import os
from dataclasses import fields

import pytest
import typer
from typer.testing import CliRunner

from flows import settings
from flows.cli import app
from warehouse.db import DEFAULT_WRITER_MEMORY, Access, connect

runner = CliRunner()


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("SOCWATCH_DB", "SOCWATCH_SOURCES", "SOCWATCH_CRON", "SOCWATCH_CONFIG", "SOCWATCH_LOCK_WAIT_S",
                 "SOCWATCH_TAXONOMY", "SOCWATCH_INTERVAL", "PREFECT_API_URL", "SOCWATCH_DB_MEMORY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def origins(*flags: str) -> dict[str, tuple[object, str]]:
    result = runner.invoke(app, [*flags, "config", "--json"])
    assert result.exit_code == 0, result.output
    return {row["setting"]: (row["value"], row["from"]) for row in json.loads(result.stdout)}


def test_defaults_then_file_then_environment(workdir, monkeypatch):
    assert origins()["db"] == ("socwatch.duckdb", "default")
    (workdir / "socwatch.toml").write_text('db = "from-file.duckdb"\ncron = "0 * * * *"\n')
    rows = origins()
    assert rows["db"] == ("from-file.duckdb", "config file socwatch.toml")
    assert rows["cron"] == ("0 * * * *", "config file socwatch.toml") and rows["sources"] == ("sources.toml", "default")
    monkeypatch.setenv("SOCWATCH_DB", "from-env.duckdb")
    assert origins()["db"] == ("from-env.duckdb", "environment SOCWATCH_DB")


def test_commands_take_the_file_the_environment_and_flags_in_that_order(workdir, monkeypatch):
    for name in ("file", "env", "flag"):
        connect(workdir / f"{name}.duckdb").close()
    (workdir / "socwatch.toml").write_text('db = "file.duckdb"\n')

    def used(*flags: str) -> str:
        result = runner.invoke(app, ["sql", "SELECT current_database() AS d", "--format", "csv", *flags])
        assert result.exit_code == 0, result.output
        return result.stdout.splitlines()[1]

    assert used() == "file"
    monkeypatch.setenv("SOCWATCH_DB", str(workdir / "env.duckdb"))
    assert used() == "env"
    assert used("--db", str(workdir / "flag.duckdb")) == "flag"


def test_serve_refuses_both_cron_and_interval_flags(workdir):
    both = runner.invoke(app, ["serve", "--cron", "0 * * * *", "--interval", "60"])
    assert both.exit_code == 2 and "give --cron or --interval, not both" in both.output


def test_search_refuses_an_unknown_theme_and_lists_the_known(workdir):
    connect(workdir / "w.duckdb").close()
    result = runner.invoke(app, ["search", "cocaine", "--theme", "drug", "--db", str(workdir / "w.duckdb")])
    assert result.exit_code == 2 and "unknown theme 'drug'" in result.output and "drugs" in result.output


def test_settings_without_a_flag_are_resolved_into_plain_values_and_never_written_to_the_environment(workdir):
    (workdir / "my.toml").write_text('lock_wait_s = 7\ndb_memory = "1GiB"\ntaxonomy = "mine.toml"\n')
    before = dict(os.environ)
    assert origins("--config", "my.toml")["lock_wait_s"] == (7.0, "config file my.toml")
    assert dict(os.environ) == before
    resolved = settings.resolve(settings.load(workdir / "my.toml", {}), {}, db="w.duckdb")
    assert resolved.access == Access(lock_wait_s=7.0, memory="1GiB") and resolved.taxonomy == "mine.toml"
    (workdir / "off.toml").write_text("snapshot = false\n")  # a TOML boolean, or "off"
    assert not settings.resolve(settings.load(workdir / "off.toml", {}), {}).access.snapshot
    assert settings.resolve(settings.load(workdir / "off.toml", {}), {"SOCWATCH_SNAPSHOT": "on"}).access.snapshot
    assert resolved.db == "w.duckdb" and resolved.sources == "sources.toml"
    # The environment wins over the file; a bad value there is named.
    env = {"SOCWATCH_LOCK_WAIT_S": "2.5"}
    assert settings.resolve(settings.load(workdir / "my.toml", env), env).lock_wait_s == 2.5
    with pytest.raises(settings.ConfigError, match="SOCWATCH_LOCK_WAIT_S='soon' is not a number"):
        settings.resolve(settings.load(None, {}), {"SOCWATCH_LOCK_WAIT_S": "soon"})
    assert settings.resolve(settings.load(None, {}), {"SOCWATCH_BATCH_SIZE": "50"}).batch_size == 50
    with pytest.raises(settings.ConfigError, match="SOCWATCH_BATCH_SIZE='1e3' is not a whole number"):
        settings.resolve(settings.load(None, {}), {"SOCWATCH_BATCH_SIZE": "1e3"})


def test_a_bad_environment_value_exits_2_naming_the_variable(workdir, monkeypatch):
    monkeypatch.setenv("SOCWATCH_DB_MEMORY", "lots")
    result = runner.invoke(app, ["config"])
    assert result.exit_code == 2 and "SOCWATCH_DB_MEMORY: 'lots' is not a memory size" in result.output


def test_the_writers_memory_limit_is_a_setting_with_the_warehouse_layers_default(workdir):
    assert origins()["db_memory"] == (DEFAULT_WRITER_MEMORY, "default")
    (workdir / "socwatch.toml").write_text('db_memory = "1GiB"\n')
    assert origins()["db_memory"] == ("1GiB", "config file socwatch.toml")


def test_every_setting_has_one_declaration_with_its_default():
    """A setting is a field of Settings (its default) and a row of SETTINGS (its variable and
    meaning); the command-line options take their defaults from it."""
    assert [s.name for s in settings.SETTINGS] == [f.name for f in fields(settings.Settings)]
    options = {p.name: p.default for c in typer.main.get_command(app).commands.values() for p in c.params}
    for name in ("db", "sources", "cron", "task_runner"):
        assert str(options[name]) == str(getattr(settings.DEFAULTS, name)), name


@pytest.mark.parametrize("text, culprit", [
    ('colour = "red"\n', "unknown key 'colour'"),
    ("db = 3\n", "key 'db': 3 must be a string"),
    ('cron = "sometimes"\n', "key 'cron'"),
    ("db = \n", "not valid TOML"),
    ('task_runner = "dusk"\n', "key 'task_runner': 'dusk' must be default or dask"),
    ("interval = -5\n", "key 'interval'"),
    ('db_memory = "lots"\n', "key 'db_memory': 'lots' is not a memory size"),
    ('db_memory = "16MB"\n', "key 'db_memory': '16MB' is below the 64MB"),
    ("batch_size = 0\n", "key 'batch_size': 0 must be a number of pages above 0"),
    ("batch_size = 2.5\n", "key 'batch_size': 2.5 must be a whole number"),
    ("batch_size = true\n", "key 'batch_size': True must be a whole number"),
    ("snapshot = 0\n", "key 'snapshot': 0 must be a string"),
    ('snapshot = "never"\n', "key 'snapshot': 'never' must be on or off"),
])
def test_a_bad_config_file_stops_every_command_naming_the_key(workdir, text, culprit):
    (workdir / "socwatch.toml").write_text(text)
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 2 and culprit in result.output and "socwatch.toml" in result.output
    missing = runner.invoke(app, ["--config", "nowhere.toml", "config"])
    assert missing.exit_code == 2 and "config file not found" in missing.output
