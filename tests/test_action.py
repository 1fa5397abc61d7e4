"""The composite action (action.yml) installs billingops from its own checkout with the
locked, hash-checked dependencies, then runs a command: the same scripts the action runs,
offline.

PyPI's own wheels cannot be had offline, so the wheelhouse is made in the test from the
distributions installed here (each repacked as a wheel) and the lock the action reads is
requirements.lock with those wheels' versions and sha256 (same names, same markers, same
format). What is proven: the action's exact commands install nothing that is not pinned
with a matching hash, build nothing, and the installed checkout runs. That the committed
lock is fresh against PyPI is checked in CI (`scripts/lock.sh --check`); offline, the test
below checks it covers exactly billingops' dependency closure.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from billingops.sandbox.fake_github import FakeGitHub
from billingops.sandbox.tickets import form_body
from tests.plugins.github import TEST_TOKEN
from tests.plugins.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def locked() -> dict[str, tuple[str, str | None]]:
    """name -> (version, marker) of every pin in requirements.lock."""
    pins: dict[str, tuple[str, str | None]] = {}
    for line in LOCK.read_text().splitlines():
        found = _PIN.match(line)
        if found:
            name, version, marker = found.groups()
            pins[canonicalize_name(name)] = (version, marker)
    return pins


def closure(name: str, extras: frozenset[str] = frozenset()) -> set[str]:
    """billingops' runtime dependency closure, from the installed metadata."""
    seen: set[str] = set()
    todo = [(name, extras)]
    while todo:
        current, current_extras = todo.pop()
        for spec in metadata.requires(current) or []:
            req = Requirement(spec)
            env = {"extra": ""}
            if req.marker and not any(
                req.marker.evaluate(env | {"extra": e}) for e in (current_extras or {""})
            ):
                continue
            key = canonicalize_name(req.name)
            if key not in seen:
                seen.add(key)
                todo.append((req.name, frozenset(req.extras)))
    return seen


def test_lock_covers_exactly_the_runtime_dependencies() -> None:
    pins = locked()
    here = {n for n, (_, marker) in pins.items() if marker is None or Marker(marker).evaluate()}
    assert here == closure("billingops")
    import tomllib

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for spec in declared:
        req = Requirement(spec)
        version, _ = pins[canonicalize_name(req.name)]
        assert req.specifier.contains(version), f"{req.name}=={version} breaks {req.specifier}"
    # Every pin carries hashes (the action installs with --require-hashes).
    blocks = LOCK.read_text().split("\n")
    pinned_lines = [i for i, line in enumerate(blocks) if _PIN.match(line)]
    for i in pinned_lines:
        assert blocks[i + 1].strip().startswith("--hash=sha256:"), blocks[i]


