"""One hand-made request to the streamfront API, signed by botocore's own SigV4 signer (or
deliberately not, or signed wrongly), printed as JSON for the Rust tests.

usage: raw.py METHOD PATH [options]
  PATH               e.g. /2020-05-31/streaming-distribution (query string included)
  --body-file FILE   the request body
  --header NAME:VALUE  an extra header (signed like the others)
  --unsigned         send no Authorization at all
  --skew SECONDS     sign as if the clock were SECONDS behind (X-Amz-Date in the past)
  --tamper           change one letter of the body's Comment after signing
env: SF_API_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION.

Prints {"status": N, "code": error code or null, "body": text, "sent": bytes sent, "error":
what went wrong sending, or null}.
"""

import argparse
import datetime
import http.client
import json
import os
import re
import urllib.parse

import botocore.auth
import botocore.credentials
from botocore.awsrequest import AWSRequest


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("method")
    parser.add_argument("path")
    parser.add_argument("--body-file")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--unsigned", action="store_true")
    parser.add_argument("--skew", type=int, default=0)
    parser.add_argument("--tamper", action="store_true")
    return parser.parse_args()


def sign(request, skew_seconds):
    """SigV4 as botocore signs CloudFront requests, at now - skew_seconds."""
    credentials = botocore.credentials.Credentials(
        os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
    )
    signer = botocore.auth.SigV4Auth(credentials, "cloudfront", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    real_now = botocore.auth.get_current_datetime
    botocore.auth.get_current_datetime = lambda: real_now() - datetime.timedelta(seconds=skew_seconds)
    try:
        signer.add_auth(request)
    finally:
        botocore.auth.get_current_datetime = real_now


def tamper(body):
    """The body with one letter of the comment changed (still well-formed XML, so only the
    signature can tell); the last byte when there is no comment."""
    changed = bytearray(body)
    end = body.find(b"</Comment>")
    at = end - 1 if end > 0 and body[end - 1 : end] != b">" else len(body) - 1
    changed[at] = ord("X") if changed[at] != ord("X") else ord("Y")
    return bytes(changed)


def main():
    args = parse_args()
    endpoint = urllib.parse.urlsplit(os.environ["SF_API_URL"])
    body = b""
    if args.body_file:
        with open(args.body_file, "rb") as f:
            body = f.read()
    headers = dict(h.split(":", 1) for h in args.header)
    request = AWSRequest(method=args.method, url=os.environ["SF_API_URL"] + args.path, data=body, headers=headers)
    if not args.unsigned:
        sign(request, args.skew)
    if args.tamper:
        body = tamper(body)
    result = {"status": None, "code": None, "body": "", "sent": len(body), "error": None}
    conn = http.client.HTTPConnection(endpoint.hostname, endpoint.port, timeout=30)
    try:
        conn.request(args.method, args.path, body=body, headers=dict(request.headers.items()))
    except OSError as e:
        # A server refusing a large body answers and closes before reading all of it: the
        # answer is still there to read.
        result["error"] = f"sending: {e!r}"
    try:
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        result["status"] = response.status
        result["body"] = text
        match = re.search(r"<Code>([^<]*)</Code>", text)
        result["code"] = match.group(1) if match else None
    except OSError as e:
        result["error"] = (result["error"] or "") + f" reading: {e!r}"
    print(json.dumps(result))


if __name__ == "__main__":
    main()
