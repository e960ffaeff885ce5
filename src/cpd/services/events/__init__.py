"""Events: events and sessions, attendance, the catalog, meetings."""
