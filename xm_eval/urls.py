from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("xm_eval — school quality assessment")
admin.site.site_title = _("xm_eval")
admin.site.index_title = _("Data maintenance")

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", include("xm_eval.api_urls")),
    path("sheets/", include("scoring.sheet_urls")),
    path("evidence/", include("rounds.evidence_urls")),
    path("reports/", include("reports.urls")),
    path("notice/", include("publication.urls")),
    path("rectification/", include("rectification.urls")),
    path("incentives/", include("incentives.urls")),
    path("supervision/", include("supervision.urls")),
    path("history/", include("publication.history_urls")),
    path("", include("xm_eval.site_urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.STATIC_URL, document_root=settings.STATIC_ROOT)
