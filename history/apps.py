from django.apps import AppConfig


class HistoryConfig(AppConfig):
    name = "history"
    verbose_name = "Change history"

    def ready(self):
        from django.db.backends.signals import connection_created

        from history.context import install_on_connection

        connection_created.connect(install_on_connection, dispatch_uid="history.install_on_connection")
