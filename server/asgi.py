import os

from django.core.asgi import get_asgi_application

from server.startup import freeze_loaded_code

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

application = get_asgi_application()
freeze_loaded_code()
