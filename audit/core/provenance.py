"""The reproducibility record of an audit: versions, hashes, seed, time, command line."""

from __future__ import annotations

import hashlib
import platform
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pandas as pd

__all__ = [
    "Provenance",
    "library_versions",
    "sha256_bytes",
    "sha256_file",
    "sha256_frame",
    "sha256_path",
    "utc_now",
]

_LIBRARIES = (
    "maas-audit",
    "numpy",
    "pandas",
    "scikit-learn",
    "fairlearn",
    "pydantic",
    "jinja2",
    "httpx",
    "torch",
    "onnxruntime",
    "skops",
)
_CHUNK = 1 << 20


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def _feed(digest: hashlib._Hash, path: Path) -> None:
    """Add a file's bytes to ``digest``, read in chunks."""
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    _feed(digest, path)
    return digest.hexdigest()


def sha256_path(path: Path) -> str:
    """Hex SHA-256 of a file, or of a folder: every file's relative path and bytes, in path order.

    A folder of Parquet files hashes the same whichever engine reads it.
    """
    if path.is_file():
        return sha256_file(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{file.relative_to(path).as_posix()}\x1f".encode())
        _feed(digest, file)
        digest.update(b"\x1e")
    return digest.hexdigest()


def sha256_frame(frame: pd.DataFrame) -> str:
    """Hex SHA-256 of a DataFrame's column names, dtypes and values, independent of its source."""
    digest = hashlib.sha256()
    for name, dtype in frame.dtypes.items():
        digest.update(f"{name}\x1f{dtype}\x1e".encode())
    row_hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    digest.update(row_hashes.tobytes())
    return digest.hexdigest()


def utc_now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def library_versions(names: Iterable[str] = _LIBRARIES) -> dict[str, str]:
    """Installed versions of the libraries an audit's numbers depend on (absent ones skipped)."""
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


@dataclass(frozen=True)
class Provenance:
    """Enough to reproduce an audit, or to show that a report belongs to given inputs."""

    data_sha256: str
    model_sha256: str
    policy_sha256: str
    seed: int
    started_at: str
    finished_at: str
    command: tuple[str, ...] = ()
    versions: Mapping[str, str] = field(default_factory=library_versions)
    platform: str = field(
        default_factory=lambda: f"{platform.platform()} ({sys.implementation.name})"
    )
    data_source: str = ""
    """Where the data came from (a path, or a description of an in-memory frame)."""
