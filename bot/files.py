"""Removing files once the transaction that forgot them has committed."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable

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
