from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views
from accounts.forms import LoginForm, StyledPasswordChangeForm
from config.faults import throttle

# Each attempt costs a password hash, so each client address gets only so many a minute.
login_view = throttle(
    "login", rate_setting="LOGIN_RATE", message="Too many login attempts from your address."
)(auth_views.LoginView.as_view(authentication_form=LoginForm, redirect_authenticated_user=True))
password_change_view = throttle(
    "password", rate_setting="PASSWORD_RATE",
    message="Too many password changes from your address.",
)(auth_views.PasswordChangeView.as_view(form_class=StyledPasswordChangeForm))

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
]
