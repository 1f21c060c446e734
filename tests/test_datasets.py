"""Dataset loaders on tiny files made here: IDX and CIFAR parsing, load_data(path=DIR), and the download
cache (mirrors, checksums, atomic writes, offline message) through a fake opener. Nothing is downloaded."""

import gzip
import hashlib
import io
import tarfile
import urllib.error
import urllib.request

import numpy as np
import pytest

from ranvier.datasets import _download, _idx_dataset, cifar, cifar10, fashion_mnist, idx, mnist
from ranvier.datasets._download import ChecksumError, DownloadError, RemoteFile


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """No test reaches the network: only file:// URLs open; the cache lives in tmp_path."""

    def file_urls_only(url):
        if not url.startswith("file:"):
            raise urllib.error.URLError(f"test is offline: {url}")
        return urllib.request.urlopen(url)

    monkeypatch.setattr(_download, "open_url", file_urls_only)
    monkeypatch.setenv("RANVIER_HOME", str(tmp_path / "home"))


def idx_bytes(a: np.ndarray) -> bytes:
    code = {np.dtype(np.uint8): 0x08, np.dtype(np.int16): 0x0B, np.dtype(np.float32): 0x0D}[a.dtype]
    header = bytes([0, 0, code, a.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in a.shape)
    return header + a.astype(a.dtype.newbyteorder(">")).tobytes()


def tiny_idx_split(rng, n):
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8)


def write_idx_dataset(folder, rng, compress=True, names=None):
    """The four MNIST files (5 training, 3 test images) in ``folder``; returns the arrays."""
    (x_train, y_train), (x_test, y_test) = tiny_idx_split(rng, 5), tiny_idx_split(rng, 3)
    folder.mkdir(parents=True, exist_ok=True)
    for name, a in zip(names or [n[:-3] for n in _idx_dataset.FILE_NAMES], (x_train, y_train, x_test, y_test)):
        data = idx_bytes(a)
        (folder / (name + ".gz" if compress else name)).write_bytes(gzip.compress(data) if compress else data)
    return (x_train, y_train), (x_test, y_test)


def publish(monkeypatch, module, folder):
    """Make the tiny files in ``folder`` the published originals of ``module`` (their SHA-256 in FILES)."""
    files = [RemoteFile(f.name, _download.sha256_of(folder / f.name), f.mirrors) for f in module.FILES]
    monkeypatch.setattr(module, "FILES", files)


def cifar_records(images: np.ndarray, labels: np.ndarray) -> bytes:
    """NHWC images -> CIFAR binary records (label byte, then the R, G and B planes)."""
    planes = images.transpose(0, 3, 1, 2).reshape(len(images), -1)
    return np.concatenate([labels[:, None], planes], axis=1).astype(np.uint8).tobytes()


def tiny_cifar(rng):
    """{batch file name: (images, labels)}: 2 images per training batch, 3 in the test batch."""
    return {
        name: (rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8))
        for name, n in [(b, 2) for b in cifar.TRAIN_BATCHES] + [(cifar.TEST_BATCH, 3)]
    }


def write_cifar_tarball(path, batches, extra=True):
    with tarfile.open(path, "w:gz") as tar:
        members = {f"cifar-10-batches-bin/{name}": cifar_records(*xy) for name, xy in batches.items()}
        if extra:
            members["cifar-10-batches-bin/batches.meta.txt"] = b"airplane\nautomobile\n"
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def assert_cifar_split(loaded, batches):
    (x_train, y_train), (x_test, y_test) = loaded
    assert x_train.shape == (10, 32, 32, 3) and x_train.dtype == np.uint8 and x_train.flags.c_contiguous
    assert y_train.shape == (10, 1) and y_train.dtype == np.uint8
    assert x_test.shape == (3, 32, 32, 3) and y_test.shape == (3, 1)
    np.testing.assert_array_equal(x_train, np.concatenate([batches[n][0] for n in cifar.TRAIN_BATCHES]))
    np.testing.assert_array_equal(y_train[:, 0], np.concatenate([batches[n][1] for n in cifar.TRAIN_BATCHES]))
    np.testing.assert_array_equal(x_test, batches[cifar.TEST_BATCH][0])
    np.testing.assert_array_equal(y_test[:, 0], batches[cifar.TEST_BATCH][1])


