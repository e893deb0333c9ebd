"""Settings: flags win over SOCWATCH_* environment variables, which win over the config file,
which wins over the defaults; `socwatch config` says where each value came from."""

import json
import os

import pytest
from typer.testing import CliRunner

from flows.cli import app
from warehouse.db import connect

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


def test_environment_only_settings_from_the_file_reach_the_environment(workdir):
    (workdir / "my.toml").write_text("lock_wait_s = 7\n")
    assert origins("--config", "my.toml")["lock_wait_s"] == (7.0, "config file my.toml")
    assert os.environ.pop("SOCWATCH_LOCK_WAIT_S") == "7.0"  # where the warehouse layer reads it


def test_the_writers_memory_limit_is_a_setting_with_the_warehouse_layers_default(workdir):
    from warehouse.db import DEFAULT_WRITER_MEMORY

    assert origins()["db_memory"] == (DEFAULT_WRITER_MEMORY, "default")
    (workdir / "socwatch.toml").write_text('db_memory = "1GiB"\n')
    assert origins()["db_memory"] == ("1GiB", "config file socwatch.toml")
    assert os.environ.pop("SOCWATCH_DB_MEMORY") == "1GiB"


@pytest.mark.parametrize("text, culprit", [
    ('colour = "red"\n', "unknown key 'colour'"),
    ("db = 3\n", "key 'db': 3 must be a string"),
    ('cron = "sometimes"\n', "key 'cron'"),
    ("db = \n", "not valid TOML"),
    ('task_runner = "dusk"\n', "key 'task_runner': 'dusk' must be default or dask"),
    ("interval = -5\n", "key 'interval'"),
    ('db_memory = "lots"\n', "key 'db_memory': 'lots' is not a memory size"),
    ('db_memory = "16MB"\n', "key 'db_memory': '16MB' is below the 64MB"),
])
def test_a_bad_config_file_stops_every_command_naming_the_key(workdir, text, culprit):
    (workdir / "socwatch.toml").write_text(text)
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 2 and culprit in result.output and "socwatch.toml" in result.output
    missing = runner.invoke(app, ["--config", "nowhere.toml", "config"])
    assert missing.exit_code == 2 and "config file not found" in missing.output
