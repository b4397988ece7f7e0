"""Document limits: depth, aliases and tokens, all counted with fragments expanded.

The depth and alias rules are built once: a rule class made per request would defeat the
validation cache, which is keyed by the rule classes.
"""

from __future__ import annotations

from strawberry.extensions import AddValidationRules, MaxAliasesLimiter, QueryDepthLimiter

MAX_QUERY_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 5000

RULES = [
    *QueryDepthLimiter(max_depth=MAX_QUERY_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
]


class DocumentLimits(AddValidationRules):
    """``QueryDepthLimiter`` + ``MaxAliasesLimiter`` with shared rule classes."""

    def __init__(self) -> None:
        super().__init__(RULES)
