"""Signs an RTMP stream name with botocore's CloudFrontSigner, as users' code does.

usage: botocore_sign.py KEY_PAIR_ID PRIVATE_KEY.pem RESOURCE DATE_LESS_THAN [DATE_GREATER_THAN|- [IP_ADDRESS]]
Prints the signed name. Without DATE_GREATER_THAN and IP_ADDRESS: a canned policy.
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
    if greater is None and ip is None:
        print(signer.generate_presigned_url(resource, date_less_than=at(less)))
    else:
        policy = signer.build_policy(
            resource, at(less), date_greater_than=at(greater) if greater else None, ip_address=ip
        )
        print(signer.generate_presigned_url(resource, policy=policy))


main()
