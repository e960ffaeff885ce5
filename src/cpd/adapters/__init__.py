"""Implementations of the ports: SQL, memory, crypto, tokens, mail, queues."""
