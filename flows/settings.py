"""Settings: flags, then environment variables, then a config file, then defaults.

The config file is TOML with flat keys (`db = "data/socwatch.duckdb"`), found at `--config`,
else $SOCWATCH_CONFIG, else `./socwatch.toml` where it exists. Settings that are command-line
options reach the commands as Click's default map (so a flag or an environment variable still
wins); the others (`lock_wait_s`, `taxonomy`, `db_memory`) are read from the environment by the layers that
use them, so a value from the file is put into the environment where none is set there.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from flows.sources import ConfigError, cron_problem, read_toml

CONFIG_ENV = "SOCWATCH_CONFIG"
DEFAULT_CONFIG = Path("socwatch.toml")


@dataclass(frozen=True)
class Setting:
    name: str  # the key in the config file (and the command-line option's name, --with-dashes)
    env: str
    default: object
    kind: type
    help: str
    option: bool = True  # a command-line option of some commands (else only environment and file)


SETTINGS = (
    Setting("db", "SOCWATCH_DB", "socwatch.duckdb", str, "the warehouse file"),
    Setting("sources", "SOCWATCH_SOURCES", "sources.toml", str, "the sources file (run, serve)"),
    Setting("cron", "SOCWATCH_CRON", "*/30 * * * *", str, "schedule of the ingest deployment (serve)"),
    Setting("interval", "SOCWATCH_INTERVAL", None, float, "seconds between ingest runs instead of cron (serve)"),
    Setting("prefect_api", "PREFECT_API_URL", None, str, "a Prefect server's API (serve; else a local one starts)"),
    Setting("task_runner", "SOCWATCH_TASK_RUNNER", "default", str, "default (local process pool) or dask (run)"),
    Setting("dask_address", "SOCWATCH_DASK_ADDRESS", None, str, "a Dask scheduler for --task-runner dask (run)"),
    Setting("lock_wait_s", "SOCWATCH_LOCK_WAIT_S", 30.0, float, "seconds a run waits for the warehouse lock", option=False),
    Setting("taxonomy", "SOCWATCH_TAXONOMY", None, str, "a taxonomy file of your own", option=False),
    Setting("db_memory", "SOCWATCH_DB_MEMORY", "128MB", str, "memory DuckDB may use in a command that writes the warehouse "
            "(beyond it, it spills to disk)", option=False),
)
BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Loaded:
    path: Path | None  # the config file read, if any
    values: dict[str, object]  # what it sets
    put_in_env: frozenset[str]  # environment variables set from it (they were unset)


def config_path(flag: Path | None) -> Path | None:
    if flag is not None:
        return flag
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None


def read_config(path: Path | None) -> dict[str, object]:
    if path is None:
        return {}
    data = read_toml(path, "config file")
    values = {}
    for key, value in data.items():
        setting = BY_NAME.get(key)
        if setting is None:
            raise ConfigError(f"{path}: unknown key {key!r} (known: {', '.join(BY_NAME)})")
        if setting.kind is float and isinstance(value, int | float) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, setting.kind):
            raise ConfigError(f"{path}: key {key!r}: {value!r} must be a {'number' if setting.kind is float else 'string'}")
        if key == "cron" and (problem := cron_problem(value)):
            raise ConfigError(f"{path}: key 'cron': {problem}")
        if key in ("interval", "lock_wait_s") and (value < 0 or (key == "interval" and value == 0)):
            raise ConfigError(f"{path}: key {key!r}: {value!r} must be a number of seconds above 0")
        if key == "db_memory":
            from warehouse.db import memory_size_problem

            if problem := memory_size_problem(value):
                raise ConfigError(f"{path}: key 'db_memory': {problem}")
        if key == "task_runner" and value not in ("default", "dask"):
            raise ConfigError(f"{path}: key 'task_runner': {value!r} must be default or dask")
        values[key] = value
    return values


def load(flag: Path | None) -> Loaded:
    """Read the config file and put its environment-only settings into the environment."""
    path = config_path(flag)
    values = read_config(path)
    put = set()
    for key, value in values.items():
        setting = BY_NAME[key]
        if not setting.option and setting.env not in os.environ:
            os.environ[setting.env] = str(value)
            put.add(setting.env)
    return Loaded(path, values, frozenset(put))


def default_map(loaded: Loaded, commands: dict[str, list[str]]) -> dict[str, dict[str, object]]:
    """Click's default map: for each command, the file's values of the options it has."""
    return {name: {p: loaded.values[p] for p in params if p in loaded.values and BY_NAME[p].option}
            for name, params in commands.items()}


def effective(loaded: Loaded) -> list[tuple[str, object, str]]:
    """(setting, value, where it came from) for every setting, as a command sees it with no flags;
    a password in a URL (a Prefect server's, say) is shown as ***."""
    rows = []
    for s in SETTINGS:
        if s.env in os.environ and s.env not in loaded.put_in_env:
            rows.append((s.name, redact(os.environ[s.env]), f"environment {s.env}"))
        elif s.name in loaded.values:
            rows.append((s.name, redact(loaded.values[s.name]), f"config file {loaded.path}"))
        else:
            rows.append((s.name, s.default, "default"))
    return rows


_USERINFO = re.compile(r"(?<=://)([^/@:\s]*):[^/@\s]*@")


def redact(value: object) -> object:
    """`value` with the password of any URL in it replaced by ***."""
    return _USERINFO.sub(r"\1:***@", value) if isinstance(value, str) else value