# ---- IDX ------------------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float32])
def test_idx_round_trip(tmp_path, rng, compress, dtype):
    a = (rng.standard_normal((4, 3, 2)) * 100).astype(dtype)
    data = idx_bytes(a)
    path = tmp_path / "a.idx"
    path.write_bytes(gzip.compress(data) if compress else data)
    b = idx.read_idx(path)
    assert b.dtype == np.dtype(dtype) and b.dtype.isnative and b.flags.writeable
    np.testing.assert_array_equal(a, b)


def test_idx_labels_vector(tmp_path):
    (tmp_path / "labels").write_bytes(idx_bytes(np.array([3, 1, 4], np.uint8)))
    np.testing.assert_array_equal(idx.read_idx(tmp_path / "labels"), [3, 1, 4])


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "not an IDX file"),
        (b"garbage, not IDX at all", "not an IDX file"),
        (bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 7]), "not an IDX file"),  # unknown type code
        (bytes([0, 0, 8, 3, 0, 0, 0, 2]), "truncated IDX header"),
        (bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2, 3]), "truncated"),
        (bytes([0, 0, 8, 1, 0, 0, 0, 2, 1, 2, 3]), "trailing bytes"),
    ],
)
def test_idx_rejects_bad_files_naming_them(tmp_path, data, message):
    path = tmp_path / "bad-file-idx1-ubyte"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=message) as e:
        idx.read_idx(path)
    assert str(path) in str(e.value)


def test_idx_rejects_truncated_and_corrupt_gzip(tmp_path):
    packed = gzip.compress(idx_bytes(np.arange(1000, dtype=np.uint8).reshape(10, 100)))
    for name, data in [
        ("cut.gz", packed[: len(packed) // 2]),
        ("corrupt.gz", packed[:10] + b"\xff" * 40 + packed[50:]),
    ]:
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError, match=name):
            idx.read_idx(tmp_path / name)


# ---- CIFAR binary ------------------------------------------------------------------------------


def test_cifar_record_layout():
    """A record is the label then the R, G, B planes row-major; images come back NHWC."""
    image = np.zeros((32, 32, 3), np.uint8)
    image[0, 1] = (10, 20, 30)  # row 0, column 1
    record = bytearray(cifar.RECORD_BYTES)
    record[0] = 7
    record[1 + 1], record[1 + 1024 + 1], record[1 + 2048 + 1] = 10, 20, 30
    images, labels = cifar.parse_batch(bytes(record))
    assert images.shape == (1, 32, 32, 3) and images.dtype == np.uint8
    np.testing.assert_array_equal(images[0], image)
    np.testing.assert_array_equal(labels, [7])
    assert cifar_records(images, labels) == bytes(record)


def test_cifar_tarball_is_read_without_extracting(tmp_path, rng, monkeypatch):
    batches = tiny_cifar(rng)
    write_cifar_tarball(tmp_path / cifar.TARBALL, batches)
    publish(monkeypatch, cifar10, tmp_path)
    assert_cifar_split(cifar10.load_data(path=tmp_path / cifar.TARBALL), batches)
    assert_cifar_split(cifar10.load_data(path=tmp_path), batches)  # a folder holding the tarball
    assert sorted(p.name for p in tmp_path.iterdir()) == [cifar.TARBALL]


@pytest.mark.parametrize("subfolder", ["", "cifar-10-batches-bin"])
def test_cifar_bin_files_in_a_folder(tmp_path, rng, subfolder):
    batches = tiny_cifar(rng)
    folder = tmp_path / subfolder
    folder.mkdir(exist_ok=True)
    for name, xy in batches.items():
        (folder / name).write_bytes(cifar_records(*xy))
    assert_cifar_split(cifar10.load_data(path=str(tmp_path), verify=False), batches)


def test_cifar_rejects_bad_batches_naming_them(tmp_path, rng):
    batches = tiny_cifar(rng)
    for name, xy in batches.items():
        (tmp_path / name).write_bytes(cifar_records(*xy))
    (tmp_path / "data_batch_3.bin").write_bytes(cifar_records(*batches["data_batch_3.bin"])[:-5])
    with pytest.raises(ValueError, match="data_batch_3.bin.*not a CIFAR-10 binary batch"):
        cifar10.load_data(path=tmp_path, verify=False)
    bad_label = bytearray(cifar_records(*batches["data_batch_3.bin"]))
    bad_label[cifar.RECORD_BYTES] = 10  # second record
    (tmp_path / "data_batch_3.bin").write_bytes(bytes(bad_label))
    with pytest.raises(ValueError, match="data_batch_3.bin.*record 1 has label 10"):
        cifar10.load_data(path=tmp_path, verify=False)


def test_cifar_rejects_bad_tarballs_naming_them(tmp_path, rng):
    batches = tiny_cifar(rng)
    write_cifar_tarball(tmp_path / "full.tar.gz", batches)
    data = (tmp_path / "full.tar.gz").read_bytes()
    (tmp_path / "cut.tar.gz").write_bytes(data[: len(data) // 2])
    (tmp_path / "garbage.tar.gz").write_bytes(b"this is not a tarball" * 10)
    del batches[cifar.TEST_BATCH]
    write_cifar_tarball(tmp_path / "partial.tar.gz", batches)
    for name, message in [
        ("cut.tar.gz", "not a readable CIFAR-10 tarball"),
        ("garbage.tar.gz", "not a readable CIFAR-10 tarball"),
        ("partial.tar.gz", "lacks test_batch.bin"),
    ]:
        with pytest.raises(ValueError, match=message) as e:
            cifar10.load_data(path=tmp_path / name, verify=False)
        assert name in str(e.value)


def test_cifar_folder_without_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="cifar-10-binary.tar.gz"):
        cifar10.load_data(path=tmp_path)


# ---- MNIST and Fashion-MNIST from a folder --------------------------------------------------------


@pytest.mark.parametrize("module", [mnist, fashion_mnist])
@pytest.mark.parametrize("compress", [True, False])
def test_idx_datasets_from_a_folder(tmp_path, rng, monkeypatch, module, compress):
    expected = write_idx_dataset(tmp_path, rng, compress)
    if compress:
        publish(monkeypatch, module, tmp_path)
    loaded = module.load_data(path=tmp_path, verify=compress)
    for (x, y), (x_ref, y_ref) in zip(loaded, expected):
        assert x.dtype == np.uint8 and x.shape == x_ref.shape and x.shape[1:] == (28, 28)  # Keras: no channel axis
        assert y.dtype == np.uint8 and y.shape == (len(x),)
        np.testing.assert_array_equal(x, x_ref)
        np.testing.assert_array_equal(y, y_ref)


def test_mnist_accepts_dotted_names(tmp_path, rng):
    names = ["train-images.idx3-ubyte", "train-labels.idx1-ubyte", "t10k-images.idx3-ubyte", "t10k-labels.idx1-ubyte"]
    (_, _), (x_test, _) = write_idx_dataset(tmp_path, rng, compress=False, names=names)
    np.testing.assert_array_equal(mnist.load_data(path=tmp_path, verify=False)[1][0], x_test)


def test_mnist_folder_errors(tmp_path, rng):
    with pytest.raises(FileNotFoundError, match="not a directory"):
        mnist.load_data(path=tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.gz"):
        mnist.load_data(path=tmp_path)
    write_idx_dataset(tmp_path, rng)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(4, np.uint8))))
    with pytest.raises(ValueError, match="3 images but .*t10k-labels-idx1-ubyte.gz holds 4 labels"):
        mnist.load_data(path=tmp_path, verify=False)


