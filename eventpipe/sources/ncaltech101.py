"""N-Caltech101 (Orchard et al. 2015): Caltech101 images seen by an ATIS camera, up to 240x180.

Raw layout (``Caltech101.zip`` extracted)::

    Caltech101/<class>/image_0001.bin    8,709 ATIS 40-bit recordings in 101 folders
                                         (100 object classes and BACKGROUND_Google)

Class indices follow Python's sorted order of the folder names (upper case first), as in a
``DatasetFolder``. The dataset has no official split: by default 20 % of each class goes to test,
chosen by :func:`~eventpipe.sources.splits.hash_split` of the file names (option
``test_fraction``). Per-sample metadata: ``file``.
"""

from __future__ import annotations

from pathlib import Path

from eventpipe.events import SensorSize
from eventpipe.sources.base import find_dir
from eventpipe.sources.class_folders import ClassFolderSpec

CLASSES = tuple(sorted((
    "BACKGROUND_Google", "Faces_easy", "Leopards", "Motorbikes", "accordion", "airplanes", "anchor", "ant",
    "barrel", "bass", "beaver", "binocular", "bonsai", "brain", "brontosaurus", "buddha", "butterfly",
    "camera", "cannon", "car_side", "ceiling_fan", "cellphone", "chair", "chandelier", "cougar_body",
    "cougar_face", "crab", "crayfish", "crocodile", "crocodile_head", "cup", "dalmatian", "dollar_bill",
    "dolphin", "dragonfly", "electric_guitar", "elephant", "emu", "euphonium", "ewer", "ferry", "flamingo",
    "flamingo_head", "garfield", "gerenuk", "gramophone", "grand_piano", "hawksbill", "headphone",
    "hedgehog", "helicopter", "ibis", "inline_skate", "joshua_tree", "kangaroo", "ketch", "lamp", "laptop",
    "llama", "lobster", "lotus", "mandolin", "mayfly", "menorah", "metronome", "minaret", "nautilus",
    "octopus", "okapi", "pagoda", "panda", "pigeon", "pizza", "platypus", "pyramid", "revolver", "rhino",
    "rooster", "saxophone", "schooner", "scissors", "scorpion", "sea_horse", "snoopy", "soccer_ball",
    "stapler", "starfish", "stegosaurus", "stop_sign", "strawberry", "sunflower", "tick", "trilobite",
    "umbrella", "watch", "water_lilly", "wheelchair", "wild_cat", "windsor_chair", "wrench", "yin_yang",
)))


class NCaltech101Spec(ClassFolderSpec):
    """Class folders inside ``Caltech101/``."""

    def dataset_folder(self, raw_dir: Path) -> Path:
        return find_dir(raw_dir, self.marker, f"{self.title} folder") / "Caltech101"


SPEC = NCaltech101Spec.from_manifest(
    "ncaltech101",
    sensor=SensorSize(240, 180, 2),
    classes=CLASSES,
    size="~4 GB",
    meta_columns=("file",),
    defaults={"test_fraction": 0.2},
    marker=("Caltech101",),
    suffix=".bin",
    reader_format="atis",
)
