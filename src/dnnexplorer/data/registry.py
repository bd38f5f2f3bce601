"""The datasets dnnexplorer knows: their files, where to download them, and their checksums.

Both datasets hold 28x28 grayscale images in four IDX files (training and test images and
labels). A file is recognised by the MD5 of its *decompressed* bytes, so a copy recompressed at
another gzip level (as Debian ships some) is still accepted; the MD5 of the canonical .gz is kept
for reference. `mean` and `std` are the training set's pixel statistics on the [0, 1] scale,
used to normalise inputs (x - mean) / std, so every input starts near zero with unit spread.
"""

from __future__ import annotations

from dataclasses import dataclass

from dnnexplorer.errors import ConfigError

SPLITS = ("train", "test")
KINDS = ("images", "labels")


@dataclass(frozen=True)
class DataFile:
    """One IDX file of a dataset, e.g. the training images."""

    split: str  # "train" or "test"
    kind: str  # "images" or "labels"
    name: str  # the file name without .gz, e.g. "train-images-idx3-ubyte"
    md5: str  # MD5 of the decompressed bytes: what identifies the file
    gz_md5: str = ""  # MD5 of the canonical .gz download (informative only)

    @property
    def gz_name(self) -> str:
        return self.name + ".gz"


@dataclass(frozen=True)
class Augmentation:
    """The random changes `dnnx train --augment` makes to this dataset's training images: those
    that keep an image's class and that its test images could show (train/augment.py)."""

    max_shift: float = 2.0  # pixels, up to this far in x and in y
    max_degrees: float = 10.0  # a rotation up to this many degrees, either way
    mirror: bool = False  # a left-right flip of half the images


@dataclass(frozen=True)
class DatasetSpec:
    """Everything needed to find, download, verify and describe one dataset."""

    name: str
    title: str
    classes: tuple[str, ...]
    files: tuple[DataFile, ...]
    mirrors: tuple[str, ...]  # base URLs ending in "/", tried in order
    mean: float
    std: float
    license: str = ""
    augmentation: Augmentation = Augmentation()  # digits: small shifts and tilts, no mirroring

    def file(self, split: str, kind: str) -> DataFile:
        """The file holding `kind` ("images"/"labels") of `split` ("train"/"test")."""
        for f in self.files:
            if f.split == split and f.kind == kind:
                return f
        raise ConfigError(f"dataset '{self.name}' has no {split} {kind} file")


def _files(md5: dict[str, str], gz_md5: dict[str, str]) -> tuple[DataFile, ...]:
    stems = {"train": "train", "test": "t10k"}
    ids = {"images": "idx3", "labels": "idx1"}
    out = []
    for split in SPLITS:
        for kind in KINDS:
            name = f"{stems[split]}-{kind}-{ids[kind]}-ubyte"
            out.append(DataFile(split, kind, name, md5[name], gz_md5[name]))
    return tuple(out)


MNIST = DatasetSpec(
    name="mnist",
    title="MNIST handwritten digits (LeCun, Cortes, Burges)",
    classes=tuple(str(d) for d in range(10)),
    files=_files(
        md5={
            "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
            "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
            "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
            "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
        },
        gz_md5={
            "train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c",
        },
    ),
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    mean=0.1307,
    std=0.3081,
    license="CC BY-SA 3.0",
)

FASHION_MNIST = DatasetSpec(
    name="fashion-mnist",
    title="Fashion-MNIST clothing images (Zalando Research)",
    classes=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    files=_files(
        md5={
            "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
            "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
            "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
            "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
        },
        gz_md5={
            "train-images-idx3-ubyte": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte": "bb300cfdad3c16e7a12a480ee83cd310",
        },
    ),
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    mean=0.2860,
    std=0.3530,
    license="MIT",
    # A mirrored shirt is still a shirt, and the test set's garments face either way. They are
    # centred, upright and fill the frame, so shifts and tilts show the model clothes the test
    # set never has: in short runs they cost accuracy (BENCHMARKS.md), mirroring does not.
    augmentation=Augmentation(max_shift=0.0, max_degrees=0.0, mirror=True),
)

_DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in (MNIST, FASHION_MNIST)}


def dataset_names() -> list[str]:
    """The names of all known datasets, e.g. ["mnist", "fashion-mnist"]."""
    return list(_DATASETS)


def get_dataset(name: str) -> DatasetSpec:
    """The spec of dataset `name`; an unknown name is a ConfigError listing the known ones."""
    try:
        return _DATASETS[name]
    except KeyError:
        known = ", ".join(dataset_names())
        raise ConfigError(f"unknown dataset '{name}' (known: {known})") from None
