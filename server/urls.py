from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularSwaggerView

from server.views import ApiIndexView, ApiNotFoundView, HealthView, SchemaView

api_v1 = [
    path("auth/", include("accounts.urls")),
    path("", include("households.urls")),
    path("", include("budgets.urls")),
    path("", include("transactions.urls")),
    path("admin/", include("budgets.grants.urls")),
]

urlpatterns = [
    # The site's front door (and the admin's "View site" link) leads to the API's docs.
    path("", RedirectView.as_view(pattern_name="docs"), name="home"),
    path("api/", ApiIndexView.as_view(), name="api-index"),
    path("api/v1/", ApiIndexView.as_view(), name="api-v1-index"),
    path("admin/", admin.site.urls),
    path("api/health/", HealthView.as_view(), name="health"),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    # An HTML page: GET and HEAD only. OPTIONS would render DRF's metadata through the
    # page's template renderer, which has no template for it (a 500).
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="schema", http_method_names=["get", "head"]),
        name="docs",
    ),
    path("api/v1/", include(api_v1)),
]

if settings.BENCH_ENDPOINTS:
    urlpatterns.append(path("bench/", include("bench.urls")))

# Last: every other /api/ path is a JSON 404 (Django ignores handler404 with debug on).
urlpatterns.append(re_path(r"^api/", ApiNotFoundView.as_view()))

handler500 = "server.views.server_error"
