"""JSON logs: one object per line with the request id, tenant, project, player and event ids
where known, so an operator can follow one request from the ingress to the journal."""

from __future__ import annotations

import atexit
import json
import logging
import sys
import threading
import time
from datetime import UTC, datetime
from typing import TextIO

from config.settings import Settings

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


class BatchingStreamHandler(logging.Handler):
    """Formats each line in the caller and writes lines in batches, at most `flush_interval_s`
    late: Ray makes a worker's stderr unbuffered, so one write per access line would cost a
    system call on every request. Warnings and errors, and a full batch, are written at once."""

    def __init__(self, stream: TextIO, *, flush_interval_s: float = 0.2, max_lines: int = 1000) -> None:
        super().__init__()
        self.stream = stream
        self.flush_interval_s = flush_interval_s
        self.max_lines = max_lines
        self._lines: list[str] = []
        self._pending = threading.Lock()
        self._writing = threading.Lock()  # keeps batches in order
        threading.Thread(target=self._flush_forever, name="ludex-log-flush", daemon=True).start()
        atexit.register(self.flush)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # noqa: BLE001 - logging must never fail the caller
            self.handleError(record)
            return
        with self._pending:
            self._lines.append(line)
            full = len(self._lines) >= self.max_lines
        if full or record.levelno >= logging.WARNING:
            self.flush()

    def flush(self) -> None:
        with self._writing:
            with self._pending:
                lines, self._lines = self._lines, []
            if lines:
                try:
                    self.stream.write("\n".join(lines) + "\n")
                    self.stream.flush()
                except (OSError, ValueError):  # a closed stream at exit
                    pass

    def _flush_forever(self) -> None:
        while True:
            time.sleep(self.flush_interval_s)
            self.flush()


def configure_logging(level: str | None = None) -> None:
    """Send `ludex.*` loggers to stderr as JSON at `LUDEX_LOG_LEVEL` (default INFO). Idempotent."""
    logger = logging.getLogger("ludex")
    logger.setLevel((level or Settings().log_level).upper())
    if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        handler = BatchingStreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.propagate = False
