from households.tests.fixtures import world  # noqa: F401
