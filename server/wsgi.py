import os

from django.core.wsgi import get_wsgi_application

from server.startup import freeze_loaded_code

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

application = get_wsgi_application()
freeze_loaded_code()
