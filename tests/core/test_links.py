"""Links to GitHub web pages, built on the host GitHub gave the issue (core/links.py)."""

from __future__ import annotations

import pytest

from billingops.core.links import label_url


@pytest.mark.parametrize(
    ("issue_url", "base"),
    [
        ("https://github.com/acme/support/issues/42", "https://github.com"),
        ("https://ghes.acme.example/acme/support/issues/7", "https://ghes.acme.example"),
        ("http://127.0.0.1:8123/acme/support/issues/3600000001", "http://127.0.0.1:8123"),
        ("https://acme.ghe.com/acme/support/issues/1", "https://acme.ghe.com"),
    ],
)
def test_a_label_page_is_on_the_issue_s_own_web_host(issue_url: str, base: str) -> None:
    assert label_url(issue_url, "acme/product", "gap:no_duplicate_guard") == (
        f"{base}/acme/product/labels/gap%3Ano_duplicate_guard"
    )


@pytest.mark.parametrize(
    ("issue_url", "repository"),
    [
        ("", "acme/support"),  # an issue payload without its address
        ("https://api.github.com/repos/acme/support/issues/42", "acme/support"),  # the API's
        ("javascript:alert(1)//acme/support/issues/1", "acme/support"),
        ("https://github.com/acme/support/issues/42)](https://evil.example", "acme/support"),
        ("https://github.com/acme/support/issues/42", "acme/product) [x](https://evil.example"),
    ],
)
def test_no_link_from_an_address_that_is_not_an_issue_s(issue_url: str, repository: str) -> None:
    assert label_url(issue_url, repository, "gap:no_duplicate_guard") is None
