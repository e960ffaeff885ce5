"""Messaging over HTTP: the communication log, notifications, preferences."""
