"""The local blob store: content-addressed, atomic, and durable before the DB row commits."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import ingest.blobstore as blobstore
from ingest.blobstore import BlobStore


def _file(tmp_path: Path, content: bytes) -> tuple[Path, str]:
    path = tmp_path / "upload.dat"
    path.write_bytes(content)
    return path, hashlib.sha256(content).hexdigest()


def test_put_is_idempotent_and_readable(tmp_path: Path) -> None:
    store = BlobStore(str(tmp_path / "blobs"))
    path, sha = _file(tmp_path, b"ecg" * 1000)
    assert store.put_file(path, sha) is True
    assert store.put_file(path, sha) is False
    with store.open(sha) as fh:
        assert fh.read() == b"ecg" * 1000
    assert not list((tmp_path / "blobs").rglob("*.tmp-*"))


def test_new_directories_and_rename_are_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a store whose directory fsyncs are recorded
    synced: list[Path] = []
    monkeypatch.setattr(blobstore, "_fsync_dir", synced.append)
    store = BlobStore(str(tmp_path / "blobs"))
    path, sha = _file(tmp_path, b"holter")
    # When a blob lands in fan-out directories that do not exist yet
    store.put_file(path, sha)
    # Then the blob's directory and every parent of a created directory were synced
    leaf = tmp_path / "blobs" / sha[:2] / sha[2:4]
    assert leaf in synced
    assert leaf.parent in synced
    assert leaf.parent.parent in synced
