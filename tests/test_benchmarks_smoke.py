"""The benchmarks still run: `benchmarks/run_all.py --quick` drives every one of them at tiny
sizes (the real bot process against the emulator process) and writes its table and figures.

Its figures are not judged here (tiny sizes on a shared machine say nothing about the targets):
what is checked is that every benchmark ran to its end, measured what it says, and that the
table and the JSON carry them. About 15-20 s.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_benchmark_runs_at_tiny_sizes_and_writes_its_figures(tmp_path: Path) -> None:
    output = tmp_path / "RESULTS.md"
    result = subprocess.run(
        [sys.executable, "benchmarks/run_all.py", "--quick", f"--output={output}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    table = output.read_text(encoding="utf-8")
    assert table == result.stdout
    assert "NOT comparable" in table
    assert "| figure | target | measured | met |" in table
    for figure in (
        "Kibaru's updates/s ÷ bare PTB's",
        "Broadcast to 30 subscribers",
        "Reminders of 20 members due at the same moment: due → last delivered",
        "Start-up to the first getUpdates (200 users in the database)",
        "Peak RSS, 200 users, 22 open conversations",
    ):
        assert figure in table, figure
    assert "no figures" not in table and "unreadable figures" not in table

    figures = json.loads(output.with_suffix(".json").read_text(encoding="utf-8"))
    assert set(figures) == {"reporting", "broadcast", "reminders", "memory"}
    assert all(f["ok"] for f in figures.values())
    reports = figures["reporting"]["by_users"]["2"]
    assert reports["kibaru_stored"] == [2] and reports["kibaru_runs_completed"] == [2]
    assert figures["broadcast"]["lost"] == 0 and figures["broadcast"]["outbox"] == {"sent": 30}
    assert figures["reminders"]["outbox"] == {"sent": 20}
    assert figures["reminders"]["lost"] == 0 and figures["reminders"]["duplicates"] == 0
    memory = figures["memory"]
    assert memory["answered"] == memory["updates"] == 27 and memory["wrong"] == 0
    assert memory["startup_s"] > 0 and memory["peak_rss_mb"] >= memory["rss_after_startup_mb"] > 0
