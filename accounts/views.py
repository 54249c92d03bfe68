from django.db import transaction
from drf_spectacular.utils import OpenApiExample, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.lockout import attempted_email, login_succeeded, refuse_if_locked_out
from accounts.serializers import (
    LoginSerializer,
    LogoutSerializer,
    MeUpdateSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    RefreshSerializer,
    RegisterSerializer,
    SentToSerializer,
    TokenPairSerializer,
    TokenSerializer,
    UserSerializer,
    VerifiedEmailSerializer,
)
from accounts.throttles import EmailChangeThrottle, EmailSendThrottle
from server.authentication import PublicEndpoint
from server.openapi import DetailSerializer, ErrorResponse401Serializer, document_error_codes
from server.throttling import AuthIPThrottle

document_error_codes(401, "password_changed", "no_active_account")
document_error_codes(429, "locked_out")  # accounts/lockout.py


class _PublicAuthView(APIView):
    authentication_classes = [PublicEndpoint]
    permission_classes = [AllowAny]
    throttle_classes = [AuthIPThrottle]


@extend_validation_errors(["unique"], field_name="email")
class RegisterView(_PublicAuthView):
    @extend_schema(
        summary="Register an account",
        description="Creates an account and sends a link to verify its email; sign in at once with "
        "auth/token/. Emails are unique regardless of case; the password must pass the server's "
        "password validators.",
        request=RegisterSerializer,
        responses={201: UserSerializer},
        auth=[],
        examples=[
            OpenApiExample(
                "A new account",
                value={"email": "erin@example.com", "password": "erin-keeps-books-42", "first_name": "Erin"},
                request_only=True,
            )
        ],
    )
    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_register(**serializer.validated_data)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenView(_PublicAuthView):
    """Failed logins count per (email, IP) and per IP (accounts/lockout.py); past the limit
    the attempt is refused before the password is checked (429 locked_out)."""

    @extend_schema(
        summary="Log in (get a token pair)",
        description="Trades an email and password for a JWT pair: send `access` as "
        "`Authorization: Bearer <access>`, and `refresh` to auth/token/refresh/ when it expires. "
        "Failed logins count per (email, IP) and per IP; past the limit the attempt is refused "
        "with 429 `locked_out` before the password is checked.",
        request=LoginSerializer,
        responses={200: TokenPairSerializer, 401: ErrorResponse401Serializer},
        auth=[],
        examples=[
            OpenApiExample(
                "A demo login",
                value={"email": "alice@example.com", "password": "budget-demo-2025"},
                request_only=True,
            )
        ],
    )
    def post(self, request):
        email = attempted_email(request, None)
        refuse_if_locked_out(request, email)
        serializer = LoginSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        login_succeeded(request, email)
        return Response(serializer.validated_data)


class TokenRefreshView(_PublicAuthView):
    @extend_schema(
        summary="Refresh a token pair",
        description="Trades a refresh token for a new access and refresh token. The refresh token "
        "sent is blacklisted: each one works exactly once.",
        request=RefreshSerializer,
        responses={200: TokenPairSerializer, 401: ErrorResponse401Serializer},
        auth=[],
    )
    def post(self, request):
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(services.token_refresh(**serializer.validated_data))


class LogoutView(APIView):
    """Ends a session by blacklisting its refresh token; the token is the credential,
    so an expired access token does not stop a client from logging out."""

    authentication_classes = [PublicEndpoint]
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Log out",
        description="Ends a session by blacklisting its refresh token. The refresh token is the "
        "credential, so an expired access token does not stop a client from logging out.",
        request=LogoutSerializer,
        responses={204: None, 401: ErrorResponse401Serializer},
        auth=[],
    )
    def post(self, request):
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.refresh_token_spend(token=serializer.validated_data["token"], user=None)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_validation_errors(["unique"], field_name="email", methods=["patch"])
@extend_validation_errors(["required", "wrong_password"], field_name="current_password", methods=["patch"])
class MeView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = [*APIView.throttle_classes, EmailChangeThrottle]

    @extend_schema(
        summary="Get my profile",
        description="The signed-in account: names, email, whether it is verified, and the new "
        "address waiting for confirmation, if any (`pending_email`).",
        responses={200: UserSerializer},
    )
    def get(self, request):
        return Response(UserSerializer(request.user).data)

    @extend_schema(
        summary="Update my profile",
        request=MeUpdateSerializer,
        responses={200: UserSerializer},
        description="Names change at once. A new `email` needs `current_password`; it shows as "
        "`pending_email` and replaces `email` only once the link sent to it is confirmed "
        "(POST auth/email/verify/). The current address is told of the request.",
    )
    def patch(self, request):
        serializer = MeUpdateSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        new_email = data.pop("email", None)
        with transaction.atomic():
            user = services.user_update(user=request.user, **data) if data else request.user
            if new_email is not None:
                user = services.email_change_request(user=user, new_email=new_email)
        return Response(UserSerializer(user).data)


