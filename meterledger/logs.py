"""Log output: readable lines for a terminal, or one JSON object per line for a collector.

The JSON form is a dozen lines on top of the standard library, so it is ours rather than a
dependency: ``{"ts": …, "level": …, "logger": …, "message": …}`` plus ``exc`` on errors.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Literal

import orjson

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


def configure(level: int, style: Literal["text", "json"]) -> None:
    """Send logs to stderr in ``style``; quieten libraries whose INFO is their internals."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if style == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)  # we log device errors ourselves
    logging.getLogger("pgserver").setLevel(logging.WARNING)  # pg_ctl transcripts
