"""Settings: flags, then environment variables, then a config file, then defaults.

The config file is TOML with flat keys (`db = "data/socwatch.duckdb"`), found at `--config`,
else $SOCWATCH_CONFIG, else `./socwatch.toml` where it exists. Each setting is declared once,
as a field of `Settings` (its default) and a row of SETTINGS (its environment variable and
meaning). The command line resolves them once per command (`resolve`) into a frozen `Settings`
and hands the layers below plain values (a connection's lock wait and memory, the taxonomy
file); nothing below the command line reads or writes the environment for a setting.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path

from flows.sources import ConfigError, cron_problem, read_toml
from warehouse.db import DEFAULT_LOCK_WAIT_S, DEFAULT_WRITER_MEMORY, Access, memory_size_problem

CONFIG_ENV = "SOCWATCH_CONFIG"
DEFAULT_CONFIG = Path("socwatch.toml")
TASK_RUNNERS = ("default", "dask")


@dataclass(frozen=True)
class Settings:
    db: str = "socwatch.duckdb"
    sources: str = "sources.toml"
    cron: str = "*/30 * * * *"
    interval: float | None = None
    prefect_api: str | None = None
    task_runner: str = "default"
    dask_address: str | None = None
    lock_wait_s: float = DEFAULT_LOCK_WAIT_S
    taxonomy: str | None = None
    db_memory: str = DEFAULT_WRITER_MEMORY
    batch_size: int = 100  # pages per fetch/extract/load batch of a run: small enough for the stages to overlap
    api_keep_s: float = 600.0  # seconds the local Prefect API outlives the last command that used it
    watchlists: str | None = None  # the watchlists file; None: watchlists.toml beside the sources file, if there is one
    feeds: str = "feeds"  # the folder of the watchlists' Atom feeds (a relative one is beside the warehouse)
    webhook_timeout_s: float = 10.0
    webhook_attempts: int = 3
    snapshot: str = "on"  # on: a run publishes the readers' snapshot; off: none is kept

    @property
    def access(self) -> Access:
        """How a command that writes opens the warehouse."""
        return Access(lock_wait_s=self.lock_wait_s, memory=self.db_memory, snapshot=self.snapshot == "on")

    @property
    def watchlists_file(self) -> Path | None:
        """The watchlists file a run reads: the one set, else watchlists.toml beside the sources
        file where it exists, else none."""
        if self.watchlists:
            return Path(self.watchlists)
        beside = Path(self.sources).with_name("watchlists.toml")
        return beside if beside.is_file() else None

    @property
    def delivery(self) -> dict[str, object]:
        """The DeliveryOptions fields the settings set (flows.watch; their feeds folder as given)."""
        return {"feeds": self.feeds, "timeout_s": self.webhook_timeout_s, "attempts": self.webhook_attempts}


DEFAULTS = Settings()
_KIND = {f.name: next((k for k in (float, int) if k.__name__ in str(f.type)), str) for f in fields(Settings)}
_KIND_NAMES = {float: "number", int: "whole number", str: "string"}


@dataclass(frozen=True)
class Setting:
    name: str  # the key in the config file (and the command-line option's name, --with-dashes)
    env: str
    help: str
    option: bool = True  # a command-line option of some commands (else only environment and file)

    @property
    def default(self) -> object:
        return getattr(DEFAULTS, self.name)

    @property
    def kind(self) -> type:
        return _KIND[self.name]


SETTINGS = (
    Setting("db", "SOCWATCH_DB", "the warehouse file"),
    Setting("sources", "SOCWATCH_SOURCES", "the sources file (run, serve)"),
    Setting("cron", "SOCWATCH_CRON", "schedule of the ingest deployment (serve)"),
    Setting("interval", "SOCWATCH_INTERVAL", "seconds between ingest runs instead of cron (serve)"),
    Setting("prefect_api", "PREFECT_API_URL", "a Prefect server's API (serve; else a local one starts)"),
    Setting("task_runner", "SOCWATCH_TASK_RUNNER", "default (local process pool) or dask (run)"),
    Setting("dask_address", "SOCWATCH_DASK_ADDRESS", "a Dask scheduler for --task-runner dask (run)"),
    Setting("lock_wait_s", "SOCWATCH_LOCK_WAIT_S", "seconds a run waits for the warehouse lock", option=False),
    Setting("taxonomy", "SOCWATCH_TAXONOMY", "a taxonomy file of your own", option=False),
    Setting("db_memory", "SOCWATCH_DB_MEMORY", "memory DuckDB may use in a command that writes the warehouse "
            "(beyond it, it spills to disk)", option=False),
    Setting("batch_size", "SOCWATCH_BATCH_SIZE", "pages per fetch/extract/load batch of a run (run, serve)", option=False),
    Setting("api_keep_s", "SOCWATCH_API_KEEP_S", "seconds the local Prefect API (where none is configured) stays up "
            "after the last command that used it, for the next one (0: each command starts and stops its own)", option=False),
    Setting("watchlists", "SOCWATCH_WATCHLISTS", "a watchlists file (run, serve; default: watchlists.toml beside the "
            "sources file, where there is one)", option=False),
    Setting("feeds", "SOCWATCH_FEEDS", "the folder of the watchlists' Atom feeds (relative: beside the warehouse)", option=False),
    Setting("webhook_timeout_s", "SOCWATCH_WEBHOOK_TIMEOUT_S", "seconds a watchlist's webhook may take to answer", option=False),
    Setting("webhook_attempts", "SOCWATCH_WEBHOOK_ATTEMPTS", "attempts per run at a watchlist's webhook (then at the "
            "next run)", option=False),
    Setting("snapshot", "SOCWATCH_SNAPSHOT", "on: each run publishes the readers' copy beside the warehouse (a clone "
            "where the filesystem shares blocks, else a full copy); off: none is kept, and readers wait while a run "
            "writes", option=False),
)
BY_NAME = {s.name: s for s in SETTINGS}  # tests/test_settings.py checks it names every Settings field


@dataclass(frozen=True)
class Loaded:
    path: Path | None  # the config file read, if any
    values: dict[str, object]  # what it sets


def config_path(flag: Path | None, environ: Mapping[str, str]) -> Path | None:
    if flag is not None:
        return flag
    if environ.get(CONFIG_ENV):
        return Path(environ[CONFIG_ENV])
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None


def _problem(name: str, value: object) -> str | None:
    """Why `value` cannot be the setting `name`, or None."""
    if name == "cron":
        return cron_problem(value)
    if name == "interval" and value <= 0:
        return f"{value!r} must be a number of seconds above 0"
    if name in ("lock_wait_s", "api_keep_s") and value < 0:
        return f"{value!r} must be a number of seconds, 0 or more"
    if name == "webhook_timeout_s" and value <= 0:
        return f"{value!r} must be a number of seconds above 0"
    if name == "webhook_attempts" and value < 1:
        return f"{value!r} must be a number of attempts above 0"
    if name == "batch_size" and value < 1:
        return f"{value!r} must be a number of pages above 0"
    if name == "db_memory":
        return memory_size_problem(value)
    if name == "snapshot" and value not in ("on", "off"):
        return f"{value!r} must be on or off"
    if name == "task_runner" and value not in TASK_RUNNERS:
        return f"{value!r} must be default or dask"
    return None


def read_config(path: Path | None) -> dict[str, object]:
    if path is None:
        return {}
    data = read_toml(path, "config file")
    values = {}
    for key, value in data.items():
        setting = BY_NAME.get(key)
        if setting is None:
            raise ConfigError(f"{path}: unknown key {key!r} (known: {', '.join(BY_NAME)})")
        if key == "snapshot" and isinstance(value, bool):  # `snapshot = false`, as TOML would have it
            value = "on" if value else "off"
        if setting.kind is float and isinstance(value, int | float) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, setting.kind) or isinstance(value, bool):
            raise ConfigError(f"{path}: key {key!r}: {value!r} must be a {_KIND_NAMES[setting.kind]}")
        if problem := _problem(key, value):
            raise ConfigError(f"{path}: key {key!r}: {problem}")
        values[key] = value
    return values


def load(flag: Path | None, environ: Mapping[str, str]) -> Loaded:
    """Read the config file (a bad one raises ConfigError naming the file and the key)."""
    path = config_path(flag, environ)
    return Loaded(path, read_config(path))


def _from_environment(setting: Setting, raw: str) -> object:
    value: object = raw
    if setting.kind is not str:
        try:
            value = setting.kind(raw)
        except ValueError:
            raise ConfigError(f"{setting.env}={raw!r} is not a {_KIND_NAMES[setting.kind]}") from None
    if problem := _problem(setting.name, value):
        raise ConfigError(f"{setting.env}: {problem}")
    return value


def origins(loaded: Loaded, environ: Mapping[str, str]) -> dict[str, str]:
    """Where each setting's value comes from when no flag is given."""
    return {s.name: f"environment {s.env}" if environ.get(s.env) else
            f"config file {loaded.path}" if s.name in loaded.values else "default" for s in SETTINGS}


