"""`prefect-triage eval`, run as a maintainer runs it: figures, thresholds, bad files."""

from __future__ import annotations

import json

LEASE = "Concurrency lease renewal failed - slots are no longer reserved. Terminating execution to prevent over-allocation."
CASES = [
    {"text": LEASE, "expect": "concurrency.lease-renewal-failed", "source": "seed", "split": "tune"},
    {"text": "my flow is weird today, it does something odd", "expect": "runs.crashed", "source": "made up",
     "split": "holdout"},
    {"text": "thanks everyone, that fixed it!", "expect": None, "source": "channel chatter", "split": "tune"},
]


def write(tmp_path, cases, name="cases.jsonl"):
    (tmp_path / name).write_text("\n".join(json.dumps(c) for c in cases) + "\n")
    return name


def test_eval_json_reports_accuracy_per_split_and_chatter(cli, tmp_path):
    proc = cli("eval", write(tmp_path, CASES), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["positives"] == 2 and report["chatter"] == 1
    assert report["top1"] == 0.5 and report["top1_by_split"] == {"holdout": 0.0, "tune": 1.0}
    assert report["pointed"] == 0.5
    assert report["chatter_rate"] == 0.0 and report["chatter_answered_when_asked"] == 0.0
    assert report["confusions"] == [["runs.crashed", "none", 1]]


def test_eval_thresholds_set_the_exit_code(cli, tmp_path):
    name = write(tmp_path, CASES)
    assert cli("eval", name, "--min-accuracy", "0.5").returncode == 0
    assert cli("eval", name, "--min-accuracy", "0.9").returncode == 1
    assert cli("eval", name, "--max-chatter", "0.0").returncode == 0


def test_eval_reads_a_folder_and_prints_a_table(cli, tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    write(folder, CASES[:1], "real.jsonl")
    write(folder, CASES[2:], "chatter.jsonl")
    proc = cli("eval", "corpus")
    out = proc.stdout.decode()
    assert proc.returncode == 0 and "top-1 accuracy" in out and "100.0%" in out
    assert "concurrency.lease-renewal-failed" in out


def test_a_bad_cases_file_is_a_clear_error(cli, tmp_path):
    (tmp_path / "broken.jsonl").write_text('{"text": "x", "expect": null}\n{not json\n')
    proc = cli("eval", "broken.jsonl")
    assert proc.returncode == 2 and b"Traceback" not in proc.stderr
    assert b"broken.jsonl:2" in proc.stderr
    (tmp_path / "nolabel.jsonl").write_text('{"text": "x"}\n')
    proc = cli("eval", "nolabel.jsonl")
    assert proc.returncode == 2 and b"needs `text` and `expect`" in proc.stderr
    assert cli("eval", "missing.jsonl").returncode == 2
