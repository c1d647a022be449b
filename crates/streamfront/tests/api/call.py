"""One boto3 CloudFront call against the streamfront API, printed as JSON for the Rust tests.

usage: call.py OPERATION [PARAMS_JSON]
  OPERATION    a boto3 method name, e.g. list_distributions
  PARAMS_JSON  its keyword arguments as a JSON object
env: SF_API_URL (the endpoint) and the usual AWS_* credentials and region.

Prints {"status": HTTP status, "response": {...}} (without ResponseMetadata, times as ISO 8601
strings) or, when the service refused, {"status": HTTP status, "error": {"Code": ..., "Message": ...}}.
"""

import json
import os
import sys

import boto3
import botocore.exceptions


def main():
    operation = sys.argv[1]
    params = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    client = boto3.client("cloudfront", endpoint_url=os.environ["SF_API_URL"])
    try:
        response = getattr(client, operation)(**params)
    except botocore.exceptions.ClientError as e:
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        print(json.dumps({"error": e.response.get("Error", {}), "status": status}))
        return
    status = response.pop("ResponseMetadata", {}).get("HTTPStatusCode")
    print(json.dumps({"status": status, "response": response}, default=lambda value: value.isoformat()))


if __name__ == "__main__":
    main()
