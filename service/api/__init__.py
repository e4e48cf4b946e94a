"""The HTTP routes, one module per concern."""

from service.api import (
    admin,
    analyze,
    classify,
    docs,
    labels,
    page,
    retrain,
    status,
    suggest,
    versions,
)

ROUTERS = (
    classify.router,
    analyze.router,
    status.router,
    admin.router,
    labels.router,
    suggest.router,
    retrain.router,
    versions.router,
    page.router,
    docs.router,
)
