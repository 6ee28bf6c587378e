"""Content-addressed blob store (SHA-256) behind an fsspec filesystem.

Local directory by default; any fsspec URL (``s3://bucket/prefix`` with s3fs,
``memory://``) is a configuration change (``ECG_BLOB_URL``). Blobs are immutable:
``blobs/ab/cd/<sha256>``; a second upload of the same bytes stores nothing new.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

import fsspec

from models.errors import StorageError
from models.settings import Settings

__all__ = ["CHUNK_BYTES", "BlobStore", "FileRef", "sha256_file"]

#: Streaming chunk size for hashing and copying, bytes.
CHUNK_BYTES = 1 << 20


def sha256_file(path: Path) -> tuple[str, int]:
    """SHA-256 hex digest and size of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


FileRef = dict[str, Any]  # {"name": str, "sha256": str, "size": int}


class BlobStore:
    """Immutable blobs addressed by their SHA-256.

    Parameters
    ----------
    url : str
        fsspec URL or local directory path.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        fs, root = fsspec.core.url_to_fs(url)
        self._fs: Any = fs
        self._root: str = root.rstrip("/")
        self.is_local = "file" in (
            fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
        )
        if self.is_local:
            Path(self._root).mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_settings(cls, settings: Settings) -> BlobStore:
        """The store named by ``settings.blob_url`` (default ``data_dir/blobs``)."""
        return cls(settings.blob_url or str((settings.data_dir / "blobs").resolve()))

    def _path(self, sha256: str) -> str:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise StorageError(f"blob id {sha256!r} is not a SHA-256 hex digest")
        return f"{self._root}/{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def exists(self, sha256: str) -> bool:
        """True if the blob is stored."""
        return bool(self._fs.exists(self._path(sha256)))

    def put_file(self, path: Path, sha256: str) -> bool:
        """Store a local file under its (already computed) hash.

        Returns
        -------
        bool
            True if the blob was new, False if it was already stored.
        """
        target = self._path(sha256)
        try:
            if self._fs.exists(target):
                return False
            if self.is_local:
                parent = Path(target).parent
                created = _mkdirs(parent)
                tmp = f"{target}.tmp-{os.getpid()}-{id(path)}"
                shutil.copyfile(path, tmp)
                with open(tmp, "rb") as fh:
                    os.fsync(fh.fileno())
                os.replace(tmp, target)  # atomic: readers never see half a blob
                # The rename and any new directories are durable only once their parent
                # directories are synced; the DB row that points here commits after this.
                for directory in (parent, *created):
                    _fsync_dir(directory)
            else:
                self._fs.put_file(str(path), target)
        except OSError as exc:
            raise StorageError(f"blob store {self.url}: cannot store {path.name}: {exc}") from exc
        return True

    def delete(self, sha256: str) -> None:
        """Remove a blob (used to undo a rejected upload); missing blobs are ignored."""
        target = self._path(sha256)
        if self._fs.exists(target):
            self._fs.rm_file(target)

    def open(self, sha256: str) -> BinaryIO:
        """Open a stored blob for reading."""
        try:
            fh: BinaryIO = self._fs.open(self._path(sha256), "rb")
        except (OSError, FileNotFoundError) as exc:
            raise StorageError(f"blob {sha256} missing from {self.url}") from exc
        return fh

    def materialise(self, files: Iterable[FileRef], directory: Path) -> None:
        """Lay out a record's files under their original names in ``directory``.

        Local blobs are symlinked (no copy of a 500 MB Holter file); remote blobs are
        downloaded.
        """
        for ref in files:
            name = Path(str(ref["name"])).name
            dest = directory / name
            src = self._path(str(ref["sha256"]))
            if self.is_local:
                if not Path(src).exists():
                    raise StorageError(f"blob {ref['sha256']} ({name}) missing from {self.url}")
                dest.symlink_to(src)
            else:
                try:
                    self._fs.get_file(src, str(dest))
                except (OSError, FileNotFoundError) as exc:
                    raise StorageError(f"blob {ref['sha256']} ({name}) missing: {exc}") from exc


def _mkdirs(directory: Path) -> list[Path]:
    """Create ``directory`` and missing parents; return the parents of those created."""
    missing: list[Path] = []
    probe = directory
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    directory.mkdir(parents=True, exist_ok=True)
    return [d.parent for d in missing]


def _fsync_dir(directory: Path) -> None:
    """Flush a directory entry to disk (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
