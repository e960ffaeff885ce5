"""PostgreSQL fixtures (placeholder until the throwaway-server fixture lands)."""
