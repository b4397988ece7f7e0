"""Strawberry's argument conversion (``convert_arguments``), compiled once per field.

Strawberry turns a field's coerced arguments into Python values by walking the argument
types on every call: it resolves each input field's annotation and converts its GraphQL
name again each time, about 8 % of the CPU of a single-event publish. The types do not
change, so the fast paths do that walk once, here: for each argument and input field its
GraphQL name, Python name and converter, read off the same Strawberry definitions.

Only what Strawberry does for these types is compiled: scalars and enums kept as they
are, lists (copied), optionals, input types built from the fields given (the ones without
a default set to None first). Arguments holding anything else (``Maybe``, ``GlobalID``,
lazy types, an input that builds itself) keep Strawberry's own conversion.
``tests/graphql/test_compiled_arguments.py`` holds the results equal to Strawberry's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING
from functools import partial
from typing import Any

from strawberry.relay.types import GlobalID
from strawberry.scalars import is_scalar
from strawberry.schema.config import StrawberryConfig
from strawberry.types.arguments import StrawberryArgument, convert_arguments
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryObjectDefinition,
    StrawberryOptional,
    has_object_definition,
)
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.unset import UNSET

Converter = Callable[[Any], Any]
ArgumentsConverter = Callable[[dict[str, Any]], dict[str, Any]]
ScalarRegistry = Mapping[object, Any]


class _Unsupported(Exception):
    """A type this module does not compile: Strawberry converts the arguments."""


def compile_arguments(
    arguments: Sequence[StrawberryArgument],
    scalar_registry: ScalarRegistry,
    config: StrawberryConfig,
) -> ArgumentsConverter:
    """``convert_arguments(value, arguments, ...)`` as one function of ``value``."""
    general = partial(
        convert_arguments,
        arguments=list(arguments),
        scalar_registry=scalar_registry,
        config=config,
    )
    try:
        compiled = tuple(
            (
                config.name_converter.from_argument(argument),
                argument.python_name,
                _converter(argument.type, scalar_registry, config),
            )
            for argument in arguments
        )
    except _Unsupported:
        return general

    def convert(value: dict[str, Any]) -> dict[str, Any]:
        return {
            python_name: converter(value[name])
            for name, python_name, converter in compiled
            if name in value
        }

    return convert


def _converter(type_: Any, scalar_registry: ScalarRegistry, config: StrawberryConfig) -> Converter:
    if isinstance(type_, StrawberryMaybe):
        raise _Unsupported(type_)
    if isinstance(type_, StrawberryOptional):
        return _converter(type_.of_type, scalar_registry, config)
    if _is_leaf(type_, scalar_registry):
        return _as_is
    if isinstance(type_, StrawberryList):
        of_type = type_.of_type
        inner = of_type.of_type if isinstance(of_type, StrawberryOptional) else of_type
        if _is_leaf(inner, scalar_registry):
            return _copied_list
        return partial(_list, _converter(of_type, scalar_registry, config))
    if has_object_definition(type_):
        definition: StrawberryObjectDefinition = type_.__strawberry_definition__
        if not definition.is_input or definition.from_input is not None:
            raise _Unsupported(type_)
        nulls = {
            field.python_name: None
            for field in definition.fields
            if field.default_value is MISSING and field.default_factory is MISSING
        }
        fields = tuple(
            (
                config.name_converter.from_field(field),
                field.python_name,
                _converter(field.resolve_type(type_definition=definition), scalar_registry, config),
            )
            for field in definition.fields
        )
        return partial(_input, type_, nulls, fields)
    raise _Unsupported(type_)


def _is_leaf(type_: Any, scalar_registry: ScalarRegistry) -> bool:
    if type_ is GlobalID:  # a scalar that Strawberry decodes
        raise _Unsupported(type_)
    return (
        is_scalar(type_, scalar_registry)
        or isinstance(type_, StrawberryEnumDefinition)
        or has_enum_definition(type_)
    )


def _as_is(value: Any) -> Any:
    return value


def _copied_list(value: Any) -> Any:
    # graphql-core gives the same default list to every request that omits the value.
    return None if value is None else value if value is UNSET else list(value)


def _list(item: Converter, value: Any) -> Any:
    if value is None or value is UNSET:
        return value
    return [item(x) for x in value]


def _input(
    type_: type,
    nulls: dict[str, None],
    fields: tuple[tuple[str, str, Converter], ...],
    value: Any,
) -> Any:
    if value is None or value is UNSET:
        return value
    kwargs: dict[str, Any] = dict(nulls)
    for name, python_name, converter in fields:
        if name in value:
            kwargs[python_name] = converter(value[name])
    return type_(**kwargs)
