"""docs/CONFIGURATION.md lists every setting as `config/settings.py` defines it: a setting added,
renamed or re-described without regenerating the page fails here."""

from __future__ import annotations

from pathlib import Path

from config.settings import Settings, reference

DOC = Path(__file__).resolve().parents[3] / "docs" / "CONFIGURATION.md"
BEGIN, END = "<!-- generated: python -m config.settings -->\n", "<!-- end of generated table -->"


def test_the_configuration_page_carries_the_generated_table() -> None:
    text = DOC.read_text()
    generated = text[text.index(BEGIN) + len(BEGIN) : text.index(END)]
    assert generated == reference(), "regenerate the table in docs/CONFIGURATION.md: python -m config.settings"


def test_every_setting_says_what_it_does() -> None:
    undescribed = [name for name, field in Settings.model_fields.items() if not field.description]
    assert undescribed == []
