"""bridge plugin for TikTok Shop (Open API 202309 family): connector, API client and sandbox."""

__version__ = "0.1.0"
