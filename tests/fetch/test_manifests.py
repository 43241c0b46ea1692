"""The packaged manifests, and validation errors that name the file and the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eventpipe.errors import ConfigError, UnknownNameError
from eventpipe.manifests import archive_kind, load_manifest, manifest_names
from eventpipe.paths import packaged_dir, packaged_path

from .conftest import write_manifest

BUILT_IN = {"demo", "dvs128", "nmnist", "ncaltech101", "cifar10dvs", "shd", "asl-dvs", "dvs-lip"}
MANUAL = {"dvs128", "asl-dvs", "dvs-lip"}
GOOD_FILE = {"name": "a.zip", "md5": "0" * 32, "urls": ["https://example.org/a.zip"]}


def test_every_built_in_dataset_has_a_valid_manifest() -> None:
    names = set(manifest_names())
    assert names >= BUILT_IN
    manifests = {name: load_manifest(name) for name in names}
    assert {n for n, m in manifests.items() if m.manual} == MANUAL
    for name, m in manifests.items():
        assert m.name == name and m.title and m.license and m.citation
        assert m.homepage.startswith("https://") or m.generator
        for entry in m.files:
            assert entry.checksums and entry.urls + entry.pages
            assert entry.extract == (archive_kind(entry.name) is not None)


def test_published_facts_are_recorded() -> None:
    dvs = load_manifest("dvs128").file("DvsGesture.tar.gz")
    assert dvs.checksums == {"md5": "8a5c71fb11e24e5ca5b11866ca6c00a1"} and dvs.manual
    assert any("kth.box.com" in u for u in dvs.urls) and any("ibm.ent.box.com" in p for p in dvs.pages)
    assert len(dvs.members) == 122 and dvs.provides == ("DvsGesture",)
    airplane = load_manifest("cifar10dvs").file("airplane.zip")
    assert airplane.size == 747_054_427 and set(airplane.checksums) == {"md5", "sha256"}
    assert len(airplane.urls) == 2  # two hosts for the same bytes, both first-class
    assert load_manifest("asl-dvs").files[0].size == 5_807_293_496
    assert load_manifest("demo").generator == "eventpipe.synth:write_demo_raw"


def test_aliases_and_unknown_names() -> None:
    assert load_manifest("DVSGesture").name == "dvs128"
    assert load_manifest("n-mnist").name == "nmnist"
    with pytest.raises(UnknownNameError, match=r"'nmnst'.*Valid values are \{.*'nmnist'"):
        load_manifest("nmnst")


def test_packaged_paths() -> None:
    path = packaged_path("manifest", "shd")
    assert path.name == "shd.toml" and path.is_file() and path.parent == packaged_dir("manifest")
    assert packaged_dir("pipeline").name == "pipelines"
    with pytest.raises(ConfigError, match="kind"):
        packaged_dir("model")
    with pytest.raises(UnknownNameError, match="nothing"):
        packaged_path("manifest", "nothing")


def _load(tmp_path: Path, files: list[dict[str, Any]] | None = None, **top: Any):
    return load_manifest(write_manifest(tmp_path / "x.toml", "x", [GOOD_FILE] if files is None else files, **top))


@pytest.mark.parametrize(("change", "key"), [
    ({"sha265": "0" * 64}, "files[0].sha265"),
    ({"md5": "abc"}, "files[0].md5"),
    ({"md5": ""}, "files[0].md5"),
    ({"urls": ["ftp://example.org/a.zip"]}, "files[0].urls"),
    ({"urls": []}, "files[0].urls"),
    ({"size": -1}, "files[0].size"),
    ({"size": "12"}, "files[0].size"),
    ({"extract_to": "../up"}, "files[0].extract_to"),
    ({"extract_to": "/abs"}, "files[0].extract_to"),
    ({"name": "sub/a.zip"}, "files[0].name"),
    ({"name": "a.rar", "extract": True}, "files[0].extract"),
    ({"manual": "yes"}, "files[0].manual"),
])
def test_bad_file_entries_name_the_file_and_key(tmp_path: Path, change: dict[str, Any], key: str) -> None:
    entry = {**GOOD_FILE, **change}
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, [entry])
    assert str(tmp_path / "x.toml") in str(err.value) and f" {key}:" in str(err.value)


@pytest.mark.parametrize(("top", "key"), [
    ({"schema": 2}, "schema"),
    ({"homepage": "not a url"}, "homepage"),
    ({"titel": "typo"}, "titel"),
    ({"aliases": ["Bad Name"]}, "aliases"),
    ({"generator": "os:system"}, "generator"),
])
def test_bad_top_level_keys_are_named(tmp_path: Path, top: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError, match=rf"x\.toml: {key}:"):
        _load(tmp_path, **top)


def test_an_unknown_key_names_the_file_the_key_and_the_valid_keys(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as top:
        _load(tmp_path, titel="typo")
    assert str(top.value) == (f"{tmp_path / 'x.toml'}: titel: unknown key; valid keys are {{aliases, citation, "
                              "files, generator, homepage, license, name, notes, schema, title}")
    with pytest.raises(ConfigError) as entry:
        _load(tmp_path, [{**GOOD_FILE, "sha265": "0" * 64}])
    message = str(entry.value)
    assert message.startswith(f"{tmp_path / 'x.toml'}: files[0].sha265: unknown key; valid keys are {{")
    assert "md5" in message and "sha256" in message and "\n" not in message


def test_structural_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="files: a manifest needs"):
        _load(tmp_path, [])
    with pytest.raises(ConfigError, match=r"files\[1\]\.name: 'a.zip' appears twice"):
        _load(tmp_path, [GOOD_FILE, GOOD_FILE])
    with pytest.raises(ConfigError, match=r"members\[0\]\.path"):
        _load(tmp_path, [{**GOOD_FILE, "members": [{"path": "../x", "md5": "1" * 32}]}])
    with pytest.raises(ConfigError, match="license: required key is missing"):
        (tmp_path / "y.toml").write_text('schema = 1\nname = "y"\ntitle = "t"\nhomepage = "https://e.org"\n'
                                         'citation = "c"\ngenerator = "eventpipe.synth:write_demo_raw"\n')
        load_manifest(tmp_path / "y.toml")
    (tmp_path / "z.toml").write_text("schema = [")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_manifest(tmp_path / "z.toml")
    with pytest.raises(ConfigError, match="does not exist"):
        load_manifest(tmp_path / "missing.toml")


def test_a_valid_custom_manifest_round_trips(tmp_path: Path) -> None:
    m = _load(tmp_path, [{**GOOD_FILE, "sha256": "A" * 64, "members": [{"path": "x/y.bin", "md5": "1" * 32}]}])
    entry = m.files[0]
    assert entry.checksums == {"md5": "0" * 32, "sha256": "a" * 64}  # lower-cased
    assert entry.extract and entry.extract_to == "." and entry.members[0].path == "x/y.bin"
    assert m.to_dict()["files"][0]["urls"] == ["https://example.org/a.zip"]
