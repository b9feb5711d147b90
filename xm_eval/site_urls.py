"""The site's pages. Included at the root by ``xm_eval.urls``.

``site:`` holds the home page, sign-in and health; the round pages of the
bureau (``rounds:``, under /rounds/) and the result pages (``scoring:``, under
/results/) keep their own namespaces.
"""

from django.urls import include, path

from rounds import urls as round_urls
from scoring import round_urls as scoring_round_urls
from xm_eval import nudge_views, views

site_patterns = (
    [
        path("", views.home, name="home"),
        path("health/", views.health, name="health"),
        path("accounts/login/", views.SignInView.as_view(), name="login"),
        path("accounts/logout/", views.SignOutView.as_view(), name="logout"),
    ],
    "site",
)

urlpatterns = [
    path("", include(site_patterns)),
    # One namespace for the bureau's round pages, wherever their views live.
    path(
        "rounds/",
        include(
            (
                round_urls.urlpatterns
                + scoring_round_urls.urlpatterns
                + [
                    path(
                        "<int:round_id>/remind/<str:audience>/",
                        nudge_views.round_remind,
                        name="remind",
                    )
                ],
                "rounds",
            )
        ),
    ),
    path("results/", include("scoring.urls")),
]
