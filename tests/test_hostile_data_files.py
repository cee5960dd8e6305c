"""Issue 14: hostile data files are refused with file and line, in bounded time, by both
``data validate`` and ``data import``; control characters in text fields are refused too."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from service.domain.choices import MAX_DATA_FILE_BYTES

from .conftest import REPO_ROOT
from .helpers import copy_data, edit_yaml

GT4 = Path("championships/gt4-european-series-2023.yaml")


def _billion_laughs() -> str:
    lines = ['lol0: &lol0 "lol"']
    for level in range(1, 10):
        refs = ", ".join([f"*lol{level - 1}"] * 10)
        lines.append(f"lol{level}: &lol{level} [{refs}]")
    return "\n".join(lines) + "\ncircuits:\n  - slug: x\n    name: *lol9\n"


HOSTILE = {
    "laughs.yaml": _billion_laughs(),
    "deep.yaml": "circuits: " + "[" * 100_000 + "]" * 100_000 + "\n",
    "deepmap.yaml": "circuits: " + "{a: " * 50_000 + "1" + "}" * 50_000 + "\n",
    "cycle.yaml": "circuits: &a [*a]\n",
}


def _cli(*args: str, db: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The CLI in its own process, so a file that would hang it cannot hang the test run."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "GRIDFEED_AUTO_SEED": "0"}
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "service", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize("command", ["validate", "import"])
def test_hostile_yaml_is_refused_with_file_and_line(tmp_path: Path, command: str) -> None:
    folder = tmp_path / "hostile"
    folder.mkdir()
    for name, text in HOSTILE.items():
        (folder / name).write_text(text, encoding="utf-8")
    big = folder / "big.yaml"
    big.write_text("circuits: []\n#" + "x" * MAX_DATA_FILE_BYTES + "\n", encoding="utf-8")
    result = _cli("data", command, str(folder), db=tmp_path / "db.sqlite3")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr
    for name in (*HOSTILE, "big.yaml"):
        lines = [ln for ln in result.stderr.splitlines() if ln.startswith(str(folder / name))]
        assert lines, (name, result.stderr[-3000:])
    assert f"{folder / 'big.yaml'}: (file): larger than" in result.stderr
    for name in HOSTILE:
        where = re.escape(str(folder / name))
        assert re.search(rf"^{where}:\d+: ", result.stderr, re.M), (name, result.stderr[-3000:])


@pytest.mark.parametrize("char", ["\x00", "\x0b", "\x1b", "\x7f"])
def test_control_characters_in_data_files_name_file_line_and_field(
    runner, tmp_path: Path, char: str
) -> None:
    data = copy_data(tmp_path / "data")

    def rename(doc: dict) -> None:
        doc["rounds"][1]["sessions"][0]["name"] = f"Free{char}Practice 1"

    edit_yaml(data / GT4, rename)
    result = runner.invoke(args=["data", "validate", str(data)])
    assert result.exit_code == 1, result.output
    assert "rounds[1].sessions[0].name: " in result.output
    assert "control character" in result.output


def test_overlong_text_in_a_data_file_is_refused(runner, tmp_path: Path) -> None:
    from service.domain.choices import TEXT_MAX_LENGTH

    data = copy_data(tmp_path / "data")

    def lengthen(doc: dict) -> None:
        doc["rounds"][1]["note"] = "x" * (TEXT_MAX_LENGTH + 1)

    edit_yaml(data / GT4, lengthen)
    result = runner.invoke(args=["data", "validate", str(data)])
    assert result.exit_code == 1, result.output
    assert "rounds[1].note: " in result.output and f"{TEXT_MAX_LENGTH:,}" in result.output


def test_a_few_aliases_are_still_fine(runner, tmp_path: Path) -> None:
    path = tmp_path / "circuits.yaml"
    path.write_text(
        textwrap.dedent(
            """
            circuits:
              - &c {slug: ring-a, name: Ring, country: DE, timezone: Europe/Berlin}
              - {slug: ring-b, name: Ring B, country: DE, timezone: Europe/Berlin}
            """
        ),
        encoding="utf-8",
    )
    assert runner.invoke(args=["data", "validate", str(path)]).exit_code == 0
