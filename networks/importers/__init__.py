"""The importer registry: one parser per file format, chosen by name."""

from __future__ import annotations

from pathlib import Path

from networks.importers.base import Importer, ImportFormatError, ImportOptions
from networks.importers.higgs import HiggsImporter
from networks.importers.kloutsample import KloutSampleImporter
from networks.importers.mastodon import MastodonImporter
from networks.importers.snap import SnapImporter
from networks.importers.stackexchange import StackExchangeImporter
from networks.importers.x_archive import XArchiveImporter

IMPORTERS: dict[str, type[Importer]] = {
    cls.name: cls
    for cls in (
        HiggsImporter,
        SnapImporter,
        StackExchangeImporter,
        KloutSampleImporter,
        XArchiveImporter,
        MastodonImporter,
    )
}

__all__ = ["IMPORTERS", "ImportFormatError", "ImportOptions", "Importer", "make_importer"]


def make_importer(
    format: str,
    path: str | Path,
    *,
    network: str | None = None,
    kind: str | None = None,
    account: str | None = None,
) -> Importer:
    """The importer for FORMAT reading PATH; ImportFormatError if either is unusable."""
    cls = IMPORTERS.get(format)
    if cls is None:
        raise ImportFormatError(f"unknown format {format!r}; choose one of {', '.join(IMPORTERS)}")
    options = ImportOptions(network=network or cls.default_network, kind=kind, account=account)
    return cls(Path(path), options)