@pytest.mark.parametrize("module", [mnist, fashion_mnist])
def test_idx_folder_is_checked_against_the_published_sha256(tmp_path, rng, monkeypatch, module):
    write_idx_dataset(tmp_path, rng)
    publish(monkeypatch, module, tmp_path)
    module.load_data(path=tmp_path)
    image_file = tmp_path / "t10k-images-idx3-ubyte.gz"
    data = bytearray(image_file.read_bytes())
    data[-20] ^= 1  # one flipped bit inside the compressed pixels
    image_file.write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match=r"t10k-images-idx3-ubyte.gz has SHA-256 \w+, expected .*verify=False"):
        module.load_data(path=tmp_path)


def test_idx_folder_refuses_extracted_copies_unless_unverified(tmp_path, rng):
    write_idx_dataset(tmp_path, rng, compress=False)
    with pytest.raises(ChecksumError, match="extracted copy of train-images-idx3-ubyte.gz.*verify=False"):
        mnist.load_data(path=tmp_path)
    mnist.load_data(path=tmp_path, verify=False)


def test_idx_labels_out_of_range_are_refused(tmp_path, rng, monkeypatch):
    write_idx_dataset(tmp_path, rng)
    publish(monkeypatch, mnist, tmp_path)
    labels = tmp_path / "train-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(idx_bytes(np.array([1, 2, 250, 3, 4], np.uint8))))
    with pytest.raises(ChecksumError, match=labels.name):  # the published SHA-256 catches it first
        mnist.load_data(path=tmp_path)
    with pytest.raises(ValueError, match=rf"{labels.name}: labels must be 0..9, label 2 is 250"):
        mnist.load_data(path=tmp_path, verify=False)


