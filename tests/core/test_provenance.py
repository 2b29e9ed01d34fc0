import hashlib

import pandas as pd

from audit.core.provenance import library_versions, sha256_file, sha256_frame


def test_sha256_file_matches_hashlib(tmp_path):
    path = tmp_path / "data.csv"
    content = b"a,b\n1,2\n" * 300_000  # larger than one read chunk
    path.write_bytes(content)
    assert sha256_file(path) == hashlib.sha256(content).hexdigest()


def test_frame_hash_depends_on_values_names_and_order():
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    same = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    assert sha256_frame(frame) == sha256_frame(same)
    assert sha256_frame(frame) != sha256_frame(frame.rename(columns={"a": "c"}))
    assert sha256_frame(frame) != sha256_frame(frame.iloc[::-1].reset_index(drop=True))
    assert sha256_frame(frame) != sha256_frame(frame.assign(a=[1, 3]))


def test_library_versions_names_the_numeric_stack():
    versions = library_versions()
    for name in ("python", "maas-audit", "numpy", "pandas", "fairlearn"):
        assert versions[name]
