"""DVS-Lip (Tan et al., CVPR 2022): 100 spoken English words seen as lip motion, mouth crops of 128x128.

Raw layout (``DVS-Lip.zip`` extracted; the host needs a browser, so ``eventpipe download dvs-lip
--source DIR`` takes the user's copy)::

    DVS-Lip/train/<word>/<n>.npy    structured arrays with fields x, y, p, t (t in µs)
    DVS-Lip/test/<word>/<n>.npy

The label is the word folder (classes in alphabetical order); the split is the official train/test
one. Per-sample metadata: ``file`` (the file stem).
"""

from __future__ import annotations

from eventpipe.events import SensorSize
from eventpipe.sources.class_folders import SplitFolderSpec

CLASSES = tuple(["accused", "action", "allow", "allowed", "america", "american", "another", "around", "attacks", "banks", "become", "being", "benefit", "benefits", "between", "billion", "called", "capital", "challenge", "change", "chief", "couple", "court", "death", "described", "difference", "different", "during", "economic", "education", "election", "england", "evening", "everything", "exactly", "general", "germany", "giving", "ground", "happen", "happened", "having", "heavy", "house", "hundreds", "immigration", "judge", "labour", "leaders", "legal", "little", "london", "majority", "meeting", "military", "million", "minutes", "missing", "needs", "number", "numbers", "paying", "perhaps", "point", "potential", "press", "price", "question", "really", "right", "russia", "russian", "saying", "security", "several", "should", "significant", "spend", "spent", "started", "still", "support", "syria", "syrian", "taken", "taking", "terms", "these", "thing", "think", "times", "tomorrow", "under", "warning", "water", "welcome", "words", "worst", "years", "young"])

SPEC = SplitFolderSpec.from_manifest(
    "dvs-lip",
    sensor=SensorSize(128, 128, 2),
    classes=CLASSES,
    size="",
    meta_columns=("file",),
    split_folders={"train": "train", "test": "test"},
    suffix=".npy",
    reader_format="npy",
)
