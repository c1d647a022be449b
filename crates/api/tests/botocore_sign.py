# Signs CloudFront requests with botocore itself (a real client for the 2020-05-31 model, and
# SigV4Auth for the Date-header case), captures each as it would go on the wire, and prints them
# as JSON for crates/api/tests/sigv4.rs. Nothing is sent: a before-send hook stops each call.
# Argument: the botocore package to sign with, `botocore` (boto3's) or `awscli.botocore` (the
# copy the AWS CLI v1 carries and signs with).
import importlib
import json
import sys

package = sys.argv[1]
session_module = importlib.import_module(package + ".session")
SigV4Auth = importlib.import_module(package + ".auth").SigV4Auth
AWSRequest = importlib.import_module(package + ".awsrequest").AWSRequest
Credentials = importlib.import_module(package + ".credentials").Credentials

ENDPOINT = "http://127.0.0.1:9936"
ACCESS_KEY = "AKIDBOTOCORE"
SECRET = "wJalr/secret+with=chars"
TOKEN = "FQoGZXIvYXdzEXAMPLE//token+with/slashes=="


class Captured(Exception):
    pass


captured = []


def capture(request, **kwargs):
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode()
    headers = [[k, v.decode() if isinstance(v, bytes) else v] for k, v in request.headers.items()]
    captured.append({"method": request.method, "url": request.url, "headers": headers, "body_hex": body.hex()})
    raise Captured()


def client(token=None, extra_headers=None):
    session = session_module.get_session()
    c = session.create_client(
        "cloudfront",
        region_name="eu-west-1",
        endpoint_url=ENDPOINT,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET,
        aws_session_token=token,
    )
    c.meta.events.register("before-send.cloudfront", capture)
    if extra_headers:

        def add_headers(request, **kwargs):
            for name, value in extra_headers.items():
                request.headers[name] = value

        c.meta.events.register("before-sign.cloudfront", add_headers)
    return c


def config(reference):
    return {
        "CallerReference": reference,
        "S3Origin": {"DomainName": "media.s3.amazonaws.com", "OriginAccessIdentity": ""},
        "Aliases": {"Quantity": 1, "Items": ["video.example.com"]},
        "Comment": "café  with   spaces",
        "TrustedSigners": {"Enabled": False, "Quantity": 0},
        "PriceClass": "PriceClass_All",
        "Enabled": True,
    }


def call(name, token, operation, extra_headers=None, **params):
    captured.clear()
    try:
        getattr(client(token, extra_headers), operation)(**params)
    except Captured:
        pass
    request = captured[0]
    request.update({"name": name, "token": token})
    return request


cases = [
    call("id with %2F and a space", None, "get_streaming_distribution", Id="E/1 x"),
    call("?WithTags and a body", None, "create_streaming_distribution_with_tags",
         StreamingDistributionConfigWithTags={
             "StreamingDistributionConfig": config("ref-1"),
             "Tags": {"Items": [{"Key": "team", "Value": "media"}]},
         }),
    call("If-Match signed", None, "update_streaming_distribution",
         Id="EDFDVBD6EXAMPLE", IfMatch="E2QWRUHEXAMPLE", StreamingDistributionConfig=config("ref-2")),
    call("paging query", None, "list_streaming_distributions", Marker="E/next page", MaxItems="5",
         extra_headers={"X-Amz-Meta-Note": "  spaced    out\tvalue  "}),
    call("session token", TOKEN, "delete_streaming_distribution", Id="EDFDVBD6EXAMPLE", IfMatch="E2QWRUHEXAMPLE"),
]

# botocore signs the Date header instead of X-Amz-Date when the request already has one.
request = AWSRequest(method="GET", url=ENDPOINT + "/2020-05-31/origin-access-identity/cloudfront", headers={"Date": "x"})
SigV4Auth(Credentials(ACCESS_KEY, SECRET), "cloudfront", "eu-west-1").add_auth(request)
prepared = request.prepare()
cases.append({
    "name": "Date instead of X-Amz-Date",
    "token": None,
    "method": prepared.method,
    "url": prepared.url,
    "headers": [[k, v] for k, v in prepared.headers.items()],
    "body_hex": "",
})

json.dump({"access_key_id": ACCESS_KEY, "secret": SECRET, "cases": cases, "version": importlib.import_module(package).__version__}, sys.stdout)
