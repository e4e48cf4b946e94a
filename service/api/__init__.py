"""The HTTP routes, one module per concern."""

from service.api import admin, classify, status

ROUTERS = (classify.router, status.router, admin.router)
