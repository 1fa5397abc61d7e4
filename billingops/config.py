"""Configuration: the environment of SPEC §3 plus the optional YAML file.

The environment is injected as a mapping (httpie style) so tests never touch
`os.environ`. Every key has a default; an invalid file exits 2 naming the key.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from billingops.errors import ConfigError
from billingops.models.decision import Approval

DEFAULT_CONFIG_PATH = ".github/billingops.yml"
# GitHub's built-in repository roles, by the names `role_name` reports
# (https://docs.github.com/en/organizations/managing-user-access-to-your-organizations-repositories/managing-repository-roles/repository-roles-for-an-organization).
BUILT_IN_ROLES = ("read", "triage", "write", "maintain", "admin")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApprovalLabels(_Strict):
    refund: str = "approve-refund"
    cancel: str = "approve-cancel"


class RefundPolicy(_Strict):
    # Per currency, in that currency's minor units: when the plan's refunds in one currency
    # together exceed it, two approvers are needed (SPEC §5a). `default` covers the rest.
    second_approver_above: dict[str, int] = Field(default_factory=lambda: {"default": 50000})

    @field_validator("second_approver_above", mode="before")
    @classmethod
    def _per_currency(cls, v: Any) -> Any:
        if isinstance(v, int) and not isinstance(v, bool):
            return {"default": v}  # the older single-number form
        return v

    @field_validator("second_approver_above")
    @classmethod
    def _thresholds(cls, v: dict[str, int]) -> dict[str, int]:
        out = {k.strip().lower(): n for k, n in v.items()}
        if any(n < 0 for n in out.values()):
            raise ValueError("thresholds must be >= 0")
        out.setdefault("default", 50000)
        return out

    def threshold(self, currency: str) -> int:
        t = self.second_approver_above
        return t.get(currency.lower(), t["default"])


class PortalSettings(_Strict):
    login_url: str | None = None
    allows_cancellation: bool | None = None
    allows_invoice_history: bool | None = None


class Config(_Strict):
    """The YAML file (`BILLINGOPS_CONFIG`); these are the defaults of SPEC §3."""

    approval_labels: ApprovalLabels = Field(default_factory=ApprovalLabels)
    allowed_roles: list[str] = Field(default_factory=lambda: ["admin", "maintain", "write"])
    bot_approvers: list[str] = Field(default_factory=list)
    backlog_repository: str | None = None
    mask_email: bool = True
    github_username_metadata_key: str = "github_username"
    # ... and the numeric GitHub account id (SPEC §5a): a login can be renamed and reused.
    github_user_id_metadata_key: str = "github_user_id"
    refund: RefundPolicy = Field(default_factory=RefundPolicy)
    intake_label: str = "billing"
    staff_roles: list[str] = Field(default_factory=lambda: ["triage", "write", "maintain", "admin"])
    verified_requester_label: str = "verified-requester"
    forbid_self_approval: bool = True
    ticket_audience: Literal["auto", "staff", "public"] = "auto"
    private_repository: str | None = None
    portal: PortalSettings = Field(default_factory=PortalSettings)
    stripe_rate_limit_per_second: float = Field(default=25, gt=0)
    # Custom repository roles of the organisation (GitHub Enterprise) that `allowed_roles` /
    # `staff_roles` may name besides the built-ins; `billingops doctor` looks them up.
    custom_roles: list[str] = Field(default_factory=list)

    @field_validator("backlog_repository", "private_repository")
    @classmethod
    def _owner_name(cls, v: str | None) -> str | None:
        if v is not None and (v.count("/") != 1 or not all(v.split("/"))):
            raise ValueError("must be owner/name")
        return v

    @field_validator("allowed_roles", "staff_roles")
    @classmethod
    def _roles(cls, v: list[str]) -> list[str]:
        if not v or not all(isinstance(r, str) and r.strip() for r in v):
            raise ValueError("must be a non-empty list of role names")
        return [r.strip().lower() for r in v]

    @field_validator("custom_roles")
    @classmethod
    def _custom(cls, v: list[str]) -> list[str]:
        names = [r.strip().lower() for r in v if isinstance(r, str)]
        if len(names) != len(v) or not all(names):
            raise ValueError("must be a list of role names")
        built_in = [r for r in names if r in BUILT_IN_ROLES]
        if built_in:
            raise ValueError(f"{', '.join(built_in)} is a built-in role, not a custom one")
        return names

    @model_validator(mode="after")
    def _known_roles(self) -> Config:
        known = (*BUILT_IN_ROLES, *self.custom_roles)
        for key in ("allowed_roles", "staff_roles"):
            unknown = [r for r in getattr(self, key) if r not in known]
            if unknown:
                hint = "".join(
                    f" (did you mean {close[0]}?)"
                    for r in unknown[:1]
                    if (close := difflib.get_close_matches(r, BUILT_IN_ROLES, n=1))
                )
                raise ValueError(
                    f"{key}: {', '.join(unknown)} is not a GitHub repository role{hint}: "
                    f"the built-in roles are {', '.join(BUILT_IN_ROLES)}; list an organisation's "
                    "custom role under custom_roles (billingops doctor checks it exists)"
                )
        return self

    @property
    def labels(self) -> dict[Approval, str]:
        return {
            Approval.refund: self.approval_labels.refund,
            Approval.cancel: self.approval_labels.cancel,
        }


class Environment(BaseSettings):
    """Variables of SPEC §3. Built from an injected mapping, never from os.environ directly."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    stripe_api_key: SecretStr | None = None
    stripe_api_base: str | None = None
    # `localstripe`: the server behind STRIPE_API_BASE is localstripe (old API shapes, no
    # Search API, no billing portal). Anything else gets Stripe's real requests.
    billingops_sandbox: Literal["localstripe"] | None = None
    github_token: SecretStr | None = None
    github_api_url: str = "https://api.github.com"
    github_repository: str | None = None
    github_event_name: str | None = None
    github_event_path: str | None = None
    # None: the default path, where a missing file means defaults. Set explicitly, the file
    # must exist (a typo in the variable must not silently mean "defaults").
    billingops_config: str | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Only what the caller injects: the process environment is read in `cli.run`.
        return (init_settings,)

    @property
    def config_path(self) -> str:
        return self.billingops_config or DEFAULT_CONFIG_PATH

    @property
    def config_required(self) -> bool:
        return self.billingops_config is not None

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> Environment:
        names = {name.upper(): name for name in cls.model_fields}
        values = {names[k]: v for k, v in env.items() if k in names and v != ""}
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise ConfigError(_one_line("environment", exc)) from None


def _one_line(where: str, exc: ValidationError) -> str:
    """Every bad key, on one line: fixing one at a time is a loop nobody enjoys."""
    parts = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        # A check across keys (the roles) names its key in the message itself.
        parts.append(f"{key}: {msg}" if key else msg)
    return f"invalid {where}: " + "; ".join(parts)


def parse_config(text: str, where: str = "config") -> Config:
    try:
        data: Any = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"invalid {where}: not valid YAML{at}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"invalid {where}: the top level must be a mapping of keys")
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_one_line(where, exc)) from None


def load_config(path: str | Path, cwd: Path | None = None, *, required: bool = False) -> Config:
    """A missing file means defaults (unless `required`: a path someone named explicitly);
    an unreadable or invalid one is a ConfigError."""
    p = Path(path)
    if not p.is_absolute() and cwd is not None:
        p = cwd / p
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        if required:
            raise ConfigError(
                f"config {path} does not exist (BILLINGOPS_CONFIG names it): fix the path, "
                "or unset BILLINGOPS_CONFIG to use .github/billingops.yml or the defaults"
            ) from None
        return Config()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc.__class__.__name__}") from None
    return parse_config(text, where=f"config {path}")
