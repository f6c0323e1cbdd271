"""Look facts up in a user's Prefect workspace (read-only). See `base.py` for the interface."""
