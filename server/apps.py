from django.apps import AppConfig


class ServerConfig(AppConfig):
    """The project's own wiring (no models): what every database connection gets."""

    name = "server"

    def ready(self):
        from django.db.backends.signals import connection_created

        from server.database import use_fast_timestamps

        connection_created.connect(use_fast_timestamps, dispatch_uid="server.use_fast_timestamps")
