"""The dashboard: server-rendered pages over the same use cases and rights as the API."""

from api.ui.routes import router

__all__ = ["router"]
