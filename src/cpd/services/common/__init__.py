"""What every context's services share: access checks, batching, idempotent requests, slugs."""
