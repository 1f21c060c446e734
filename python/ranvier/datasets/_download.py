"""Fetch a dataset's original files once: mirrors in order, SHA-256 checked, cached atomically.

    paths = fetch("mnist", files)   # -> [$RANVIER_HOME/datasets/mnist/train-images-idx3-ubyte.gz, ...]

The cache is ``$RANVIER_HOME/datasets/<dataset>`` (``~/.cache/ranvier/datasets/<dataset>``
when ``RANVIER_HOME`` is unset). A download is written to a temporary file in
that folder and renamed into place (``os.replace``) only once its checksum
matches, so a failed, corrupted or interrupted download leaves nothing behind.
A file found in the cache is checked again before it is used (about 0.2 s for
CIFAR-10's 170 MB). Every request goes through ``open_url``: tests replace it.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ranvier._version import __version__

CHUNK_BYTES = 1 << 20
TIMEOUT_S = 60


@dataclass(frozen=True)
class RemoteFile:
    """One original file of a dataset: its name, SHA-256 and the folders (URLs ending in "/") serving it."""

    name: str
    sha256: str
    mirrors: tuple
    size: int | None = None  # bytes, shown in messages

    def urls(self) -> list:
        return [mirror + self.name for mirror in self.mirrors]


ORIGINAL_ADVICE = "a corrupt or modified copy: replace it with the original, or pass verify=False to read it"


class DownloadError(OSError):
    """No mirror delivered a file (offline, or every server failed); the message says how to supply it by hand."""


class ChecksumError(ValueError):
    """A file's SHA-256 is not the published one."""


def home() -> Path:
    """``$RANVIER_HOME``, or ``~/.cache/ranvier``."""
    env = os.environ.get("RANVIER_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "ranvier"


def cache_dir(dataset: str) -> Path:
    """Where ``dataset``'s files are cached."""
    return home() / "datasets" / dataset


def open_url(url: str):
    """Open ``url`` for reading (a context manager with ``read(n)``); the one function tests replace."""
    import urllib.request  # here, not at import: `import ranvier` should not load the HTTP stack

    request = urllib.request.Request(url, headers={"User-Agent": f"ranvier/{__version__}"})
    return urllib.request.urlopen(request, timeout=TIMEOUT_S)


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_sha256(dataset: str, path: Path, f: RemoteFile, advice: str) -> None:
    """Raise ``ChecksumError`` (ending with ``advice``) unless ``path`` holds exactly the published ``f``."""
    actual = sha256_of(path)
    if actual != f.sha256:
        raise ChecksumError(
            f"[{dataset}] {path} has SHA-256 {actual}, expected {f.sha256} (the published {f.name}); {advice}"
        )


def check_original(dataset: str, path: Path, f: RemoteFile) -> None:
    """A file given with ``load_data(path=...)``: the published original, checked like a cached download.
    An extracted copy has no published checksum, so it is read only with ``verify=False``."""
    if path.name != f.name:
        raise ChecksumError(
            f"[{dataset}] {path} is an extracted copy of {f.name}, which has no published SHA-256 to check it "
            f"against; put the original {f.name} beside it, or pass verify=False to read it unchecked"
        )
    check_sha256(dataset, path, f, ORIGINAL_ADVICE)


def fetch(dataset: str, files, path_help: str = "", verbose: bool = True) -> list:
    """Paths of ``files`` in ``dataset``'s cache, downloading the missing ones.

    Raises ``ChecksumError`` when a cached file, or what every mirror served,
    has the wrong SHA-256, and ``DownloadError`` (naming the cache folder, every
    file it needs and ``path_help``) when no mirror can be reached.
    """
    folder = cache_dir(dataset)
    paths = []
    for f in files:
        path = folder / f.name
        if path.is_file():
            check_sha256(dataset, path, f, "this cached file is corrupt: delete it to download it again, or replace it")
        else:
            errors = _download(dataset, f, path, verbose)
            if errors:
                raise DownloadError(_offline_message(dataset, f, errors, files, folder, path_help))
        paths.append(path)
    return paths


def _download(dataset: str, f: RemoteFile, path: Path, verbose: bool) -> list:
    """Try each mirror until one serves ``f`` with the right checksum. Returns [] on success, else each
    mirror's error; raises ``ChecksumError`` instead when some mirror served the wrong bytes."""
    import http.client  # only when downloading (see open_url)

    path.parent.mkdir(parents=True, exist_ok=True)
    errors, mismatches = [], []
    for url in f.urls():
        if verbose:
            size = f" ({f.size / 1e6:.1f} MB)" if f.size else ""
            print(f"Downloading {url}{size}", file=sys.stderr)
        fd, tmp = tempfile.mkstemp(prefix=f".{f.name}.", suffix=".part", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                actual = _copy(url, out)
            if actual == f.sha256:
                os.replace(tmp, path)
                return []
            mismatches.append(f"  {url}: SHA-256 {actual}")
        except (OSError, http.client.HTTPException, ValueError) as e:  # URLError is an OSError; a bad URL a ValueError
            errors.append(f"  {url}: {e}")
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    if mismatches:
        others = "\nother mirrors failed:\n" + "\n".join(errors) if errors else ""
        raise ChecksumError(
            f"[{dataset}] {f.name}: checksum mismatch, expected SHA-256 {f.sha256}, got\n"
            + "\n".join(mismatches)
            + others
            + "\nnothing was written to the cache"
        )
    return errors


def _copy(url: str, out) -> str:
    """Stream ``url`` into ``out``; returns the SHA-256 of what was written."""
    digest = hashlib.sha256()
    with open_url(url) as response:
        for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _offline_message(dataset, failed: RemoteFile, errors, files, folder: Path, path_help: str) -> str:
    lines = [
        f"[{dataset}] could not download {failed.name}; every mirror failed:",
        *errors,
        f"To work offline, put these files in {folder} (the cache; set RANVIER_HOME to move it):",
    ]
    for f in files:
        state = "present" if (folder / f.name).is_file() else "missing"
        lines.append(f"  {f.name}  ({state}; SHA-256 {f.sha256}; from {f.urls()[0]})")
    lines.append(f"or call load_data(path=DIR) with DIR a directory holding the original files{path_help}.")
    return "\n".join(lines)
