from django.urls import path

from accounts import api

# Mounted at /api/v1/user/; no trailing slashes, as in the original app's routes.
urlpatterns = [
    path("signup", api.SignUpView.as_view(), name="api-signup"),
    path("signin", api.SignInView.as_view(), name="api-signin"),
    path("refresh", api.RefreshView.as_view(), name="api-refresh"),
    path("signout", api.SignOutView.as_view(), name="api-signout"),
    path("me", api.MeView.as_view(), name="api-me"),
]
