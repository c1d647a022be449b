#!/usr/bin/env python3
# Writes the seeds of fuzz/fuzz_targets/api_sigv4.rs: requests signed by botocore at
# 20150830T123600Z. Run with the api-venv python: target/api-venv/bin/python fuzz/api_sigv4_seeds.py fuzz/seeds/api_sigv4
import datetime, sys, os
import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

botocore.auth.get_current_datetime = lambda remove_tzinfo=True: datetime.datetime(2015, 8, 30, 12, 36, 0)
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
out = sys.argv[1]

def seed(name, method, target, headers, body=b"", key="AKIDEXAMPLE", token=None):
    req = AWSRequest(method=method, url="http://127.0.0.1:9936" + target, headers=headers, data=body)
    SigV4Auth(Credentials(key, SECRET, token), "cloudfront", "us-east-1").add_auth(req)
    lines = [f"{method} {target}", "host: 127.0.0.1:9936"] + [f"{k}: {v}" for k, v in req.headers.items()]
    with open(os.path.join(out, name), "wb") as f:
        f.write(("\n".join(lines) + "\n\n").encode() + body)

seed("get", "GET", "/2020-05-31/streaming-distribution/E%2F1%20x", {})
seed("list", "GET", "/2020-05-31/streaming-distribution?Marker=E%2Fnext&MaxItems=5", {})
seed("create-with-tags", "POST", "/2020-05-31/streaming-distribution?WithTags", {}, b"<StreamingDistributionConfigWithTags/>")
seed("update", "PUT", "/2020-05-31/streaming-distribution/E1/config", {"If-Match": "E2QWRUHEXAMPLE"}, b"<StreamingDistributionConfig/>")
seed("session-token", "DELETE", "/2020-05-31/streaming-distribution/E1", {"If-Match": "E2"}, key="ASIAEXAMPLE", token="token")
seed("date", "GET", "/2020-05-31/origin-access-identity/cloudfront", {"Date": "x"})
