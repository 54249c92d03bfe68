"""The leak matrix's world, walked by cursor (?cursor= on the transaction list, a query
parameter the route matrix does not vary): every signed-in actor walks the list one row a
page, and no page holds a marker the actor is not entitled to; a cursor handed from one
actor to another is refused, and its answer holds no marker either."""

from urllib.parse import urlsplit

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from server.tests.leak_world import module_world
from server.tests.world import EDITOR, MEMBER, OWNER, STAFF, STRANGER, VIEWER

pytestmark = pytest.mark.django_db

SIGNED_IN = (OWNER, EDITOR, VIEWER, MEMBER, STRANGER, STAFF)
LIST = "/api/v1/transactions/"


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    yield from module_world(django_db_blocker)


def client(world, actor: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(world.users[actor])}")
    return api


def walk(world, actor: str, ordering: str) -> tuple[list[bytes], list[str]]:
    api, bodies, nexts = client(world, actor), [], []
    url = f"{LIST}?cursor=start&limit=1&ordering={ordering}"
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content[:300]
        bodies.append(response.content)
        nxt = response.json()["next"]
        if nxt:
            nexts.append("{0.path}?{0.query}".format(urlsplit(nxt)))
        url = nexts[-1] if nxt else None
    return bodies, nexts


@pytest.mark.parametrize("ordering", ["", "amount", "-created_at"])
@pytest.mark.parametrize("actor", SIGNED_IN)
def test_a_walk_shows_each_actor_only_their_rows(world, actor, ordering):
    bodies, _ = walk(world, actor, ordering)
    for body in bodies:
        assert not world.leaks(actor, body), world.leaks(actor, body)


@pytest.mark.parametrize("actor", SIGNED_IN)
def test_a_cursor_from_another_actor_is_refused_and_shows_nothing(world, actor):
    _, owner_nexts = walk(world, OWNER, "")
    assert owner_nexts, "the owner's walk should take more than one page"
    for url in owner_nexts:
        response = client(world, actor).get(url)
        if actor == OWNER:
            assert response.status_code == 200
            continue
        assert response.status_code == 400, response.content[:300]
        assert response.json()["errors"][0]["attr"] == "cursor"
        assert not world.leaks(actor, response.content, url)
