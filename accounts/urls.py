from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views
from accounts.forms import (
    LoginForm,
    StyledPasswordChangeForm,
    StyledPasswordResetForm,
    StyledSetPasswordForm,
)
from config.faults import throttle

# Each attempt costs a password hash, so each client address gets only so many a minute.
login_view = throttle(
    "login", rate_setting="LOGIN_RATE", message="Too many login attempts from your address."
)(auth_views.LoginView.as_view(authentication_form=LoginForm, redirect_authenticated_user=True))
password_change_view = throttle(
    "password", rate_setting="PASSWORD_RATE",
    message="Too many password changes from your address.",
)(auth_views.PasswordChangeView.as_view(form_class=StyledPasswordChangeForm))
# Each request sends an e-mail: limited per address too.
password_reset_view = throttle(
    "password-reset", rate_setting="PASSWORD_RATE",
    message="Too many password-reset requests from your address.",
)(auth_views.PasswordResetView.as_view(form_class=StyledPasswordResetForm))

urlpatterns = [
    path("login/", login_view, name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signup/", views.signup, name="signup"),
    path("password/", password_change_view, name="password_change"),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    # Django's views answer an unknown address exactly as a known one, so the form cannot be
    # used to find out who has an account.
    path(
        "password/reset/",
        password_reset_view,
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(form_class=StyledSetPasswordForm),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