def _repack(dist: metadata.Distribution, out: Path) -> Path:
    """An installed distribution as a wheel again (its files and its dist-info)."""
    info = dist.read_text("WHEEL") or ""
    tag = next(
        line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("Tag:")
    )
    name = re.sub(r"[-_.]+", "_", dist.metadata["Name"]).lower()
    wheel = out / f"{name}-{dist.version}-{tag}.whl"
    base = Path(str(dist.locate_file("")))
    record = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in dist.files or []:
            rel = file.as_posix()
            if rel.startswith("..") or rel.endswith(".pyc") or rel.endswith("/RECORD"):
                continue
            path = base / rel
            if not path.is_file():
                continue
            data = path.read_bytes()
            zf.writestr(rel, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.append(f"{rel},sha256={digest.decode()},{len(data)}")
        dist_info = next(f.as_posix() for f in dist.files or [] if f.name == "METADATA")
        record_name = dist_info.rsplit("/", 1)[0] + "/RECORD"
        zf.writestr(record_name, "\n".join([*record, f"{record_name},,"]) + "\n")
    return wheel


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(wheelhouse, lock text): this machine's copies of the locked dependencies."""
    out = tmp_path_factory.mktemp("wheelhouse")
    lines = []
    for name, (_, marker) in sorted(locked().items()):
        if marker is not None and not Marker(marker).evaluate():
            continue
        dist = metadata.distribution(name)
        wheel = _repack(dist, out)
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        lines.append(f"{name}=={dist.version} \\\n    --hash=sha256:{digest}")
    return out, "\n".join(lines) + "\n"


def action_checkout(tmp_path: Path, lock: str) -> Path:
    """What `github.action_path` holds: this repository at one commit."""
    action = tmp_path / "action"
    action.mkdir()
    for name in ("action.yml", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, action / name)
    for name in ("billingops", "templates", "scripts"):
        shutil.copytree(ROOT / name, action / name, ignore=shutil.ignore_patterns("__pycache__"))
    (action / "requirements.lock").write_text(lock)
    return action


def uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if found is None:
        pytest.skip("uv is not installed (the test extra)")
    return found


def offline_env(tmp_path: Path, wheels: Path, action: Path) -> dict[str, str]:
    empty_index = tmp_path / "no-index"
    empty_index.mkdir(exist_ok=True)
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PIP_", "VIRTUAL"))}
    return keep | {
        "UV": uv(),
        "UV_OFFLINE": "1",
        "UV_FIND_LINKS": str(wheels),
        "UV_DEFAULT_INDEX": empty_index.as_uri(),
        "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_NO_CONFIG": "1",
        "BILLINGOPS_ACTION_PATH": str(action),
        "BILLINGOPS_VENV": str(tmp_path / "venv"),
        "BILLINGOPS_PYTHON_VERSION": f"{sys.version_info.major}.{sys.version_info.minor}",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def install(env: dict[str, str], action: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(action / "scripts" / "action-install.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_action_installs_the_checkout_offline_and_runs_it(
    wheelhouse: tuple[Path, str],
    tmp_path: Path,
    stripe_sandbox: Sandbox,
) -> None:
    wheels, lock = wheelhouse
    action = action_checkout(tmp_path, lock)
    env = offline_env(tmp_path, wheels, action)
    done = install(env, action)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "billingops, version 0.1.0"
    python = tmp_path / "venv" / "bin" / "python"
    where = subprocess.run(
        [str(python), "-P", "-c", "import billingops; print(billingops.__file__)"],
        cwd=ROOT,  # even run from a directory that has a billingops package
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where == str(action / "billingops" / "__init__.py")  # the checkout, not an index

    # The action's run step, as the read-only job runs it, on a real ticket.
    seeded = stripe_sandbox.seed("duplicate_subscriptions")
    with FakeGitHub("acme/support", token=TEST_TOKEN) as fake:
        number = fake.add_issue(
            seeded.ticket.title, form_body(seeded.ticket), author="customer", labels=["billing"]
        )
        event = tmp_path / "event.json"
        event.write_text(
            json.dumps(
                {
                    "action": "opened",
                    "issue": fake.issue_json(number),
                    "repository": {"full_name": "acme/support", "private": True},
                }
            )
        )
        output = tmp_path / "github_output"
        ran = subprocess.run(
            ["bash", str(action / "scripts" / "action-run.sh")],
            env=env
            | {
                "BILLINGOPS_COMMAND": "gate",
                "STRIPE_API_KEY": stripe_sandbox.api_key,
                "STRIPE_API_BASE": stripe_sandbox.base_url,
                "BILLINGOPS_SANDBOX": "localstripe",
                "GITHUB_TOKEN": TEST_TOKEN,
                "GITHUB_API_URL": fake.url,
                "GITHUB_REPOSITORY": "acme/support",
                "GITHUB_EVENT_NAME": "issues",
                "GITHUB_EVENT_PATH": str(event),
                "GITHUB_OUTPUT": str(output),
                "BILLINGOPS_CONFIG": os.devnull,
            },
            cwd=ROOT,  # `-P`: a billingops/ in the working directory is not imported
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert ran.returncode == 0, ran.stderr
        assert "billingops: triage:" in ran.stderr
        [comment] = [b for b in fake.comments_of(number) if b.startswith("<!-- billingops:")]
        assert "### DECISION" in comment
    assert "Traceback" not in ran.stderr


def test_a_wheel_that_does_not_match_its_hash_is_refused(
    wheelhouse: tuple[Path, str], tmp_path: Path
) -> None:
    wheels, lock = wheelhouse
    tampered = tmp_path / "wheels"
    shutil.copytree(wheels, tampered)
    victim = next(tampered.glob("click-*.whl"))
    with zipfile.ZipFile(victim, "a") as zf:
        zf.writestr("click/injected.py", "print('not the reviewed code')\n")
    action = action_checkout(tmp_path, lock)
    done = install(offline_env(tmp_path, tampered, action), action)
    assert done.returncode != 0
    assert "hash" in (done.stdout + done.stderr).lower()
    assert not list((tmp_path / "venv").glob("lib/python*/site-packages/click/injected.py"))


def test_an_unpinned_dependency_is_refused(wheelhouse: tuple[Path, str], tmp_path: Path) -> None:
    wheels, lock = wheelhouse
    action = action_checkout(tmp_path, lock + "rich\n")  # a name without a pin or a hash
    done = install(offline_env(tmp_path, wheels, action), action)
    assert done.returncode != 0
    assert "rich" in done.stderr and "hash" in done.stderr.lower()


def test_unknown_command_is_one_line_exit_2(tmp_path: Path) -> None:
    ran = subprocess.run(
        ["bash", str(ROOT / "scripts" / "action-run.sh")],
        env={
            "PATH": os.environ["PATH"],
            "BILLINGOPS_VENV": str(tmp_path),
            "BILLINGOPS_COMMAND": "rm -rf /",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 2
    assert ran.stderr.count("\n") == 1 and "unknown command" in ran.stderr
