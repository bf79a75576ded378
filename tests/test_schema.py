"""The schema doubles as the LLM's instructions: every field is described (in Chinese)."""

from __future__ import annotations

import re

import pytest

from extractor.core.records import ExtractionResult, Form, FundRow, Funds, Indicator, SourceRef

MODELS = [Form, Funds, FundRow, Indicator, SourceRef, ExtractionResult]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_field_has_a_chinese_description(model) -> None:
    schema = model.model_json_schema()
    props = schema["properties"]
    for name, spec in props.items():
        desc = spec.get("description", "")
        assert desc, f"{model.__name__}.{name} has no description"
        assert re.search(r"[\u4e00-\u9fff]", desc), f"{model.__name__}.{name} description is not Chinese"


def test_models_forbid_unknown_fields() -> None:
    with pytest.raises(Exception):
        Indicator(name="x", bogus=1)
