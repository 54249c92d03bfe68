from drf_spectacular.utils import extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.serializers import (
    LoginSerializer,
    LogoutSerializer,
    MeUpdateSerializer,
    PasswordChangeSerializer,
    RefreshSerializer,
    RegisterSerializer,
    TokenPairSerializer,
    UserSerializer,
)
from server.authentication import PublicEndpoint
from server.openapi import ErrorResponse401Serializer
from server.throttling import AuthEmailThrottle, AuthIPThrottle


class _PublicAuthView(APIView):
    authentication_classes = [PublicEndpoint]
    permission_classes = [AllowAny]
    throttle_classes = [AuthIPThrottle]


@extend_validation_errors(["unique"], field_name="email")
class RegisterView(_PublicAuthView):
    @extend_schema(request=RegisterSerializer, responses={201: UserSerializer}, auth=[])
    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_register(**serializer.validated_data)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenView(_PublicAuthView):
    throttle_classes = [AuthIPThrottle, AuthEmailThrottle]

    @extend_schema(
        request=LoginSerializer,
        responses={200: TokenPairSerializer, 401: ErrorResponse401Serializer},
        auth=[],
    )
    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


class TokenRefreshView(_PublicAuthView):
    @extend_schema(
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

    @extend_schema(request=LogoutSerializer, responses={204: None, 401: ErrorResponse401Serializer}, auth=[])
    def post(self, request):
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.refresh_token_spend(token=serializer.validated_data["token"], user=None)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_validation_errors(["unique"], field_name="email", methods=["patch"])
class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: UserSerializer})
    def get(self, request):
        return Response(UserSerializer(request.user).data)

    @extend_schema(request=MeUpdateSerializer, responses={200: UserSerializer})
    def patch(self, request):
        serializer = MeUpdateSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.user_update(user=request.user, **serializer.validated_data)
        return Response(UserSerializer(user).data)


@extend_validation_errors(["wrong_password"], field_name="old_password")
class PasswordChangeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=PasswordChangeSerializer, responses={200: TokenPairSerializer})
    def post(self, request):
        serializer = PasswordChangeSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        tokens = services.user_password_change(
            user=request.user, new_password=serializer.validated_data["new_password"]
        )
        return Response(tokens)
