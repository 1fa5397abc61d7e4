from pathlib import Path

import pytest

from billingops.config import Config, Environment, load_config, parse_config
from billingops.errors import ConfigError


def test_missing_file_means_defaults(tmp_path: Path) -> None:
    cfg = load_config(tmp_path / "nope.yml")
    assert cfg == Config()
    assert cfg.approval_labels.refund == "approve-refund"
    assert cfg.allowed_roles == ["admin", "maintain", "write"]
    assert cfg.refund.second_approver_above == {"default": 50000}


def test_partial_file_keeps_other_defaults() -> None:
    cfg = parse_config("approval_labels: {refund: ok-refund}\nmask_email: false\n")
    assert cfg.approval_labels.refund == "ok-refund"
    assert cfg.approval_labels.cancel == "approve-cancel"
    assert cfg.mask_email is False


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("refund: {second_approver_above: lots}", "refund.second_approver_above"),
        ("mask_email: maybe", "mask_email"),
        ("backlog_repository: justaname", "backlog_repository"),
        ("allowed_roles: []", "allowed_roles"),
        ("surprise: 1", "surprise"),
        ("stripe_rate_limit_per_second: 0", "stripe_rate_limit_per_second"),
    ],
)
def test_invalid_value_names_the_key(text: str, key: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config(text)
    msg = str(exc.value)
    assert key in msg
    assert "\n" not in msg


@pytest.mark.parametrize("text", ["[1, 2]", "a: [unclosed", "\x00\x01"])
def test_not_a_mapping_or_not_yaml_is_one_line(text: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config(text)
    assert "\n" not in str(exc.value)


def test_environment_comes_from_the_injected_mapping_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_REPOSITORY", "from/os")
    env = Environment.from_mapping({"STRIPE_API_KEY": "sk_test_abc", "GITHUB_TOKEN": ""})
    assert env.github_repository is None
    assert env.github_token is None
    assert env.stripe_api_key is not None
    assert "sk_test_abc" not in repr(env)
    assert env.github_api_url == "https://api.github.com"


# -- issue 21: mistakes caught where they are made ------------------------------------------


@pytest.mark.parametrize("key", ["allowed_roles", "staff_roles"])
def test_a_role_github_does_not_have_is_a_config_error_naming_the_built_ins(key: str) -> None:
    # `maintainer` is not a role: maintainers would silently never approve.
    with pytest.raises(ConfigError) as exc:
        parse_config(f"{key}: [admin, maintainer]")
    msg = str(exc.value)
    assert f"{key}: maintainer is not a GitHub repository role (did you mean maintain?)" in msg
    assert "read, triage, write, maintain, admin" in msg and "custom_roles" in msg
    assert "\n" not in msg and "Value error" not in msg


def test_a_custom_role_is_accepted_once_listed_under_custom_roles() -> None:
    cfg = parse_config(
        "custom_roles: [Billing Lead]\nallowed_roles: [admin, billing lead]\n"
        "staff_roles: [triage, Billing Lead]\n"
    )
    assert cfg.allowed_roles == ["admin", "billing lead"]
    assert cfg.custom_roles == ["billing lead"]
    with pytest.raises(ConfigError, match="custom_roles: write is a built-in role"):
        parse_config("custom_roles: [write]")


def test_an_explicit_config_path_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load_config(tmp_path / "typo.yml", required=True)
    assert "does not exist (BILLINGOPS_CONFIG names it)" in str(exc.value)
    env = Environment.from_mapping({"BILLINGOPS_CONFIG": str(tmp_path / "typo.yml")})
    assert env.config_required and env.config_path == str(tmp_path / "typo.yml")
    default = Environment.from_mapping({})
    assert not default.config_required and default.config_path == ".github/billingops.yml"
