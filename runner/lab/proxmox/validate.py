"""Parameter validation as PVE::JSONSchema does it: same order of checks, same error texts.

Errors are collected into `{param: message}`, the body of PVE's 400 "Parameter verification failed."
Nested property-string errors are reported the way PVE stringifies them:
`net0: invalid format - format error\\nnet0.macaddr: value does not look like a valid unicast MAC address\\n`.
"""

from __future__ import annotations

import re
from typing import Any

from runner.lab.proxmox.formats import HASH_FORMAT_VALIDATORS, HASH_FORMATS, STRING_FORMATS, FormatError, split_list

Schema = dict[str, Any]
Errors = dict[str, str]

NOT_IN_SCHEMA = "property is not defined in schema and the schema does not allow additional properties"


def add_error(errors: Errors, path: str, message: str) -> None:
    path = path or "_root"
    errors[path] = f"{errors[path]}\\n{message}" if path in errors else message


def _python_regex(pattern: str) -> str:
    # apidata.js carries Perl's stringified qr// objects: `(?^:...)` is a plain group in Python
    return pattern.replace("(?^:", "(?:")


def _is_integer(value: str) -> bool:
    return re.fullmatch(r"[+-]?\d+", value) is not None


def _is_number(value: str) -> bool:
    return re.fullmatch(r"[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?", value) is not None


