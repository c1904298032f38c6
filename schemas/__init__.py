"""Pydantic models shared by every datavet package: records, configs, findings, manifests.

Imports only pydantic (and PyYAML for config files), so `import schemas` stays cheap.
"""

from schemas.errors import ConfigError, DatavetError, UsageError
from schemas.findings import CheckResult, CheckStatus, Finding, QuarantineEntry, Severity
from schemas.manifest import RunManifest
from schemas.records import (
    RECORD_MODELS,
    ChatRecord,
    ClassificationRecord,
    CompletionRecord,
    Message,
    RecordKind,
)
from schemas.results import CheckReport, InputSummary

__all__ = [
    "RECORD_MODELS",
    "ChatRecord",
    "CheckReport",
    "CheckResult",
    "CheckStatus",
    "ClassificationRecord",
    "CompletionRecord",
    "ConfigError",
    "DatavetError",
    "Finding",
    "InputSummary",
    "Message",
    "QuarantineEntry",
    "RecordKind",
    "RunManifest",
    "Severity",
    "UsageError",
]