def resolve(loaded: Loaded, environ: Mapping[str, str], **given: object) -> Settings:
    """The settings of one command: `given` are its options' values as the command line parsed
    them (a flag, else its environment variable, else the file's value: Click's default map),
    the others come from the environment, then the file, then the defaults. A bad value raises
    ConfigError naming the variable or the file's key."""
    values: dict[str, object] = {}
    for s in SETTINGS:
        if s.name in given:
            value = given[s.name]
            values[s.name] = str(value) if isinstance(value, Path) else value
        elif environ.get(s.env):
            values[s.name] = _from_environment(s, environ[s.env])
        elif s.name in loaded.values:
            values[s.name] = loaded.values[s.name]
    return replace(DEFAULTS, **values)


def default_map(loaded: Loaded, commands: dict[str, list[str]]) -> dict[str, dict[str, object]]:
    """Click's default map: for each command, the file's values of the options it has."""
    return {name: {p: loaded.values[p] for p in params if p in loaded.values and BY_NAME[p].option}
            for name, params in commands.items()}


def effective(loaded: Loaded, environ: Mapping[str, str]) -> list[tuple[str, object, str]]:
    """(setting, value, where it came from) for every setting, as a command sees it with no flags;
    a password in a URL (a Prefect server's, say) is shown as ***."""
    resolved, where = resolve(loaded, environ), origins(loaded, environ)
    return [(s.name, redact(getattr(resolved, s.name)), where[s.name]) for s in SETTINGS]


_USERINFO = re.compile(r"(?<=://)([^/@:\s]*):[^/@\s]*@")


def redact(value: object) -> object:
    """`value` with the password of any URL in it replaced by ***."""
    return _USERINFO.sub(r"\1:***@", value) if isinstance(value, str) else value
