from households.tests.fixtures import as_, world  # noqa: F401
