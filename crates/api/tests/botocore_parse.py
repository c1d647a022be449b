"""Parses the documents tests/botocore.rs writes with botocore's own RestXMLParser
(botocore/parsers.py) and the CloudFront 2020-05-31 output shape of each operation, and checks
that every parsed value is the one the JSON view of the same document holds: booleans as bools,
integers as ints, timestamps as the same instant, lists with all their items.

Usage: python botocore_parse.py DIR  (DIR holds <Operation>.xml and <Operation>.json, and
error.xml with error.json)."""

import datetime
import json
import pathlib
import sys

import botocore.parsers
import botocore.session


def expected(value, shape):
    """The JSON view (lists as plain arrays, Quantity left out, times in ms) as botocore parses it."""
    if shape.type_name == "structure":
        members = shape.members
        if isinstance(value, list):  # a {Quantity, Items} wrapper, kept as a plain list
            return counted(value, members)
        out = {}
        for name, v in value.items():
            if v is None:
                continue
            assert name in members, f"{name} is not a member of {shape.name}"
            if name == "Items" and "Quantity" in members:
                out.update(counted(v, members))
            else:
                out[name] = expected(v, members[name])
        return out
    if shape.type_name == "list":
        return [expected(v, shape.member) for v in value]
    if shape.type_name == "timestamp":
        return datetime.datetime.fromtimestamp(value / 1000, tz=datetime.timezone.utc)
    return value


def counted(items, members):
    out = {"Quantity": len(items)}
    if items:
        out["Items"] = [expected(v, members["Items"].member) for v in items]
    return out


def same(parsed, want, path):
    """Equal, and of the same type (Python's True == 1 would hide a bool written as a number)."""
    if isinstance(want, dict):
        assert isinstance(parsed, dict), f"{path}: {parsed!r} is not a structure"
        assert parsed.keys() == want.keys(), f"{path}: members {sorted(parsed)} != {sorted(want)}"
        for k in want:
            same(parsed[k], want[k], f"{path}.{k}")
    elif isinstance(want, list):
        assert isinstance(parsed, list) and len(parsed) == len(want), f"{path}: {parsed!r} != {want!r}"
        for i, (p, w) in enumerate(zip(parsed, want)):
            same(p, w, f"{path}[{i}]")
    else:
        assert type(parsed) is type(want) or isinstance(want, datetime.datetime), f"{path}: {parsed!r} is not a {type(want).__name__}"
        assert parsed == want, f"{path}: {parsed!r} != {want!r}"


def main(directory):
    model = botocore.session.get_session().get_service_model("cloudfront", api_version="2020-05-31")
    parser = botocore.parsers.RestXMLParser()
    checked = 0
    for xml in sorted(pathlib.Path(directory).glob("*.xml")):
        operation = xml.stem
        body = xml.read_bytes()
        view = json.loads(xml.with_suffix(".json").read_text())
        if operation == "error":
            parsed = parser.parse({"body": body, "headers": {}, "status_code": view["status"]}, None)
            same(parsed["Error"]["Code"], view["code"], "error.Code")
            same(parsed["Error"]["Message"], view["message"], "error.Message")
            same(parsed["ResponseMetadata"]["RequestId"], view["request_id"], "error.RequestId")
        else:
            output = model.operation_model(operation).output_shape
            payload = output.serialization["payload"]
            parsed = parser.parse({"body": body, "headers": {}, "status_code": 200}, output)
            parsed.pop("ResponseMetadata", None)
            same(parsed, {payload: expected(view, output.members[payload])}, operation)
        print(f"{operation}: parsed by botocore as expected")
        checked += 1
    print(f"{checked} documents checked")


if __name__ == "__main__":
    main(sys.argv[1])
