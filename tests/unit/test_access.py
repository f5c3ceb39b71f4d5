"""domain/access.py: submit implies read, "*" is any identified caller, a missing list is empty,
the empty platform is the default one, and a platform without a table is open."""

import pytest
from polysync_batch.domain import errors
from polysync_batch.domain.access import AccessPolicy, Action, PlatformAccess

POLICY = AccessPolicy(
    {
        "prod": PlatformAccess.of(read=["dashboard"], submit=["scheduler"]),
        "shared": PlatformAccess.of(read=["*"], submit=[]),
        "locked": PlatformAccess.of(read=[], submit=[]),
    },
    default_platform="prod",
)


@pytest.mark.parametrize(
    "caller,platform,action,allowed",
    [
        ("scheduler", "prod", Action.SUBMIT, True),
        ("scheduler", "prod", Action.READ, True),  # submit implies read
        ("dashboard", "prod", Action.READ, True),
        ("dashboard", "prod", Action.SUBMIT, False),
        ("dashboard", "", Action.SUBMIT, False),  # empty = the default platform
        ("stranger", "prod", Action.READ, False),
        ("stranger", "shared", Action.READ, True),  # "*"
        ("stranger", "shared", Action.SUBMIT, False),  # submit not given: empty
        ("scheduler", "locked", Action.READ, False),
        ("anyone", "open", Action.SUBMIT, True),  # no table: every identified caller
    ],
)
def test_access(caller, platform, action, allowed):
    if allowed:
        POLICY.check(caller, platform, action)
        return
    with pytest.raises(errors.PermissionDenied) as raised:
        POLICY.check(caller, platform, action)
    assert raised.value.reason == "CALLER_NOT_ALLOWED"
    assert raised.value.metadata == {"caller": caller, "platform": platform or "prod"}
