"""Ways in: the HTTP app, the worker and the operator CLI, all built from the composition root."""
