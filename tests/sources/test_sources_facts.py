"""Every dataset fact is written once (its manifest), and the catalogue, the definition and the torch class agree."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import eventpipe.datasets as public
from eventpipe.manifests import load_manifest, manifest_names
from eventpipe.sources import dataset_names, get_dataset
from eventpipe.sources.catalogue import catalogue

SOURCES = Path(__file__).resolve().parents[2] / "eventpipe" / "sources"
MANIFEST_FACTS = ("name", "aliases", "title", "license", "citation", "homepage")


BUILT_IN = [n for n in dataset_names() if type(get_dataset(n)).__module__.startswith("eventpipe.sources.")]


@pytest.mark.parametrize("name", BUILT_IN)
def test_definition_takes_its_facts_from_its_manifest(name: str) -> None:
    spec = get_dataset(name)
    manifest = load_manifest(name)
    assert spec.manifest == manifest
    for fact in MANIFEST_FACTS:
        assert getattr(spec, fact) == getattr(manifest, fact), fact
    assert spec.manual_download == manifest.manual


def test_every_built_in_definition_has_a_packaged_manifest() -> None:
    assert len(BUILT_IN) >= 7 and set(BUILT_IN) <= set(manifest_names())


@pytest.mark.parametrize("module", sorted(p.name for p in SOURCES.glob("*.py") if "\nSPEC = " in p.read_text()))
def test_no_definition_module_restates_a_manifest_fact(module: str) -> None:
    """The facts are passed nowhere but by ``from_manifest``: no keyword argument names them."""
    tree = ast.parse((SOURCES / module).read_text())
    restated = [kw.arg for node in ast.walk(tree) if isinstance(node, ast.Call) for kw in node.keywords
                if kw.arg in (*MANIFEST_FACTS[1:], "manual_download")]
    assert restated == []


def test_catalogue_rows_agree(tmp_path: Path) -> None:
    for row in catalogue(tmp_path):
        if row["name"] not in BUILT_IN:
            continue
        spec, manifest = get_dataset(row["name"]), load_manifest(row["name"])
        assert (row["title"], row["license"], row["manual_download"]) == (manifest.title, manifest.license,
                                                                          manifest.manual)
        assert row["sensor"] == "x".join(str(v) for v in spec.sensor) and row["classes"] == len(spec.classes)


@pytest.mark.parametrize("cls_name", [n for n in public.__all__ if n not in ("NeuromorphicDataset", "EventDataset", "dataset_class")])
def test_torch_class_reads_its_dataset(cls_name: str) -> None:
    cls = getattr(public, cls_name)
    spec = get_dataset(cls.dataset_name)
    assert spec.name == cls.dataset_name and public.dataset_class(spec.name) is cls
    for alias in spec.aliases:
        assert public.dataset_class(alias) is cls
