"""Document limits: depth, aliases and tokens, all counted with fragments expanded, and no
NUL in string literals.

The depth and alias rules are built once: a rule class made per request would defeat the
validation cache, which is keyed by the rule classes.
"""

from __future__ import annotations

from graphql import GraphQLError, StringValueNode, ValidationRule
from strawberry.extensions import AddValidationRules, MaxAliasesLimiter, QueryDepthLimiter

MAX_QUERY_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 5000


class NoNulInStrings(ValidationRule):
    """String literals are checked once parsed, where ``"\\u0000"`` has become a NUL that
    PostgreSQL cannot store or compare (variables are checked by ``app.json_input``)."""

    def enter_string_value(self, node: StringValueNode, *_args: object) -> None:
        if "\x00" in node.value:
            self.report_error(
                GraphQLError(
                    "text must not contain NUL (\\u0000) characters",
                    node,
                    extensions={"code": "BAD_USER_INPUT"},
                )
            )


RULES = [
    *QueryDepthLimiter(max_depth=MAX_QUERY_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
    NoNulInStrings,
]


class DocumentLimits(AddValidationRules):
    """``QueryDepthLimiter`` + ``MaxAliasesLimiter`` with shared rule classes."""

    def __init__(self) -> None:
        super().__init__(RULES)
