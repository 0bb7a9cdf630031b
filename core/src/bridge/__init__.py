"""bridge: link a merchant's eCommerce store to their TikTok Shop stores and keep them in step."""

__version__ = "0.1.0"

from bridge.hookspecs import hookimpl  # noqa: E402

__all__ = ["__version__", "hookimpl"]
