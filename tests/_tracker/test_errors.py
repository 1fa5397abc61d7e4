"""Error mapping and the retry policy, against the live fake server (its request log is the
evidence: what was retried and what was not)."""

from __future__ import annotations

import socket

import pytest

from billingops._tracker.github_gateway import GitHubGateway
from billingops.errors import BadInput, ExitStatus, NotFound, OperationalError
from billingops.sandbox.fake_github import FakeGitHub
from tests.plugins.github import TEST_TOKEN, gateway_for

ISSUE = "/repos/acme/support/issues/*"


@pytest.fixture
def issue(fake_github: FakeGitHub) -> int:
    return fake_github.add_issue("Refund please", labels=["billing"])


def test_404_is_not_found(github_gateway: GitHubGateway) -> None:
    with pytest.raises(NotFound) as err:
        github_gateway.get_issue(7)
    assert str(err.value) == "GitHub: get issue #7: not found (404)"
    assert err.value.status == ExitStatus.OPERATIONAL  # issue 3: a missing issue fails the run


def test_410_is_not_found(
    github_gateway: GitHubGateway, fake_github: FakeGitHub, issue: int
) -> None:
    fake_github.delete_issue(issue)
    with pytest.raises(NotFound, match="410"):
        github_gateway.list_comments(issue)


def test_422_on_a_label_is_bad_input(
    github_gateway: GitHubGateway, fake_github: FakeGitHub, issue: int
) -> None:
    with pytest.raises(
        BadInput, match=r"set labels on #1: rejected \(422: Validation Failed \(name invalid\)\)"
    ):
        github_gateway.set_labels(issue, ["x" * 51])  # GitHub: label names are at most 50
    assert fake_github.labels_of(issue) == ["billing"]
    assert fake_github.count("PUT") == 1  # 4xx is not retried


def test_ensure_label_race_is_not_an_error(
    github_gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    # Another run creates the label between our GET (404) and our POST (422 already_exists).
    fake_github.fail_next("GET", "/repos/acme/support/labels/*", 404)
    fake_github.add_label("gap:no_billing_portal")
    assert (
        github_gateway.ensure_label("gap:no_billing_portal", color="ededed", description="")
        is False
    )


def test_get_retried_after_502(
    github_gateway: GitHubGateway, fake_github: FakeGitHub, issue: int
) -> None:
    fake_github.fail_next("GET", ISSUE, 502)
    assert github_gateway.get_issue(issue).number == issue
    assert fake_github.count("GET", ISSUE) == 2


def test_post_not_retried_after_502(
    github_gateway: GitHubGateway, fake_github: FakeGitHub, issue: int
) -> None:
    fake_github.fail_next("POST", f"{ISSUE}/comments", 502)
    with pytest.raises(OperationalError) as err:
        github_gateway.create_comment(issue, "<!-- billingops -->")
    assert str(err.value) == "GitHub: comment on #1: server error (502: Server Error) after retries"
    assert err.value.status == ExitStatus.OPERATIONAL
    assert fake_github.count("POST") == 1  # exactly one: a retry could duplicate the comment
    assert fake_github.comments_of(issue) == []


def test_post_issue_not_retried_after_503(
    github_gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    fake_github.fail_next("POST", "/repos/acme/support/issues", 503, retry_after=0)
    with pytest.raises(OperationalError):
        github_gateway.create_issue(title="gap", body="", labels=[])
    assert fake_github.count("POST") == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [("PATCH", "/repos/acme/support/issues/comments/*"), ("PUT", f"{ISSUE}/labels")],
)
def test_idempotent_writes_retried(
    github_gateway: GitHubGateway, fake_github: FakeGitHub, issue: int, method: str, path: str
) -> None:
    comment = fake_github.add_comment(issue, "old", author="github-actions[bot]")
    fake_github.fail_next(method, path, 500)
    if method == "PATCH":
        github_gateway.edit_comment(comment, "new")
        assert fake_github.comments_of(issue) == ["new"]
    else:
        github_gateway.set_labels(issue, ["billing:team_seats"])
        assert fake_github.labels_of(issue) == ["billing:team_seats"]
    assert fake_github.count(method) == 2


def test_delete_retried_and_absent_label_fine(
    github_gateway: GitHubGateway, fake_github: FakeGitHub, issue: int
) -> None:
    fake_github.fail_next("DELETE", f"{ISSUE}/labels/*", 502)
    github_gateway.remove_label(issue, "billing")
    github_gateway.remove_label(issue, "billing")  # already gone: 404, fine
    assert fake_github.labels_of(issue) == []
    assert fake_github.count("DELETE") == 3


def test_5xx_exhausted_is_operational(
    github_gateway: GitHubGateway, fake_github: FakeGitHub, issue: int
) -> None:
    fake_github.fail_next("GET", f"{ISSUE}/events", 503, times=10)
    with pytest.raises(OperationalError, match=r"list events of #1: server error \(503"):
        github_gateway.label_events(issue)
    assert fake_github.count("GET") == 3  # the first try and max_retries=2


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (429, "Too Many Requests"),
        (
            403,
            "You have exceeded a secondary rate limit. "
            "Please wait a few minutes before you try again.",
        ),
    ],
)
def test_rate_limits_retried_with_retry_after(
    github_gateway: GitHubGateway, fake_github: FakeGitHub, issue: int, status: int, message: str
) -> None:
    fake_github.fail_next("GET", f"{ISSUE}/comments", status, retry_after=1, message=message)
    assert github_gateway.list_comments(issue) == []
    assert fake_github.count("GET") == 2


