"""The LOGGING setting prints each record once: under `make run` (DEBUG) every 404's
"Not Found" line came out twice, from Django's own console handler on the "django" logger
and again from the root's."""

import copy
import io
import logging
import sys

import pytest
from django.conf import settings
from django.utils.log import configure_logging


@pytest.fixture
def printed(monkeypatch, settings):
    """Configures logging from LOGGING as django.setup() does, with DEBUG on, and returns
    what its handlers write; the suite's own configuration is restored afterwards."""
    settings.DEBUG = True  # Django's console handler (require_debug_true) would print
    stream = io.StringIO()

    def configure(config=None):
        # In the test's body: pytest's capture resets sys.stderr between setup and call.
        monkeypatch.setattr(sys, "stderr", stream)  # each StreamHandler binds it when built
        configure_logging(settings.LOGGING_CONFIG, config or settings.LOGGING)
        return stream

    yield configure
    monkeypatch.undo()
    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)


def test_each_django_record_is_printed_once(printed):
    stream = printed()

    logging.getLogger("django.request").warning("Not Found: /api/nope/")
    logging.getLogger("django.security.DisallowedHost").error("Invalid HTTP_HOST header: 'evil'")
    logging.getLogger("django.server").info('"GET /api/health/ HTTP/1.1" 200 31')
    logging.getLogger("accounts").info("an app's own line")

    lines = stream.getvalue().splitlines()
    assert lines.count("Not Found: /api/nope/") == 1
    assert lines.count("Invalid HTTP_HOST header: 'evil'") == 1
    (request_line,) = [line for line in lines if line.endswith('"GET /api/health/ HTTP/1.1" 200 31')]
    assert request_line.startswith("[")  # runserver's own format, with the time
    assert lines.count("an app's own line") == 1
    assert len(lines) == 4


def test_log_level_also_rules_djangos_loggers(printed):
    config = copy.deepcopy(settings.LOGGING)
    config["root"]["level"] = "WARNING"
    stream = printed(config)

    logging.getLogger("django.template").info("an INFO line from Django")
    logging.getLogger("django.request").warning("Not Found: /api/nope/")

    assert stream.getvalue().splitlines() == ["Not Found: /api/nope/"]
