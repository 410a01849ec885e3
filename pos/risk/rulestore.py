"""Installing rule sets and finding the one in force.

A rule set is installed only after it validates and compiles; it is stored
with its version, and all earlier good sets stay. The engine runs the newest
stored set that still compiles (a program upgrade could retire an attribute),
and the built-in default set when none is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pos.errors import NotAllowed
from pos.messages import msg
from pos.risk.bins import ASSETS_DIR
from pos.risk.repository import Connection, store_ruleset, stored_rulesets
from pos.risk.rules import RuleSet, RuleSetError, parse_ruleset

DEFAULT_RULES = ASSETS_DIR / "default_rules.toml"


def default_ruleset(path: Path = DEFAULT_RULES) -> RuleSet:
    """The rule set shipped with the program, version 0 so any install replaces it."""
    return parse_ruleset(path.read_text(encoding="utf-8"), version=None)


def install_ruleset(
    conn: Connection,
    toml_text: str,
    version: int,
    *,
    installed_at: str,
    origin: str = "local",
) -> RuleSet:
    """Validate, compile and store a rule set as `version`, in the caller's
    transaction. Raises RuleSetError (nothing stored) when any rule is bad,
    NotAllowed when the version is not newer than the set in force. Installing
    the same text under the same version again is a no-op."""
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise RuleSetError([("", f"version {version!r} must be a whole number >= 1")])
    ruleset = parse_ruleset(toml_text, version)
    stored = stored_rulesets(conn)
    if stored:
        newest = stored[0]
        if version == newest.version and ruleset.digest == newest.digest:
            return ruleset
        if version <= newest.version:
            raise NotAllowed(msg("risk.version_not_newer", version=version, newest=newest.version))
    store_ruleset(conn, version, ruleset.digest, toml_text, origin, installed_at)
    return ruleset


@dataclass(frozen=True, slots=True)
class ActiveRuleSet:
    ruleset: RuleSet
    origin: str  # 'default' or the stored origin
    skipped: tuple[tuple[int, str], ...] = ()  # newer stored versions that no longer compile


def _from_former_language(source: str, version: int) -> RuleSet | None:
    """A set stored before conditions were CEL, converted on load (same meaning)."""
    from pos.risk.convert import ConvertError, convert_ruleset_text  # old sets only

    try:
        return parse_ruleset(convert_ruleset_text(source), version)
    except (ConvertError, RuleSetError):
        return None


def active_ruleset(conn: Connection, default_path: Path = DEFAULT_RULES) -> ActiveRuleSet:
    skipped: list[tuple[int, str]] = []
    for stored in stored_rulesets(conn):
        try:
            rs = parse_ruleset(stored.source, stored.version)
        except RuleSetError as exc:
            converted = _from_former_language(stored.source, stored.version)
            if converted is None:
                skipped.append((stored.version, exc.message))
                continue
            rs = converted
        return ActiveRuleSet(rs, stored.origin, tuple(skipped))
    return ActiveRuleSet(default_ruleset(default_path), "default", tuple(skipped))
