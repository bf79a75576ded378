"""Evaluation tooling, apart from the product: the scorer (``metrics``), the eval harness behind
``extractor eval`` (``harness``) and the renderers that turn gold text into docx/xlsx/pdf/scan
fixtures (``fixtures``). The product never imports this package."""
