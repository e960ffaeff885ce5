"""Logging for every entrypoint: structlog, JSON in production, readable in development.

Standard-library loggers (uvicorn, granian, SAQ, SQLAlchemy, the services' own) go through the
same renderer, and the request id bound in context appears on every line. Tracebacks never
show local variables: a frame's locals hold settings, credentials and tokens.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from cpd.settings import Settings

_HANDLER_NAME = "cpd"
_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def logs_as_json(settings: Settings) -> bool:
    return settings.log_format == "json" or (
        settings.log_format == "auto" and settings.is_production
    )


def log_formatter(as_json: bool) -> logging.Formatter:
    """The one formatter of every handler; a factory so that a dictConfig (granian's, in each
    of its worker processes) can name it."""
    renderer: structlog.types.Processor
    final: list[structlog.types.Processor] = [
        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
    ]
    if as_json:  # JSON needs the traceback as a string (format_exc_info shows no locals)
        final.append(structlog.processors.format_exc_info)
        renderer = structlog.processors.JSONRenderer()
    else:
        colors = sys.stderr.isatty()
        tracebacks = structlog.dev.RichTracebackFormatter(
            show_locals=False, color_system="truecolor" if colors else None
        )
        renderer = structlog.dev.ConsoleRenderer(colors=colors, exception_formatter=tracebacks)
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED, processors=[*final, renderer]
    )


def configure_logging(settings: Settings) -> None:
    structlog.configure(
        # Drop lines below the level before any processor runs: the request log line is
        # otherwise built on every request even when nobody will see it.
        processors=[
            structlog.stdlib.filter_by_level,
            *_SHARED,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler()
    handler.setFormatter(log_formatter(logs_as_json(settings)))
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if h.get_name() != _HANDLER_NAME] + [handler]
    level = logging.getLevelName(settings.log_level.upper())
    root.setLevel(level)
    for noisy in ("uvicorn.access",):  # the request log below replaces it
        logging.getLogger(noisy).handlers[:] = []
        logging.getLogger(noisy).propagate = False
    saq = logging.getLogger("saq")
    saq.filters[:] = [SaqChatterToDebug(level)]


class SaqChatterToDebug(logging.Filter):
    """SAQ logs every poll, schedule, enqueue, start and finish at info, and a failing job's
    traceback at error; the task's own log line (``task_logging``) already says what matters.
    Those become debug lines, shown only when the level is debug; SAQ's warnings stay."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self._level = level

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno <= logging.INFO or str(record.msg).startswith("Error processing job"):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            record.exc_info = record.exc_text = None  # the task log has the traceback
        return record.levelno >= self._level


def granian_log_config(settings: Settings) -> dict[str, Any]:
    """granian's own loggers (server start, workers, access) through the same formatter."""
    handler = {"class": "logging.StreamHandler", "formatter": "cpd"}
    level = settings.log_level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "cpd": {"()": f"{__name__}.log_formatter", "as_json": logs_as_json(settings)}
        },
        "handlers": {"cpd": handler},
        "loggers": {
            name: {"handlers": ["cpd"], "level": level, "propagate": False}
            for name in ("_granian", "granian.access")
        },
    }
