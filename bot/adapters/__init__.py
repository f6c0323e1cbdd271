"""Adapters: translate between a transport (terminal, Slack) and the core."""
