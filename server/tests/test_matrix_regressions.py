"""Defects the leak matrix (test_leak_matrix.py) found, each pinned by a test of its own."""

import pytest
from rest_framework.test import APIClient

from server.tests.helpers import assert_error

pytestmark = pytest.mark.django_db


def test_docs_page_answers_options_with_the_standard_405_not_a_500():
    """OPTIONS /api/docs/ rendered DRF's metadata through the Swagger page's HTML template
    renderer, which has no template for it: a 500. The page is GET and HEAD only."""
    response = APIClient().options("/api/docs/")
    assert_error(response, 405, "method_not_allowed")
    assert response["Content-Type"] == "application/json"
    assert response["Allow"] == "GET, HEAD"


@pytest.mark.parametrize("method", ["get", "head"])
def test_docs_page_still_serves_get_and_head(method):
    response = getattr(APIClient(), method)("/api/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
