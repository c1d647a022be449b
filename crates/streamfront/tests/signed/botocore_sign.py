"""Signs with botocore's CloudFrontSigner, as users' code does: a URL or RTMP stream name
(`generate_presigned_url`), or with --cookies the CloudFront signed cookies a site's login code
sets (the policy from `build_policy`, signed by the same RSA-SHA1 signer, in CloudFront's
URL-safe base64: the `_url_b64encode` that `generate_presigned_url` uses).

usage: botocore_sign.py [--cookies] KEY_PAIR_ID PRIVATE_KEY.pem RESOURCE DATE_LESS_THAN [DATE_GREATER_THAN|- [IP_ADDRESS]]
Prints the signed name or URL, or with --cookies the value of a Cookie header. Without
DATE_GREATER_THAN and IP_ADDRESS: a canned policy (CloudFront-Expires), else a custom one
(CloudFront-Policy).
"""
import datetime
import sys

import rsa
from botocore.signers import CloudFrontSigner


def at(epoch):
    return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc)


def main():
    args = sys.argv[1:]
    cookies = args[:1] == ["--cookies"]
    if cookies:
        args = args[1:]
    key_pair_id, pem, resource, less = args[:4]
    greater = args[4] if len(args) > 4 and args[4] != "-" else None
    ip = args[5] if len(args) > 5 else None
    with open(pem, "rb") as f:
        private_key = rsa.PrivateKey.load_pkcs1(f.read())
    signer = CloudFrontSigner(key_pair_id, lambda message: rsa.sign(message, private_key, "SHA-1"))
    canned = greater is None and ip is None
    policy = None if canned else signer.build_policy(
        resource, at(less), date_greater_than=at(greater) if greater else None, ip_address=ip
    )
    if not cookies:
        if canned:
            print(signer.generate_presigned_url(resource, date_less_than=at(less)))
        else:
            print(signer.generate_presigned_url(resource, policy=policy))
        return
    if canned:
        policy = signer.build_policy(resource, at(less))
        first = "CloudFront-Expires=%d" % int(less)
    else:
        first = "CloudFront-Policy=" + signer._url_b64encode(policy.encode("utf8")).decode("utf8")
    signature = signer._url_b64encode(signer.rsa_signer(policy.encode("utf8"))).decode("utf8")
    print("%s; CloudFront-Signature=%s; CloudFront-Key-Pair-Id=%s" % (first, signature, key_pair_id))


main()
