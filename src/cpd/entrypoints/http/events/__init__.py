"""Events over HTTP: events, sessions, attendance, the public catalog."""
