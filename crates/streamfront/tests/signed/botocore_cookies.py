"""Makes CloudFront signed cookies with botocore's CloudFrontSigner, as a site's login code does:
the policy from `build_policy` (or the canned policy), signed by the same RSA-SHA1 signer, in
CloudFront's URL-safe base64 (the `_url_b64encode` that `generate_presigned_url` uses).

usage: botocore_cookies.py KEY_PAIR_ID PRIVATE_KEY.pem RESOURCE DATE_LESS_THAN [DATE_GREATER_THAN|- [IP_ADDRESS]]
Prints the value of a Cookie header. Without DATE_GREATER_THAN and IP_ADDRESS: a canned policy
(CloudFront-Expires), else a custom one (CloudFront-Policy).
"""
import datetime
import sys

import rsa
from botocore.signers import CloudFrontSigner


def at(epoch):
    return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc)


def main():
    key_pair_id, pem, resource, less = sys.argv[1:5]
    greater = sys.argv[5] if len(sys.argv) > 5 and sys.argv[5] != "-" else None
    ip = sys.argv[6] if len(sys.argv) > 6 else None
    with open(pem, "rb") as f:
        private_key = rsa.PrivateKey.load_pkcs1(f.read())
    signer = CloudFrontSigner(key_pair_id, lambda message: rsa.sign(message, private_key, "SHA-1"))
    policy = signer.build_policy(resource, at(less), date_greater_than=at(greater) if greater else None, ip_address=ip)
    signature = signer._url_b64encode(signer.rsa_signer(policy.encode("utf8"))).decode("utf8")
    if greater is None and ip is None:
        first = "CloudFront-Expires=%d" % int(less)
    else:
        first = "CloudFront-Policy=" + signer._url_b64encode(policy.encode("utf8")).decode("utf8")
    print("%s; CloudFront-Signature=%s; CloudFront-Key-Pair-Id=%s" % (first, signature, key_pair_id))


main()
