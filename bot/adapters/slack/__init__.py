"""The Slack adapter: slack-bolt listeners, Block Kit rendering and the HTTP/Socket Mode server."""
