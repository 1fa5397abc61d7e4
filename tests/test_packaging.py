"""What ships: templates inside the wheel, and the one issue form in two places."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_repo_form_is_the_shipped_form() -> None:
    shipped = (ROOT / "templates" / "repo" / "billing.yml").read_text(encoding="utf-8")
    ours = (ROOT / ".github" / "ISSUE_TEMPLATE" / "billing.yml").read_text(encoding="utf-8")
    assert ours == shipped


@pytest.mark.skipif(
    subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True).returncode != 0,
    reason="pip is not available",
)
def test_the_wheel_carries_every_template(tmp_path: Path) -> None:
    # --no-build-isolation: the build backend comes from this environment, no download.
    try:
        import hatchling  # noqa: F401
    except ImportError:
        pytest.skip("hatchling is not installed here")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    [wheel] = tmp_path.glob("billingops-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        f"billingops/templates/{p.relative_to(ROOT / 'templates').as_posix()}"
        for p in (ROOT / "templates").rglob("*")
        if p.is_file() and p.name != ".keep"
    }
    assert expected, "no templates found"
    assert expected <= names, sorted(expected - names)

    # Installed from the wheel and run from another directory, it finds its templates.
    target = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
         str(wheel)],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    probe = (
        "import billingops, billingops.core.render as r\n"
        "from billingops.config import Config\n"
        "from billingops.models.ticket import Ticket\n"
        "print(billingops.__file__)\n"
        "print(r.render_needs_info(Ticket(title='t'), Config()))\n"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    where, comment = proc.stdout.split("\n", 1)
    assert where.startswith(str(target))
    assert "billingops:triage" in comment
