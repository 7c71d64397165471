"""Every row of docs/errors_calibration.md: the exact one-line error, the exit code, no
traceback, and no file left behind. The table lives in calib_cases.py."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import calib_cases  # noqa: E402


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("calib") / "data dir \u6570\u636e")
    calib_cases.build_data(d)
    return d


def listing(d):
    out = set()
    for root, dirs, files in os.walk(d):
        for f in files:
            out.add(os.path.relpath(os.path.join(root, f), d))
    return out


@pytest.mark.parametrize("case", calib_cases.CASES, ids=[c[0] for c in calib_cases.CASES])
def test_error(case, data_dir):
    cid, what, argsf, msg, code = case
    args = argsf(data_dir)
    before = listing(data_dir) - {"c.prototxt"}
    rc, out, err = calib_cases.run_dopt(args, cwd=data_dir)
    assert rc == code, (rc, out, err)
    lines = [l for l in err.splitlines() if not l.startswith("dopt: warning: ")]
    assert lines == ["dopt: error: " + msg.replace("{d}", data_dir)], err
    assert "Traceback" not in err and "terminate" not in err
    assert listing(data_dir) - {"c.prototxt"} == before, "files left behind"


def test_docs_table_is_current():
    """docs/errors_calibration.md holds the table generated from CASES."""
    doc = os.path.join(calib_cases.REPO, "docs", "errors_calibration.md")
    with open(doc, encoding="utf-8") as f:
        text = f.read()
    assert calib_cases.markdown() in text, "regenerate: python3 tests/e2e/calib_cases.py --markdown"
    assert len(calib_cases.CASES) >= 25
