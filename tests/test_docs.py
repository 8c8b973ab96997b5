"""Every setting is documented; the README's quick start is two commands; pages stay thin."""

from __future__ import annotations

import re
from pathlib import Path

from cetracker.config import SETTINGS

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in readme]
    assert missing == []


def test_quick_start_is_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    section = re.search(r"## Quick start(.*?)\n## ", readme, re.S).group(1)
    block = re.search(r"```\n(.*?)```", section, re.S).group(1)
    commands = [line for line in block.splitlines() if line.strip()]
    assert commands == ["./ce start", "./ce test"]
    assert "./ce test" in (ROOT / ".ci" / "run").read_text()


def test_pages_hold_no_sql():
    offenders = [
        p.name
        for p in (ROOT / "pages").glob("*.py")
        if re.search(r"duckdb|\.execute\(|\bSELECT\b|\bINSERT\b|\bUPDATE\b", p.read_text())
    ]
    assert offenders == []


def test_only_the_ui_package_imports_streamlit():
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "cetracker").rglob("*.py")
        if "ui" not in p.relative_to(ROOT / "cetracker").parts
        and re.search(r"^\s*(import|from) streamlit", p.read_text(), re.M)
    ]
    assert offenders == []
