#!/usr/bin/env python3
"""Independent known-answer values for sf-rtmp's handshake tests (src/handshake/tests.rs).

Reads the keys, key tables and DH group from librtmp's handshake.h and dhgroups.h (rtmpdump
source, librtmp/), then prints digest offsets, digests and S2 signatures for fixed C1
patterns, XTEA/Blowfish signature encryption (little-endian words), and DH public keys,
shared secrets, RC4 keys and the first keystream bytes after the 1536-byte skip for fixed
private keys (including a secret whose top byte is zero, and its "value then zeros" form). Needs python3 and `cryptography`
(Blowfish). Run from the repository root, with the paths of those two files:
    python3 crates/rtmp/tests/kat/handshake_kat.py .../librtmp/handshake.h .../librtmp/dhgroups.h
"""
import hmac, hashlib, struct, re
import sys
if len(sys.argv) < 2: sys.exit(__doc__)
ref=''.join(open(path).read() for path in sys.argv[1:])
def hexes(s): return [int(x,16) for x in re.findall(r'0x[0-9a-fA-F]+',s)]
def section(start): i=ref.index(start); return ref[i+len(start):ref.index('};',i)]
FMS=bytes(hexes(section('GenuineFMSKey[] = {')))
FP=bytes(hexes(section('GenuineFPKey[] = {')))
XK=hexes(section('rtmpe8_keys[16][4] = {'))
XK=[XK[i*4:i*4+4] for i in range(16)]
BK=hexes(section('rtmpe9_keys[16][KEYBYTES] = {'))
BK=[bytes(BK[i*24:i*24+24]) for i in range(16)]
def grab(name):
    i=ref.index('#define '+name); j=ref.index('\n\n',i) if '\n\n' in ref[i:i+600] else ref.index('```',i)
    return int(''.join(re.findall(r'"([0-9A-F]+)"',ref[i:j])),16)
P=grab('P1024'); Q=grab('Q1024')
assert P==2*Q+1 and pow(2,Q,P)==1
H=lambda k,m: hmac.new(k,m,hashlib.sha256).digest()
def rs(b): return 'hex("'+b.hex()+'")'
def pattern(n, a, c): return bytes((i*a+c)%256 for i in range(n))
def osum(b,i): return sum(b[i:i+4])
def dig_off(b,s): return osum(b,8)%728+12 if s==0 else osum(b,772)%728+776
def dh_off(b,s): return osum(b,1532)%632+772 if s==0 else osum(b,768)%632+8

# 1. Digest placement and S2 signature
for s in (0,1):
    c1=bytearray(pattern(1536, 37 if s==0 else 101, 11))
    c1[4:8]=bytes([9,0,124,2])
    off=dig_off(c1,s)
    d=H(FP[:30], bytes(c1[:off])+bytes(c1[off+32:]))
    c1[off:off+32]=d
    s2=pattern(1504, 13, 5)
    key=H(FMS, d); sig=H(key, s2)
    print(f"scheme {s}: digest offset {off} dh offset {dh_off(c1,s)}")
    print("  c1 sha256", hashlib.sha256(c1).hexdigest())
    print("  digest", d.hex()); print("  sigkey", key.hex()); print("  sig", sig.hex())

# 2. XTEA / Blowfish signature encryption (little-endian words)
def xtea_le(block, k):
    v0,v1=struct.unpack('<2I',block); s=0; M=0xffffffff
    for _ in range(32):
        v0=(v0+((((v1<<4)^(v1>>5))+v1)^(s+k[s&3])))&M
        s=(s+0x9E3779B9)&M
        v1=(v1+((((v0<<4)^(v0>>5))+v0)^(s+k[(s>>11)&3])))&M
    return struct.pack('<2I',v0,v1)
from cryptography.hazmat.decrepit.ciphers.algorithms import Blowfish
from cryptography.hazmat.primitives.ciphers import Cipher, modes
def bf_le(block,k):
    be=struct.pack('>2I',*struct.unpack('<2I',block))
    e=Cipher(Blowfish(k),modes.ECB()).encryptor(); out=e.update(be)+e.finalize()
    return struct.pack('<2I',*struct.unpack('>2I',out))
key=pattern(32, 29, 3); sig=pattern(32, 71, 200)
for name,f,tab in (("xtea",xtea_le,XK),("blowfish",bf_le,BK)):
    out=b''.join(f(sig[i:i+8], tab[key[i]%15]) for i in range(0,32,8))
    print(name, "key", key.hex(), "sig", sig.hex(), "->", out.hex(), "keyids", [key[i]%15 for i in range(0,32,8)])

# 3. DH and RC4
def rc4_after_drop(k, n, drop=1536):
    S=list(range(256)); j=0
    for i in range(256):
        j=(j+S[i]+k[i%len(k)])%256; S[i],S[j]=S[j],S[i]
    i=j=0; out=[]
    for _ in range(drop+n):
        i=(i+1)%256; j=(j+S[i])%256; S[i],S[j]=S[j],S[i]; out.append(S[(S[i]+S[j])%256])
    return bytes(out[drop:])
L=lambda x: x.to_bytes(128,'big')
def dh_case(label, xs, xc):
    ys=pow(2,int.from_bytes(xs,'big'),P); yc=pow(2,int.from_bytes(xc,'big'),P)
    sec=pow(yc,int.from_bytes(xs,'big'),P); assert sec==pow(ys,int.from_bytes(xc,'big'),P)
    enc=H(L(sec),L(yc))[:16]; dec=H(L(sec),L(ys))[:16]
    print(label); print("  server_private", xs.hex()); print("  client_private", xc.hex())
    print("  server_public", L(ys).hex()); print("  client_public", L(yc).hex()); print("  secret", L(sec).hex())
    print("  encrypt_key", enc.hex(), "keystream", rc4_after_drop(enc,16).hex())
    print("  decrypt_key", dec.hex(), "keystream", rc4_after_drop(dec,16).hex())
    if L(sec)[0] == 0:
        alt = L(sec).lstrip(b"\0").ljust(128, b"\0")
        print("  unpadded form: encrypt_key", H(alt,L(yc))[:16].hex(), "decrypt_key", H(alt,L(ys))[:16].hex())
xs=hashlib.sha512(b'server').digest()*2; xs=xs[:127]
xc=hashlib.sha512(b'client').digest()*2; xc=xc[:127]
dh_case("dh", xs, xc)
# a client key whose shared secret has a zero top byte (1 in 256): checks left padding
n=0
while True:
    xc2=hashlib.sha512(b'client%d'%n).digest()[:32]
    ys=pow(2,int.from_bytes(xs,'big'),P)
    if pow(ys,int.from_bytes(xc2,'big'),P) < 1<<1016: break
    n+=1
dh_case("dh padded secret (n=%d)"%n, xs, xc2)
# public key with a leading zero byte (server side padding): search a small private key
m=1
while pow(2,m*7919+12345,P) >= 1<<1016: m+=1
print("leading-zero public private", hex(m*7919+12345), L(pow(2,m*7919+12345,P))[:4].hex())
