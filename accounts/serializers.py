from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.models import User, normalise_email
from accounts.services import email_is_taken
from server.fields import StrictCharField, StrictEmailField


class UserSerializer(serializers.ModelSerializer):
    """The account as its owner sees it. ``pending_email``: a new address waiting for its
    confirmation link (null when none); ``email`` changes only once it is confirmed."""

    email_verified = serializers.BooleanField(read_only=True)
    pending_email = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "email", "email_verified", "pending_email", "first_name", "last_name", "date_joined"]
        read_only_fields = fields

    @extend_schema_field(serializers.EmailField(allow_null=True))
    def get_pending_email(self, user) -> str | None:
        return user.pending_email or None


class UserSummarySerializer(serializers.ModelSerializer):
    """A person as other members see them."""

    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name"]
        read_only_fields = fields


def _validate_free_email(value: str, *, exclude_pk=None) -> str:
    email = normalise_email(value)
    if email_is_taken(email, exclude_pk=exclude_pk):
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


class MeUpdateSerializer(serializers.Serializer):
    """Names change at once. A new ``email`` needs ``current_password`` and lands only when
    the new mailbox confirms it (``pending_email`` until then)."""

    email = StrictEmailField(max_length=254, required=False)
    current_password = StrictCharField(
        write_only=True,
        required=False,
        max_length=128,
        trim_whitespace=False,
        style={"input_type": "password"},
    )
    first_name = StrictCharField(max_length=150, required=False, allow_blank=True)
    last_name = StrictCharField(max_length=150, required=False, allow_blank=True)

    def validate_email(self, value):
        return _validate_free_email(value, exclude_pk=self.instance.pk)

    def validate(self, attrs):
        changes_email = "email" in attrs and attrs["email"] != self.instance.email
        password = attrs.pop("current_password", None)
        if changes_email:
            if password is None:
                raise serializers.ValidationError(
                    {"current_password": [_("Send your current password to change your email.")]},
                    code="required",
                )
            if not self.instance.check_password(password):
                raise serializers.ValidationError(
                    {"current_password": [_("The current password is wrong.")]}, code="wrong_password"
                )
        return attrs


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


class TokenSerializer(serializers.Serializer):
    token = StrictCharField(max_length=1000, trim_whitespace=True)


class PasswordResetSerializer(serializers.Serializer):
    email = StrictEmailField(max_length=254)


class PasswordResetConfirmSerializer(serializers.Serializer):
    token = StrictCharField(max_length=1000)
    new_password = StrictCharField(write_only=True, max_length=128, trim_whitespace=False)


class VerifiedEmailSerializer(serializers.ModelSerializer):
    email_verified = serializers.BooleanField(read_only=True)

    class Meta:
        model = User
        fields = ["email", "email_verified"]
        read_only_fields = fields


class SentToSerializer(serializers.Serializer):
    email = serializers.EmailField(read_only=True, help_text="Where the link went.")
