"""The schema. Core tables (not ORM classes): rows map straight to domain dataclasses.

One module per bounded context, all on one ``metadata``; callers use ``tables.<name>``. A
context's module lists its tables in its ``__all__`` and joins the schema with one line here.
"""

from cpd.adapters.sql.tables.accounts import *  # noqa: F403
from cpd.adapters.sql.tables.base import metadata as metadata
from cpd.adapters.sql.tables.certificates import *  # noqa: F403
from cpd.adapters.sql.tables.events import *  # noqa: F403
from cpd.adapters.sql.tables.learning import *  # noqa: F403
from cpd.adapters.sql.tables.meetings import *  # noqa: F403
from cpd.adapters.sql.tables.messaging import *  # noqa: F403
from cpd.adapters.sql.tables.offline_payments import *  # noqa: F403
from cpd.adapters.sql.tables.platform import *  # noqa: F403
from cpd.adapters.sql.tables.registrations import *  # noqa: F403
