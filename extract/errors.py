"""Errors raised by extraction.

::

    ExtractError
    ├── ReaderError          a file cannot be read (missing, empty, binary, too big)
    ├── PipelineConfigError  the spaCy pipeline or its model cannot be built
    └── GoldFormatError      a gold annotation file is malformed
"""

from __future__ import annotations

__all__ = ["ExtractError", "GoldFormatError", "PipelineConfigError", "ReaderError"]


class ExtractError(Exception):
    """Root of every error raised by ``extract``."""


class ReaderError(ExtractError):
    """A document could not be read; the message names the file and the reason."""


class PipelineConfigError(ExtractError):
    """The pipeline configuration or a shipped model is missing or invalid."""


class GoldFormatError(ExtractError):
    """A gold annotation file does not follow the format of DESIGN.md."""