@extend_validation_errors(["wrong_password"], field_name="old_password")
class PasswordChangeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Change my password",
        description="Needs the current password. Every access and refresh token issued before is "
        "rejected afterwards; the answer carries a fresh pair for this client.",
        request=PasswordChangeSerializer,
        responses={200: TokenPairSerializer},
    )
    def post(self, request):
        serializer = PasswordChangeSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        tokens = services.user_password_change(
            user=request.user, new_password=serializer.validated_data["new_password"]
        )
        return Response(tokens)


@extend_validation_errors(["token_invalid", "token_expired", "token_used", "email_taken"], field_name="token")
class EmailVerifyView(_PublicAuthView):
    """The token from a verification email. No sign-in needed: the token proves the mailbox."""

    @extend_schema(
        summary="Verify an email address",
        description="Takes the token from a verification email (the welcome email, or a change of "
        "email) and marks the address verified. No sign-in needed: the token proves the mailbox.",
        request=TokenSerializer,
        responses={200: VerifiedEmailSerializer},
        auth=[],
    )
    def post(self, request):
        serializer = TokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.email_verify(token=serializer.validated_data["token"])
        return Response(VerifiedEmailSerializer(user).data)


@extend_validation_errors(["already_verified"], field_name="email")
class EmailVerifyResendView(APIView):
    """Sends the verification link again: to a pending new address, else to the account's
    own unverified one. THROTTLE_RATE_EMAIL per account."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [*APIView.throttle_classes, EmailSendThrottle]

    @extend_schema(
        summary="Resend the verification email",
        description="Sends the verification link again: to a pending new address, else to the "
        "account's own unverified one (400 `already_verified` when there is neither). Throttled "
        "per account (THROTTLE_RATE_EMAIL).",
        request=None,
        responses={202: SentToSerializer},
    )
    def post(self, request):
        address = services.email_verification_resend(user=request.user)
        return Response({"email": address}, status=status.HTTP_202_ACCEPTED)


PASSWORD_RESET_ANSWER = "If an account uses this address, a link to reset its password is on its way."


class PasswordResetView(_PublicAuthView):
    """Always 202 with the same body, whether or not an account uses the address: the
    lookup and the message happen after the answer (server/mail.py)."""

    @extend_schema(
        summary="Request a password reset",
        description="Emails a reset link to the address if an account uses it. Always 202 with the "
        "same body, whether or not one does: the lookup and the message happen after the answer.",
        request=PasswordResetSerializer,
        responses={202: DetailSerializer},
        auth=[],
    )
    def post(self, request):
        serializer = PasswordResetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_request(email=serializer.validated_data["email"])
        return Response({"detail": PASSWORD_RESET_ANSWER}, status=status.HTTP_202_ACCEPTED)


@extend_validation_errors(["token_invalid", "token_expired", "token_used"], field_name="token")
class PasswordResetConfirmView(_PublicAuthView):
    """Sets the new password; every access and refresh token issued before stops working."""

    @extend_schema(
        summary="Reset a password",
        description="Sets a new password with the token from a reset email (valid once, for "
        "PASSWORD_RESET_TTL_MINUTES). Every access and refresh token issued before stops working.",
        request=PasswordResetConfirmSerializer,
        responses={204: None},
        auth=[],
    )
    def post(self, request):
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_confirm(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)
