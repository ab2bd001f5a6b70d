"""Entry zips: reproducible, safe names, digest shown on the page."""

from __future__ import annotations

import hashlib
import io
import zipfile

from sitegen.site import build_archive
from tests.site.helpers import BuiltSite


def test_archive_is_reproducible_and_matches_its_digest(site: BuiltSite) -> None:
    entry = site.out / "skills" / "terraform-plan-reviewer"
    blob = (entry / "terraform-plan-reviewer.zip").read_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    html = (entry / "index.html").read_text()
    assert digest in html
    assert f"echo '{digest}  terraform-plan-reviewer.zip' | sha256sum -c -" in html
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        names = sorted(archive.namelist())
        # One folder named after the entry: unzipping into a skills folder makes the entry.
        assert names == [
            "terraform-plan-reviewer/SKILL.md",
            "terraform-plan-reviewer/references/destructive-changes.md",
            "terraform-plan-reviewer/scripts/check_plan.py",
        ]
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        for name in names:
            assert archive.read(name) == (site.library / "skills" / name).read_bytes()


def test_archive_is_deterministic_and_safe() -> None:
    files = {"SKILL.md": b"x", "scripts/run.py": b"print()", "a\\..\\evil.txt": b"no"}
    first = build_archive(files, folder="s")
    assert first == build_archive(dict(reversed(list(files.items()))), folder="s")
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        names = archive.namelist()
    assert names[0] == "s/SKILL.md" and "s/scripts/run.py" in names
    assert all("\\" not in n and ".." not in n.split("/") and not n.startswith("/") for n in names)
