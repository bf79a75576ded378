"""One file through the stages (``process``), many files in a batch (``batch``) and into the review
database (``importer``)."""

from extractor.pipeline.process import process, process_file

__all__ = ["process", "process_file"]
