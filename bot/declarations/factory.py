"""Builds the declaration service; reads the taxonomy from content."""

from __future__ import annotations

from bot.core.content import Content
from bot.declarations.service import DeclarationService
from bot.declarations.taxonomy import (
    Taxonomy,
    load_taxonomy,
)
from bot.privacy.core import PrivacyCore

TAXONOMY = "declarations/taxonomy"


def taxonomy_of(content: Content) -> Taxonomy:
    """The questions and answer lists in `content/declarations/taxonomy.yaml`."""
    return load_taxonomy(content.data(TAXONOMY))


def build_declaration_service(content: Content, privacy: PrivacyCore) -> DeclarationService:
    """The declaration service on the content's taxonomy and the privacy core's keys."""
    return DeclarationService(
        taxonomy=taxonomy_of(content), cipher=privacy.cipher, pseudonyms=privacy.pseudonyms
    )
