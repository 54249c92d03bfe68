"""What a serving process does once its application is loaded (server/wsgi.py, server/asgi.py)."""

import gc
from importlib import import_module

from django.conf import settings


def freeze_loaded_code() -> None:
    """The worker's code and configuration live as long as it does. The URLconf imports every
    view, serializer and filterset now rather than on the first request, and gc.freeze()
    moves all of it (about 100,000 objects) out of the collector's reach: a full collection
    scanned them every few requests that build many objects, tens of ms each time (a 500-row
    page's request; docs/performance.md, the ninth session). The collector still runs for
    what requests make."""
    import_module(settings.ROOT_URLCONF)
    gc.freeze()
