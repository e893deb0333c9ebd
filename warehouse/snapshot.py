"""The read-only snapshot: a copy of the warehouse for BI tools and readers.

DuckDB lets one process write a file, and a process that reads it holds a lock the writer
has to wait for. So readers that come and go on their own schedule (a BI tool refreshing a
dashboard, an analyst's notebook) are pointed at a copy: `socwatch.snapshot.duckdb` beside
`socwatch.duckdb`. A run that finishes publishes a new copy:

1. CHECKPOINT, so that the database file holds every committed change (no WAL);
2. copy the file to a temporary file beside the snapshot, while this process still holds the
   warehouse's write lock (nothing can change it while it is copied). Where the filesystem
   shares blocks between files (reflinks: XFS, btrfs, bcachefs; ZFS 2.2 and later with block
   cloning on), the copy is a clone: it takes no time and no space until the warehouse's next
   writes, which keep their own blocks, and the disk holds what changed since the last run
   twice, not the whole warehouse. Elsewhere (ext4, tmpfs) it is a byte copy (docs/scaling.md);
3. open the copy once to check it, then rename it over the snapshot (atomic on POSIX).

A reader that has the old snapshot open keeps reading the old file until it reconnects;
a new reader gets the new one. Nobody ever sees a half-loaded batch: only finished runs
are published.
"""

from __future__ import annotations

import glob
import os
import shutil
import sys
from pathlib import Path

import duckdb

SUFFIX = ".snapshot"
# Linux's FICLONE ioctl (fcntl has it from Python 3.12; before, _IOW(0x94, 9, int) as x86 and
# ARM encode it). Where the filesystem cannot share blocks the call fails and the file is copied.
FICLONE_X86_ARM = 0x40049409


def snapshot_path(db: Path | str) -> Path:
    """`socwatch.duckdb` -> `socwatch.snapshot.duckdb` (in the same folder)."""
    db = Path(db)
    return db.with_name(f"{db.stem}{SUFFIX}{db.suffix or '.duckdb'}")


def is_snapshot(db: Path | str) -> bool:
    return Path(db).stem.endswith(SUFFIX)


def publish_snapshot(con: duckdb.DuckDBPyConnection, db: Path | str) -> tuple[Path, str]:
    """Publish the warehouse `db`, open for writing as `con`, as its read-only snapshot: its
    path, and how it was made ("clone" or "copy")."""
    db = Path(db)
    target = snapshot_path(db)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    # Copies left by a process killed while it published: stale, since only the holder of the
    # warehouse's write lock (we) publishes. Each is as large as the warehouse.
    for stale in _partials(target):
        stale.unlink(missing_ok=True)
    con.execute("CHECKPOINT")
    try:
        how = clone_or_copy(db, partial)
        check = duckdb.connect(str(partial), read_only=True)
        try:
            check.execute("SELECT count(*) FROM runs").fetchone()
        finally:
            check.close()
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target, how


def drop_snapshot(db: Path | str) -> None:
    """Remove the snapshot of `db`, and any copy of it left half made (the `snapshot` setting
    off). A reader that has it open keeps reading it until it closes it."""
    target = snapshot_path(db)
    for path in (target, *_partials(target)):
        path.unlink(missing_ok=True)


def _partials(target: Path) -> list[Path]:
    """The half-made copies of the snapshot `target` (publish_snapshot names them)."""
    return list(target.parent.glob(f".{glob.escape(target.name)}.*.partial"))


def try_drop(db: Path | str, logger) -> None:
    """Remove the snapshot (the setting off); a failure to is logged, the run stands."""
    try:
        drop_snapshot(db)
    except OSError as exc:
        logger.warning("could not remove the snapshot of %s (the snapshot setting is off): %s", db, exc)


def try_publish(con: duckdb.DuckDBPyConnection, db: Path | str, logger) -> str | None:
    """Publish the snapshot after a run; a failure to (a full disk, say) is logged, and the
    run's data stays in the warehouse: readers see the previous snapshot until the next run."""
    try:
        target, how = publish_snapshot(con, db)
    except (OSError, duckdb.Error) as exc:
        logger.warning("could not publish the snapshot of %s: %s", db, exc)
        return None
    logger.info("snapshot published (%s): %s", "a clone sharing the warehouse's blocks" if how == "clone" else "a copy", target)
    return str(target)


def clone_or_copy(source: Path, target: Path) -> str:
    """Make `target` a copy of `source`: "clone" where the filesystem shares their blocks (copy
    on write), else "copy" (byte for byte)."""
    if sys.platform.startswith("linux"):
        import fcntl

        with open(source, "rb") as src, open(target, "wb") as dst:
            try:
                fcntl.ioctl(dst.fileno(), getattr(fcntl, "FICLONE", FICLONE_X86_ARM), src.fileno())
                return "clone"
            except OSError:  # EOPNOTSUPP, EXDEV, EINVAL, ENOTTY: this filesystem cannot
                pass
    shutil.copyfile(source, target)
    return "copy"
