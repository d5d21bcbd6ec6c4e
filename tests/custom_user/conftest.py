import pytest
from django_redis import get_redis_connection


@pytest.fixture(autouse=True)
def empty_redis():
    client = get_redis_connection("default")
    client.flushdb()
    client.set("{authtokens}:v1:warm:", client.info("server")["run_id"])