def test_cifar_tarball_in_a_folder_is_checked_and_bin_files_need_verify_false(tmp_path, rng, monkeypatch):
    batches = tiny_cifar(rng)
    write_cifar_tarball(tmp_path / cifar.TARBALL, batches)
    publish(monkeypatch, cifar10, tmp_path)
    data = bytearray((tmp_path / cifar.TARBALL).read_bytes())
    data[len(data) // 2] ^= 0x10
    (tmp_path / "flipped.tar.gz").write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match=r"flipped.tar.gz has SHA-256 \w+, expected"):
        cifar10.load_data(path=tmp_path / "flipped.tar.gz")
    extracted = tmp_path / "extracted"
    extracted.mkdir()
    for name, xy in batches.items():
        (extracted / name).write_bytes(cifar_records(*xy))
    with pytest.raises(ChecksumError, match="extracted .bin files.*verify=False"):
        cifar10.load_data(path=extracted)
    bad_label = bytearray(cifar_records(*batches[cifar.TEST_BATCH]))
    bad_label[0] = 250
    (extracted / cifar.TEST_BATCH).write_bytes(bytes(bad_label))
    with pytest.raises(ValueError, match="test_batch.bin.*record 0 has label 250"):
        cifar10.load_data(path=extracted, verify=False)


# ---- download cache -------------------------------------------------------------------------------


class FakeServer:
    """Serves bytes by URL from memory and records every request."""

    def __init__(self, files=None):
        self.files = dict(files or {})
        self.requests = []

    def __call__(self, url):
        self.requests.append(url)
        if url not in self.files:
            raise urllib.error.URLError(f"no route to {url}")
        return io.BytesIO(self.files[url])


class BrokenStream:
    """A response that delivers a few bytes, then fails (a dropped connection) or is interrupted."""

    def __init__(self, error):
        self.error, self.sent = error, False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def read(self, n):
        if self.sent:
            raise self.error
        self.sent = True
        return b"partial"


DATA = b"the original file"
SHA = hashlib.sha256(DATA).hexdigest()
FILE = RemoteFile("data.bin", SHA, ("https://one.example/", "https://two.example/"), len(DATA))


