from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import Value
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.models import User, normalise_email
from server.fields import StrictCharField, StrictEmailField


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "date_joined"]
        read_only_fields = ["id", "date_joined"]


class UserSummarySerializer(serializers.ModelSerializer):
    """A person as other members see them."""

    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name"]
        read_only_fields = fields


def _validate_free_email(value: str, *, exclude_pk=None) -> str:
    """Compared as the unique constraint compares, with the database's lower()."""
    email = normalise_email(value)
    taken = User.objects.alias(folded=Lower("email")).filter(folded=Lower(Value(email)))
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise serializers.ValidationError(_("A user with this email already exists."), code="unique")
    return email


class RegisterSerializer(serializers.Serializer):
    email = StrictEmailField(max_length=254)
    password = StrictCharField(write_only=True, max_length=128, style={"input_type": "password"})
    first_name = StrictCharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = StrictCharField(max_length=150, required=False, allow_blank=True, default="")

    def validate_email(self, value):
        return _validate_free_email(value)

    def validate(self, attrs):
        candidate = User(email=attrs["email"], first_name=attrs["first_name"], last_name=attrs["last_name"])
        try:
            password_validation.validate_password(attrs["password"], candidate)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from None
        return attrs


class MeUpdateSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.EmailField: StrictEmailField,
    }

    class Meta:
        model = User
        fields = ["email", "first_name", "last_name"]

    def validate_email(self, value):
        return _validate_free_email(value, exclude_pk=self.instance.pk)


class PasswordChangeSerializer(serializers.Serializer):
    old_password = StrictCharField(write_only=True, max_length=128)
    new_password = StrictCharField(write_only=True, max_length=128)

    def validate_old_password(self, value):
        if not self.context["request"].user.check_password(value):
            raise serializers.ValidationError(_("The current password is wrong."), code="wrong_password")
        return value

    def validate_new_password(self, value):
        try:
            password_validation.validate_password(value, self.context["request"].user)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(list(exc.messages)) from None
        return value


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(read_only=True)
    refresh = serializers.CharField(read_only=True)


class LoginSerializer(TokenObtainPairSerializer):
    """email + password -> {access, refresh}. Unknown email and wrong password
    fail identically (401 "no_active_account")."""

    default_error_messages = {
        "no_active_account": _("No active account found with the given email and password.")
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[self.username_field] = StrictCharField(write_only=True)
        self.fields["password"] = StrictCharField(
            write_only=True, trim_whitespace=False, style={"input_type": "password"}
        )

    def validate(self, attrs):
        data = super().validate(attrs)
        return {"access": data["access"], "refresh": data["refresh"]}


class RefreshSerializer(serializers.Serializer):
    """simplejwt's refresh, fixed: a deleted user is a 401 (not a 500), and a token
    issued before a password change is refused."""

    refresh = StrictCharField(write_only=True)

    def validate(self, attrs):
        from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

        try:
            refresh = RefreshToken(attrs["refresh"])
        except TokenError as exc:
            raise InvalidToken(exc.args[0]) from None
        user = (
            get_user_model()
            .objects.filter(**{jwt_settings.USER_ID_FIELD: refresh.payload.get(jwt_settings.USER_ID_CLAIM)})
            .first()
        )
        if user is None or not jwt_settings.USER_AUTHENTICATION_RULE(user):
            raise AuthenticationFailed(
                _("No active account found for the given token."), code="no_active_account"
            )
        if refresh.payload.get(jwt_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
            raise AuthenticationFailed(_("The user's password has been changed."), code="password_changed")
        return {"token": refresh, "user": user}


class LogoutSerializer(serializers.Serializer):
    refresh = StrictCharField(write_only=True)

    def validate(self, attrs):
        from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

        try:
            refresh = RefreshToken(attrs["refresh"])
        except TokenError as exc:
            raise InvalidToken(exc.args[0]) from None
        return {"token": refresh}
