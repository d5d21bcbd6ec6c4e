import pytest


@pytest.fixture(autouse=True)
def forget_process_state():
    from authtokens import jws, keys, limits, usage
    from authtokens.store import reset_stores

    reset_stores()
    keys.clear_key_ring_cache(setting="AUTHTOKENS")
    jws.parse_header.cache_clear()
    limits.reset()
    usage.reset()
