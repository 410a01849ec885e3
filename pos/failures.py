"""What any front end shows when an operation fails: one mapping from an
exception to a catalogue message and an exit code, so the CLI, the counter and
the kiosk say the same thing about a full disk or a damaged database.

Bad input exits 2, storage and OS problems 5 (with a remedy), an error the
rules raise its own code; anything unexpected is a fault: a generic message
naming who to call, exit 1, and the traceback goes to the log only.
"""

from __future__ import annotations

import errno
import sqlite3
from dataclasses import dataclass
from typing import Any

from pos.errors import PosError
from pos.messages import Message, msg

EXIT_FAULT = 1
EXIT_BAD_INPUT = 2
EXIT_STORAGE = 5
EXIT_INTERRUPTED = 130


@dataclass(frozen=True, slots=True)
class Failure:
    """A failed operation as a person reads it."""

    message: Message | None
    exit_code: int
    kind: str
    # A core error not yet moved to the catalogue keeps its English text.
    legacy_text: str = ""
    remedy: str = ""
    # False for faults: the front end logs the traceback.
    expected: bool = True

    def render(self, lang: str) -> str:
        if self.message is not None:
            return self.message.render(lang)
        return f"{self.legacy_text} {self.remedy}".strip()

    def to_dict(self, lang: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "error": self.render(lang) if self.message is not None else self.legacy_text,
            "remedy": self.remedy,
            "kind": self.kind,
            "exit_code": self.exit_code,
        }
        if self.message is not None:
            out.update(self.message.to_dict())
        else:
            out.update(
                {
                    "code": self.kind,
                    "params": {},
                    "zh_CN": self.render("zh_CN"),
                    "en": self.render("en"),
                }
            )
        return out


def describe(exc: BaseException, log_path: str = "") -> Failure:
    """The message and exit code for `exc`; `log_path` names where a fault's
    traceback was written, for the person to give to support."""
    kind = type(exc).__name__
    if isinstance(exc, PosError):
        if exc.msg is not None:
            return Failure(exc.msg, exc.exit_code, kind)
        return Failure(None, exc.exit_code, kind, exc.message, exc.remedy)
    if isinstance(exc, KeyboardInterrupt):
        return Failure(msg("common.interrupted"), EXIT_INTERRUPTED, kind)
    storage = _database_failure(exc)
    if storage is not None:
        return Failure(storage, EXIT_STORAGE, kind)
    if isinstance(exc, OSError):
        return Failure(_os_failure(exc), _os_exit(exc), kind)
    where = log_path or "-"
    return Failure(msg("common.fault", log=where), EXIT_FAULT, kind, expected=False)


def _database_failure(exc: BaseException) -> Message | None:
    if not _is_database_error(exc):
        return None
    text = str(exc).lower()
    if "full" in text:
        return msg("common.storage.disk_full")
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return msg("common.storage.read_only")
    if "locked" in text or "busy" in text:
        return msg("common.storage.busy")
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return msg("common.storage.damaged")
    if "disk i/o" in text:
        return msg("common.storage.io")
    return msg("common.storage.failed", detail=str(exc))


def _is_database_error(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.Error):
        return True
    # SQLCipher's driver has its own class tree with the same names.
    return any(
        cls.__module__.startswith("sqlcipher3") and cls.__name__ == "Error"
        for cls in type(exc).__mro__
    )


def _os_failure(exc: OSError) -> Message:
    path = str(exc.filename or "")
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return msg("common.storage.disk_full")
    if isinstance(exc, IsADirectoryError):
        return msg("common.os.is_a_directory", path=path)
    if isinstance(exc, NotADirectoryError):
        return msg("common.os.not_a_directory", path=path)
    if isinstance(exc, PermissionError) or exc.errno == errno.EROFS:
        return msg("common.os.no_permission", path=path)
    if isinstance(exc, FileNotFoundError):
        return msg("common.os.not_found", path=path)
    if isinstance(exc, FileExistsError):
        return msg("common.os.exists", path=path)
    return msg("common.os.failed", path=path, detail=exc.strerror or str(exc))


def _os_exit(exc: OSError) -> int:
    # A path the person typed that is not there is their input to fix.
    return EXIT_BAD_INPUT if isinstance(exc, FileNotFoundError) else EXIT_STORAGE
