"""Logging for every entrypoint: structlog, JSON in production, readable in development.

Standard-library loggers (uvicorn, SQLAlchemy, the services' own) go through the same
renderer, and the request id bound in context appears on every line.
"""

from __future__ import annotations

import logging
import sys

import structlog

from cpd.settings import Settings

_HANDLER_NAME = "cpd"


def configure_logging(settings: Settings) -> None:
    as_json = settings.log_format == "json" or (
        settings.log_format == "auto" and settings.is_production
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        # Drop lines below the level before any processor runs: the request log line is
        # otherwise built on every request even when nobody will see it.
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    final: list[structlog.types.Processor] = [
        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
    ]
    if as_json:  # JSON needs the traceback as a string; the console renderer formats its own
        final.append(structlog.processors.format_exc_info)
    handler = logging.StreamHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processors=[*final, renderer])
    )
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if h.get_name() != _HANDLER_NAME] + [handler]
    root.setLevel(settings.log_level.upper())
    for noisy in ("uvicorn.access",):  # the request log below replaces it
        logging.getLogger(noisy).handlers[:] = []
        logging.getLogger(noisy).propagate = False
