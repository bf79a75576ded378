"""Optical character recognition (rapidocr, offline): page images to cells with boxes, in parallel
and cached (``pages``), the table grid and ruling lines (``image``), cell assembly (``cells``) and
reading repairs (``text``)."""