def cache_contents(dataset="toy"):
    folder = _download.cache_dir(dataset)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_cache_dir_honours_ranvier_home(tmp_path, monkeypatch):
    assert _download.cache_dir("mnist") == tmp_path / "home" / "datasets" / "mnist"
    monkeypatch.delenv("RANVIER_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert _download.cache_dir("mnist") == tmp_path / "user" / ".cache" / "ranvier" / "datasets" / "mnist"


def test_download_caches_and_reuses(monkeypatch):
    server = FakeServer({"https://one.example/data.bin": DATA})
    monkeypatch.setattr(_download, "open_url", server)
    [path] = _download.fetch("toy", [FILE], verbose=False)
    assert path == _download.cache_dir("toy") / "data.bin" and path.read_bytes() == DATA
    assert cache_contents() == ["data.bin"]
    assert _download.fetch("toy", [FILE], verbose=False) == [path]
    assert server.requests == ["https://one.example/data.bin"]  # the second call never opened a URL


def test_download_falls_back_to_the_next_mirror(monkeypatch):
    server = FakeServer({"https://two.example/data.bin": DATA})
    monkeypatch.setattr(_download, "open_url", server)
    [path] = _download.fetch("toy", [FILE], verbose=False)
    assert path.read_bytes() == DATA
    assert server.requests == ["https://one.example/data.bin", "https://two.example/data.bin"]


def test_download_through_the_real_opener_from_a_file_url(tmp_path, monkeypatch):
    monkeypatch.undo()  # the real open_url (urllib), but on a file:// URL: no network
    monkeypatch.setenv("RANVIER_HOME", str(tmp_path / "home"))
    (tmp_path / "mirror").mkdir()
    (tmp_path / "mirror" / "data.bin").write_bytes(DATA)
    remote = RemoteFile("data.bin", SHA, ((tmp_path / "mirror").as_uri() + "/",))
    assert _download.fetch("toy", [remote], verbose=False)[0].read_bytes() == DATA


def test_checksum_mismatch_names_the_file_and_leaves_nothing(monkeypatch):
    wrong = b"a tampered file"
    monkeypatch.setattr(_download, "open_url", FakeServer({u: wrong for u in FILE.urls()}))
    with pytest.raises(ChecksumError) as e:
        _download.fetch("toy", [FILE], verbose=False)
    message = str(e.value)
    assert "data.bin" in message and SHA in message and hashlib.sha256(wrong).hexdigest() in message
    assert isinstance(e.value, ValueError)
    assert cache_contents() == []


@pytest.mark.parametrize("error", [ConnectionResetError("connection reset"), KeyboardInterrupt()])
def test_interrupted_download_leaves_nothing(monkeypatch, error):
    monkeypatch.setattr(_download, "open_url", lambda url: BrokenStream(error))
    with pytest.raises(DownloadError if isinstance(error, OSError) else KeyboardInterrupt):
        _download.fetch("toy", [FILE], verbose=False)
    assert cache_contents() == []  # not even the temporary file


def test_offline_message_says_which_files_go_where(monkeypatch):
    server = FakeServer()
    monkeypatch.setattr(_download, "open_url", server)
    with pytest.raises(DownloadError) as e:
        mnist.load_data()
    message = str(e.value)
    assert str(_download.cache_dir("mnist")) in message and "load_data(path=DIR)" in message
    for f in mnist.FILES:
        assert f.name in message
    assert all(url in message for url in mnist.FILES[0].urls())  # each mirror's error is shown
    assert len(server.requests) == len(mnist.MIRRORS)  # stops at the first file no mirror serves
    assert cache_contents("mnist") == []


def test_cached_file_with_wrong_hash_is_rejected(monkeypatch):
    server = FakeServer({"https://one.example/data.bin": DATA})
    monkeypatch.setattr(_download, "open_url", server)
    folder = _download.cache_dir("toy")
    folder.mkdir(parents=True)
    (folder / "data.bin").write_bytes(b"something else")
    with pytest.raises(ChecksumError, match="data.bin.*delete it"):
        _download.fetch("toy", [FILE], verbose=False)
    assert server.requests == []


@pytest.mark.parametrize("module", [mnist, fashion_mnist])
def test_idx_dataset_downloads_then_loads_from_cache(tmp_path, rng, monkeypatch, module):
    expected = write_idx_dataset(tmp_path / "originals", rng)
    files = [RemoteFile(f.name, _download.sha256_of(tmp_path / "originals" / f.name), f.mirrors) for f in module.FILES]
    server = FakeServer({f.urls()[0]: (tmp_path / "originals" / f.name).read_bytes() for f in files})
    monkeypatch.setattr(module, "FILES", files)
    monkeypatch.setattr(_download, "open_url", server)
    for _ in range(2):
        (x_train, y_train), (x_test, y_test) = module.load_data()
        np.testing.assert_array_equal(x_train, expected[0][0])
        np.testing.assert_array_equal(y_test, expected[1][1])
    assert len(server.requests) == 4
    name = module.__name__.rsplit(".", 1)[-1]
    assert cache_contents(name) == sorted(f.name for f in files)


def test_cifar10_downloads_the_tarball(tmp_path, rng, monkeypatch):
    batches = tiny_cifar(rng)
    write_cifar_tarball(tmp_path / "original.tar.gz", batches)
    data = (tmp_path / "original.tar.gz").read_bytes()
    [f] = cifar10.FILES
    monkeypatch.setattr(cifar10, "FILES", [RemoteFile(f.name, hashlib.sha256(data).hexdigest(), f.mirrors)])
    monkeypatch.setattr(_download, "open_url", FakeServer({f.urls()[0]: data}))
    assert_cifar_split(cifar10.load_data(), batches)
    assert cache_contents("cifar10") == [cifar.TARBALL]


def test_published_file_lists():
    for module in (mnist, fashion_mnist):
        assert [f.name for f in module.FILES] == list(_idx_dataset.FILE_NAMES)
    for f in mnist.FILES + fashion_mnist.FILES + cifar10.FILES:
        assert len(f.sha256) == 64 and int(f.sha256, 16) >= 0 and f.sha256 == f.sha256.lower()
        assert f.mirrors and all(m.endswith("/") for m in f.mirrors) and f.size
    assert len({f.sha256 for f in mnist.FILES + fashion_mnist.FILES + cifar10.FILES}) == 9