def _perl_str(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def check_type(path: str, type_: str | None, value: Any, errors: Errors) -> bool:
    if not type_ or type_ == "any":
        return True
    if isinstance(value, bool):  # a JSON true/false is only a boolean
        if type_ == "boolean":
            return True
        add_error(errors, path, f"type check ('{type_}') failed - got JSON::PP::Boolean")
        return False
    if isinstance(value, dict | list):
        kind = "HASH" if isinstance(value, dict) else "ARRAY"
        if (type_ == "object" and kind == "HASH") or (type_ == "array" and kind == "ARRAY"):
            return True
        add_error(errors, path, f"type check ('{type_}') failed - got {kind}")
        return False
    text = _perl_str(value)
    checks = {
        "boolean": lambda: text in ("0", "1"),
        "integer": lambda: _is_integer(text),
        "number": lambda: _is_number(text),
    }
    if type_ in checks and not checks[type_]():
        add_error(errors, path, f"type check ('{type_}') failed - got '{text}'")
        return False
    if type_ in ("object", "array"):
        add_error(errors, path, f"type check ('{type_}') failed")
        return False
    return True


def check_format(fmt: Any, value: str, path: str) -> None:
    """Raises FormatError with the text PVE puts after 'invalid format - '."""
    if isinstance(fmt, dict):
        parse_property_string(fmt, value, path)
        return
    name, _, kind = fmt.rpartition("-") if fmt.endswith(("-list", "-opt")) else (fmt, "", "")
    if name in HASH_FORMATS:
        parse_property_string(HASH_FORMATS[name], value, path, HASH_FORMAT_VALIDATORS.get(name))
        return
    checker = STRING_FORMATS.get(name)
    if checker is None:
        return  # a named format the twin does not model is accepted, as an unknown free-form string
    if kind == "list":
        for item in split_list(value):
            checker(item)
    elif kind != "opt" or value:
        checker(value)


def check_prop(value: Any, schema: Schema, path: str, errors: Errors) -> None:
    if schema.get("alias"):
        return
    if value is None:
        if not schema.get("optional") and schema.get("type") != "null":
            add_error(errors, path, "property is missing and it is not optional")
        return
    if not check_type(path, schema.get("type"), value, errors):
        return
    if isinstance(value, dict | list):
        return
    text = _perl_str(value)
    if (fmt := schema.get("format")) is not None:
        try:
            check_format(fmt, text, path)
        except FormatError as exc:
            add_error(errors, path, f"invalid format - {exc}\n")
            return
    if (pattern := schema.get("pattern")) is not None and not re.fullmatch(f"(?:{_python_regex(pattern)})", text):
        add_error(errors, path, "value does not match the regex pattern")
        return
    if (max_len := schema.get("maxLength")) is not None and len(text) > max_len:
        add_error(errors, path, f"value may only be {max_len} characters long")
        return
    if (min_len := schema.get("minLength")) is not None and len(text) < min_len:
        add_error(errors, path, f"value must be at least {min_len} characters long")
        return
    if _is_number(text):
        if (maximum := schema.get("maximum")) is not None and float(text) > float(maximum):
            add_error(errors, path, f"value must have a maximum value of {_perl_str(maximum)}")
            return
        if (minimum := schema.get("minimum")) is not None and float(text) < float(minimum):
            add_error(errors, path, f"value must have a minimum value of {_perl_str(minimum)}")
            return
    if (enum := schema.get("enum")) is not None and text not in [str(e) for e in enum]:
        add_error(errors, path, f"value '{text}' does not have a value in the enumeration '{', '.join(enum)}'")


def check_object(path: str, schema: dict[str, Schema], value: dict[str, Any], errors: Errors) -> None:
    """Object check with additionalProperties off: unknown keys, missing keys, `requires`."""
    for key, sub in schema.items():
        check_prop(value.get(key), sub, f"{path}.{key}" if path else key, errors)
    for key in value:
        sub_path = f"{path}.{key}" if path else key
        known = schema.get(key)
        if known is None:
            add_error(errors, sub_path, NOT_IN_SCHEMA)
            continue
        requires = known.get("requires")
        if isinstance(requires, str) and value.get(requires) is None:
            add_error(errors, f"{path}.{requires}" if path else requires, f"missing property required by '{sub_path}'")


def _parse_boolean(text: str) -> str:
    lowered = text.lower()
    if lowered in ("1", "on", "yes", "true"):
        return "1"
    if lowered in ("0", "off", "no", "false"):
        return "0"
    return text


def parse_property_string(fmt: dict[str, Schema], data: str, path: str, validator: Any = None) -> dict[str, str]:
    """PVE::JSONSchema::parse_property_string; raises FormatError with PVE's text."""
    result: dict[str, str] = {}
    default_key: str | None = None
    for part in data.split(","):
        if not part.strip():
            continue
        match = re.fullmatch(r"([^=]+)=(.+)", part, re.DOTALL)
        if match:
            key, val = match.group(1), match.group(2)
            if key in result:
                raise FormatError(f"duplicate key in comma-separated list property: {key}")
            sub = fmt.get(key)
            if sub and (alias := sub.get("alias")):
                if key_alias := sub.get("keyAlias"):
                    if key_alias in result:
                        raise FormatError(f"key alias '{key_alias}' is already defined")
                    result[key_alias] = key
                key, sub = alias, fmt.get(alias)
                if key in result:
                    raise FormatError(f"key '{key}' is already defined (via alias)")
            if not sub:
                raise FormatError(f"invalid key in comma-separated list property: {key}")
            result[key] = _parse_boolean(val) if sub.get("type") == "boolean" else val
        elif "=" not in part:
            if default_key:
                raise FormatError(f"duplicate key in comma-separated list property: {default_key}")
            default_key = next((k for k, s in fmt.items() if s.get("default_key")), None)
            if default_key is None:
                raise FormatError("value without key, but schema does not define a default key")
            if default_key in result:
                raise FormatError(f"duplicate key in comma-separated list property: {default_key}")
            is_bool = fmt[default_key].get("type") == "boolean"
            result[default_key] = _parse_boolean(part) if is_bool else part
        else:
            raise FormatError("missing key in comma-separated list property")
    errors: Errors = {}
    check_object(path, fmt, result, errors)
    if errors:
        raise FormatError("format error\n" + "".join(f"{k}: {v}\n" for k, v in sorted(errors.items())).rstrip("\n"))
    if validator is not None:
        validator(result)
    return result


def validate_params(params: dict[str, Any], parameters: Schema) -> Errors:
    """Check a request's parameters (URL + query + body) against an endpoint's `parameters` schema."""
    errors: Errors = {}
    check_object("", parameters.get("properties", {}), params, errors)
    return errors
