"""Messaging: the emails the platform sends, the communication log, notifications."""
