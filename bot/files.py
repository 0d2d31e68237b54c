"""The media files Kibaru keeps: written so that a power cut cannot leave a name the database
knows over missing data, and removed once the transaction that forgot them has committed."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)


def remove_files(paths: Iterable[str]) -> None:
    """Delete media files (a dropped draft, /effacer); one already gone is not an error."""
    for path in paths:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
        except OSError as error:
            log.warning("could not delete a media file: %s", type(error).__name__)


def partial_path(final: Path) -> Path:
    """Where a file is written until it is whole: never a name the database knows."""
    return final.with_name(final.name + ".part")


def make_durable(partial: Path, final: Path) -> None:
    """Flush a finished file to the disk, then give it its final name, then flush the folder.

    The database records `final` only after this: without it, a power cut (common where
    Kibaru runs) can keep the committed record and lose the file's data, which the operating
    system had only in memory, and nobody would fetch the file again.
    """
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, final)
    # the rename itself lives in the folder; some file systems cannot flush one (not fatal)
    with contextlib.suppress(OSError):
        folder = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