def test_retry_after_too_long_gives_up_at_once(fake_github: FakeGitHub, issue: int) -> None:
    gateway = gateway_for(fake_github, max_retry_after=5)
    fake_github.fail_next("GET", ISSUE, 429, retry_after=3600)
    with pytest.raises(OperationalError, match="rate limited, asked to wait 3600s"):
        gateway.get_issue(issue)
    assert fake_github.count() == 1


def test_403_forbidden_is_bad_input(
    github_gateway: GitHubGateway, fake_github: FakeGitHub, issue: int
) -> None:
    fake_github.fail_next(
        "PUT", f"{ISSUE}/labels", 403, message="Resource not accessible by integration"
    )
    with pytest.raises(
        BadInput,
        match=r"forbidden \(403: Resource not accessible by integration\); the token needs",
    ):
        github_gateway.set_labels(issue, ["x"])
    assert fake_github.count("PUT") == 1


def test_bad_token_is_bad_input_and_not_echoed(fake_github: FakeGitHub, issue: int) -> None:
    wrong = "ghp_" + "W" * 36
    gateway = GitHubGateway(wrong, "acme/support", fake_github.url, seconds_between_writes=None)
    with pytest.raises(BadInput) as err:
        gateway.get_issue(issue)
    assert "401" in str(err.value) and "GITHUB_TOKEN" in str(err.value)
    assert wrong not in str(err.value) and TEST_TOKEN not in str(err.value)


def test_timeout_after_retries_is_operational(fake_github: FakeGitHub, issue: int) -> None:
    gateway = gateway_for(fake_github, timeout=1, max_retries=1)
    fake_github.fail_next("GET", ISSUE, 200, times=2, delay=1.5)
    with pytest.raises(OperationalError, match="get issue #1: timed out after retries"):
        gateway.get_issue(issue)
    assert fake_github.count("GET") == 2


def test_post_read_timeout_not_retried(fake_github: FakeGitHub, issue: int) -> None:
    gateway = gateway_for(fake_github, timeout=1, max_retries=2)
    fake_github.fail_next("POST", f"{ISSUE}/comments", 201, delay=1.5)
    with pytest.raises(OperationalError, match="timed out"):
        gateway.create_comment(issue, "hello")
    assert fake_github.count("POST") == 1


def test_unreachable_is_operational() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gateway = GitHubGateway(
        TEST_TOKEN, "acme/support", f"http://127.0.0.1:{port}", max_retries=1, backoff_factor=0
    )
    with pytest.raises(
        OperationalError, match=r"cannot reach http://127\.0\.0\.1:\d+ \(ConnectionError\)"
    ):
        gateway.list_comments(1)


@pytest.mark.parametrize(
    ("token", "repository", "api_url", "message"),
    [
        ("", "acme/support", "https://api.github.com", "GITHUB_TOKEN is empty"),
        ("t", "support", "https://api.github.com", "owner/name"),
        ("t", "acme/support", "api.github.com", "http"),
    ],
)
def test_bad_configuration(token: str, repository: str, api_url: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        GitHubGateway(token, repository, api_url)


def test_messages_never_carry_the_token(fake_github: FakeGitHub, issue: int) -> None:
    gateway = gateway_for(fake_github)
    fake_github.fail_next("GET", ISSUE, 400, message=f"bad request for {TEST_TOKEN}\nsecond line")
    with pytest.raises(OperationalError) as err:
        gateway.get_issue(issue)
    assert TEST_TOKEN not in str(err.value) and "ghp_" not in str(err.value)
    assert "\n" not in str(err.value)
