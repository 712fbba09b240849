from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("signin/", views.signin, name="signin"),
    path("signout/", views.signout, name="signout"),
    path("media/upload/", views.upload_image, name="upload"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/profile/", views.settings_profile, name="settings_profile"),
    path("settings/avatar/", views.settings_avatar, name="settings_avatar"),
    path("settings/email/", views.settings_email, name="settings_email"),
    path("settings/password/", views.settings_password, name="settings_password"),
    path("settings/sessions/", views.settings_sign_out_everywhere, name="settings_sessions"),
    path("settings/delete/", views.settings_delete, name="settings_delete"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", views.PasswordResetSentView.as_view(), name="password_reset_sent"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password-reset/done/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]
