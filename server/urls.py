from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

# Swagger UI's split view loads its start-up script from a URL instead of inline, and its
# page's style from a file: both as the Content-Security-Policy requires.
api_docs = SpectacularSwaggerSplitView.as_view(
    url_name="schema", template_name="web/swagger_ui.html"
)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", api_docs, name="api-docs"),
    path("api/", include("server.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("server.web.urls")),
]

handler403 = "server.web.errors.permission_denied"
handler404 = "server.web.errors.page_not_found"
handler500 = "server.web.errors.server_error"
