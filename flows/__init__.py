"""Flows, the CLI and every edge that does I/O (HTTP, WARC, files, schedules).

Prefect is made quiet and offline before it is first imported; a user's own settings win.
"""

import os

for _name, _value in {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
}.items():
    os.environ.setdefault(_name, _value)
