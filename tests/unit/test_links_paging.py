from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from polysync_batch.domain import links, paging, requests
from polysync_batch.domain.errors import InvalidArgument


def test_job_console_url_is_the_seed_format():
    assert (
        links.job_console_url("eu-west-1", "abc-123")
        == "https://eu-west-1.console.aws.amazon.com/batch/home?region=eu-west-1#jobs/detail/abc-123"
    )


def test_partitions_use_their_own_console_domains():
    assert links.job_console_url("cn-north-1", "j").startswith("https://cn-north-1.console.amazonaws.cn/batch/")
    assert links.job_console_url("us-gov-west-1", "j").startswith("https://console.amazonaws-us-gov.com/batch/")
    assert links.job_console_url("eu-west-1", "j", "console.example.com").startswith("https://console.example.com/")


def test_log_stream_url_escapes_like_the_cloudwatch_console():
    url = links.log_stream_console_url("us-east-1", "/aws/batch/job", "hello/default/abc")
    assert url == (
        "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1"
        "#logsV2:log-groups/log-group/$252Faws$252Fbatch$252Fjob/log-events/hello$252Fdefault$252Fabc"
    )


def test_page_tokens_round_trip_and_are_bound_to_filters():
    token = paging.encode({"after": "b"}, {"prefix": "x"})
    assert paging.decode(token, {"prefix": "x"}) == {"after": "b"}
    assert paging.decode("", {"prefix": "x"}) is None
    with pytest.raises(InvalidArgument):
        paging.decode(token, {"prefix": "y"})
    with pytest.raises(InvalidArgument):
        paging.decode("not-a-token!", {"prefix": "x"})


def test_page_size_bounds():
    assert requests.check_page_size(0) == 100
    assert requests.check_page_size(1000) == 1000
    with pytest.raises(InvalidArgument):
        requests.check_page_size(1001)
    with pytest.raises(InvalidArgument):
        requests.check_page_size(-1)


@given(st.text())
def test_a_log_name_escapes_as_quote_does_whatever_it_holds(value):
    """The plain-name shortcut gives what quote(safe="") with '%' as '$25' gives, for any text."""
    url = links.log_stream_console_url("us-east-1", value, value)
    escaped = quote(value, safe="").replace("%", "$25")
    assert url.endswith(f"/log-group/{escaped}/log-events/{escaped}")
