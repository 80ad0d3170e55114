from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, UserCreationForm


class LoginForm(AuthenticationForm):
    pass


class SignupForm(UserCreationForm):
    pass


class StyledPasswordChangeForm(PasswordChangeForm):
    pass
