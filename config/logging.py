"""JSON logs: one object per line with the request id, tenant, project, player and event ids
where known, so an operator can follow one request from the ingress to the journal."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime

CONTEXT_FIELDS = ("requestId", "tenantId", "projectId", "playerId", "eventIds", "method", "route", "status",
                  "durationMs", "command", "outcome", "shard")  # fmt: skip


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(level: str | None = None) -> None:
    """Send `ludex.*` loggers to stderr as JSON at `LUDEX_LOG_LEVEL` (default INFO). Idempotent."""
    logger = logging.getLogger("ludex")
    logger.setLevel((level or os.environ.get("LUDEX_LOG_LEVEL", "INFO")).upper())
    if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.propagate = False
