"""Every error a user can cause, under one root, so each command catches once and prints one line.

A ``KgbuildError`` message names what is wrong and where (file, field, server) and is fit to show
as a single line. Anything else that escapes is a bug and keeps its traceback. The classes also
derive from the builtin a caller would expect (``ValueError`` for bad input, ``RuntimeError`` for
an environment that cannot serve), so library users may catch either.
"""

from __future__ import annotations


class KgbuildError(Exception):
    """Base of every error caused by input, configuration, data, models or a store."""


class ConfigError(KgbuildError, ValueError):
    """A pipeline file, flag or packaged-asset name that cannot be used."""


class SchemaError(KgbuildError, ValueError):
    """A relation schema that is missing or inconsistent."""


class PromptError(KgbuildError, ValueError):
    """A prompt template that is missing or lacks one of its parts."""


class DatasetError(KgbuildError, ValueError):
    """A benchmark file in the wrong format, or a dataset that does not fit the pipeline."""


class BankError(KgbuildError, ValueError):
    """A retrieval example bank that is missing or malformed, or an encoder that cannot load."""


class TrainingError(KgbuildError, ValueError):
    """A training run that cannot start: no training section, empty split, unknown labels."""


class InputError(KgbuildError, FileNotFoundError):
    """An input folder or file that is not there."""


class ModelLoadError(KgbuildError, RuntimeError):
    """A generator model, adapter or model package that cannot be loaded."""


class EntityModelError(KgbuildError, RuntimeError):
    """A spaCy pipeline that is not installed or has no NER."""


class StoreError(KgbuildError, RuntimeError):
    """A graph-store failure: unreachable, refused, locked, or a failed transaction."""


class ReadOnlyQueryError(StoreError):
    """A query that would write, run without ``--write``."""


class MalformedRecordError(KgbuildError, ValueError):
    """A stored record (an edge's evidence) that is not what kgbuild writes: damaged, or edited by hand."""
