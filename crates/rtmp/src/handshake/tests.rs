//! Handshake tests: known answers computed independently (python3 `hmac`/`hashlib`/`pow`,
//! a hand-written XTEA and RC4, `cryptography`'s Blowfish — the script is
//! `tests/kat/handshake_kat.py`), and the server against [`ClientHandshake`], which checks
//! everything a real client checks (FFmpeg's `rtmp_handshake`, librtmp's `HandShake`).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::dh::{self, KEY_LEN, KeyPair};
use super::digest::{self, BLOCK_LEN, Block, Digest, FMS_PARTIAL_KEY, FP_PARTIAL_KEY, SIGNATURE_POS, Scheme};
use super::rc4::{Rc4Pair, Rc4Stream, rc4_key, unpadded_secret};
use super::sig;
use super::*;

fn hex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2));
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex digit")).collect()
}

fn array<const N: usize>(text: &str) -> [u8; N] {
    hex(text).try_into().expect("length")
}

/// `(i * a + c) mod 256`: the deterministic filler the python script uses.
fn pattern<const N: usize>(a: usize, c: usize) -> [u8; N] {
    std::array::from_fn(|i| ((i * a + c) % 256) as u8)
}

// ----- known answers -----------------------------------------------------------------------

#[test]
fn digest_offsets_digest_and_signature_known_answers() {
    // python: c1 = pattern, c1[4:8] = 9,0,124,2, digest = HMAC(FP[:30], c1 without digest),
    // key = HMAC(FMS68, digest), sig = HMAC(key, pattern(1504, 13, 5)).
    let cases = [
        (
            Scheme::Zero,
            37,
            438,
            838,
            "3b0de285b9321c3bf6c66a6e52876f3ea9be19f8d19ddc9eef9f93765c319af4",
            "e3a4135c69db74a8f7e94c5e9fdc9fd8408026da6fba6d34fbdb48e3b6418c28",
            "b9ecd478b770bcf83616c0b8d56a4e7cd7e5f3391af5493f6b7ba3a1e8c5d882",
        ),
        (
            Scheme::One,
            101,
            1250,
            402,
            "6cb47f1ee4480148e71b8cdd4e8336c96c676b87ef94a3fa019a6b053c50c136",
            "1b4be669e3b7e1c31288a916037b93b7171b8daa64f12af2f0175c4c535e27fc",
            "3e4086338084daed88007ee01574aded633fe1a732e36fa3e435b8ce8181f054",
        ),
    ];
    for (scheme, a, digest_at, dh_at, want_digest, want_key, want_sig) in cases {
        let mut c1: Block = pattern(a, 11);
        c1[4..8].copy_from_slice(&[9, 0, 124, 2]);
        assert_eq!(scheme.digest_offset(&c1), digest_at);
        assert_eq!(scheme.dh_offset(&c1), dh_at);
        digest::write_digest(&mut c1, scheme, FP_PARTIAL_KEY);
        let want_digest: Digest = array(want_digest);
        assert_eq!(c1[digest_at..digest_at + 32], want_digest);
        assert_eq!(digest::find_digest(&c1, FP_PARTIAL_KEY), Some((scheme, want_digest)));
        assert_eq!(digest::find_digest(&c1, FMS_PARTIAL_KEY), None);
        let key = digest::signature_key(&digest::FMS_KEY, &want_digest);
        assert_eq!(key, array::<32>(want_key));
        let random: [u8; SIGNATURE_POS] = pattern(13, 5);
        assert_eq!(digest::signature(&key, &random), array::<32>(want_sig));
    }
}

#[test]
fn signature_encryption_known_answers() {
    // python: key ids key[i] % 15 = [3, 10, 1, 7]; XTEA hand-written (32 cycles, LE words),
    // Blowfish from `cryptography` with each 4-byte word byte-swapped in and out.
    let key: Digest = pattern(29, 3);
    let plain: Digest = pattern(71, 200);
    assert_eq!(plain, array::<32>("c80f569de42b72b900478ed51c63aaf1387fc60d549be22970b7fe458cd31a61"));
    let cases = [
        (3, plain, plain),
        (6, plain, plain),
        (8, plain, array("f49be7122086d2559fe26a86255fa1f370da8306dd05a2f1dfca20b0bd7c40a8")),
        (9, plain, array("bc5714a28f2412a0150dabaae237b80a2716316ccc9647f69c3f5f4e91f12299")),
    ];
    for (version, mut signature, want) in cases {
        sig::encrypt_signature(version, &key, &mut signature);
        assert_eq!(signature, want, "type {version}");
    }
}

/// The 1024-bit Oakley group 2 prime, spelled out here apart from the implementation's copy.
const OAKLEY_P: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A0879",
    "8E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B",
    "0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF"
);

const SERVER_PRIVATE: &str = "fb7daafb37d21221f75d0451fa35dfaacfca509150cecad0e40217b593c5b47566e80c1dd1f74556b3c46a357b699c860976372361a99332934e720a586b7786fb7daafb37d21221f75d0451fa35dfaacfca509150cecad0e40217b593c5b47566e80c1dd1f74556b3c46a357b699c860976372361a99332934e720a586b77";
const SERVER_PUBLIC: &str = "9dac3fece73c3a2fb212a10a4f404d1d1e2dad59c082d0b77514534f25a05edc6124a341fe40e0aaaa4aecc62cc95c3c76defca8ef14caaa349ffae1fe8f82fe46314d2c818f716b7f8a8d14d88c8fece5455d93a8cb7331ed08dc5a97f200175f783247efd9966b560b7198934bf74f80cce507c9e56ca7f7a937af18b52920";

/// One DH + RC4 known answer: python `pow(2, x, p)`, `pow(y, x, p)`, HMAC-SHA256 and a
/// hand-written RC4 that drops 1536 bytes.
struct DhCase {
    client_private: &'static str,
    client_public: &'static str,
    secret: &'static str,
    encrypt_key: &'static str,
    encrypt_keystream: &'static str,
    decrypt_key: &'static str,
    decrypt_keystream: &'static str,
}

fn check_dh_case(case: &DhCase) {
    let server = KeyPair::from_private(&hex(SERVER_PRIVATE)).expect("valid private key");
    let client = KeyPair::from_private(&hex(case.client_private)).expect("valid private key");
    assert_eq!(server.public_key()[..], hex(SERVER_PUBLIC));
    assert_eq!(client.public_key()[..], hex(case.client_public));
    assert!(dh::is_valid_public_key(server.public_key()));
    assert!(dh::is_valid_public_key(client.public_key()));
    let secret = server.shared_secret(client.public_key());
    assert_eq!(secret[..], hex(case.secret));
    assert_eq!(client.shared_secret(server.public_key()), secret);

    assert_eq!(rc4_key(&secret, client.public_key())[..], hex(case.encrypt_key));
    assert_eq!(rc4_key(&secret, server.public_key())[..], hex(case.decrypt_key));
    // XOR with zeros shows the keystream right after the 1536 dropped bytes.
    let mut pair = Rc4Pair::for_server(&secret, server.public_key(), client.public_key());
    let mut out = [0u8; 16];
    pair.encrypt.apply(&mut out);
    assert_eq!(out[..], hex(case.encrypt_keystream));
    let mut inbound = [0u8; 16];
    pair.decrypt.apply(&mut inbound);
    assert_eq!(inbound[..], hex(case.decrypt_keystream));
}

#[test]
fn dh_and_rc4_known_answers() {
    check_dh_case(&DhCase {
        client_private: "85d7741af27f18cbefc7fdc96d4465f63d4e8da2126a196f87c4f7e1f65298855a0e4a4a8986936eae95e2b899e837c48ae39d8048f907ebd0095c87c49fb0af85d7741af27f18cbefc7fdc96d4465f63d4e8da2126a196f87c4f7e1f65298855a0e4a4a8986936eae95e2b899e837c48ae39d8048f907ebd0095c87c49fb0",
        client_public: "feb717c43124f02c444c46d6d733b64e30ef5cd979fac8e13b503e7fae2305006c758a3d4e91b69e07e890f85117d5897b422ad62899ada513cfaa5f238a7272e24f47a89b5944b7caf3cf90f498932bea8c23d52cc07a3502e8e03edd23daf25cba8e9ebefb6439c8ef70bfad987c8907dc4b4cf2b40dae1b351a2edbdb3007",
        secret: "ad667ca36e458f44ef5abc96856d10b2ea5ec5acb93c51325043c3e4d61a6b032dc74f2b1259ed0043c2cb996844041986ea08f5a4b5f0a5aa60579a146697564047cf17b8e500a6563da60c86286ad34b8e99e53a43e74ba43a563560e952425dfd8867d50d7c27a86339fcbcc81e5af795209bd3654982b41e8dcb52db98ca",
        encrypt_key: "3070e492b8e7c8ca35734179b7cbb1f7",
        encrypt_keystream: "b8d16806f6a5cc2d147cacf9f92cf5a6",
        decrypt_key: "4a872980bab6bd6c217b9d1c5ed5ca01",
        decrypt_keystream: "05fc0aef76c92117e85b85920be2e6ea",
    });
}

#[test]
fn shared_secret_with_a_zero_top_byte_is_left_padded() {
    // 1 connection in 256: the HMAC key stays 128 bytes, value right-aligned (librtmp with
    // GnuTLS, FFmpeg with mbedtls).
    check_dh_case(&DhCase {
        client_private: "dd868d3815cf927147f110690eac3747d0a8e48f6d6e0617efb326cc5e8c049e",
        client_public: "cda490b02e1fc56c6d14943bdb79a884c93af55bae59aeaf16103d53142754c2a1e7beb304f9fa0321be07952b02a2ab5559937eb818df1ffa3396fd5f7b2ea16890ce4af998284b4758382512120861b2df45dce1c1e130a828cd4b87b108429e005b54ef4331000d1152c3b087631738eea5e5831cd097521a5d5c90972d4b",
        secret: "00aa118f57c078425c4f7de60cc2cc9233c5dbc673b2e5196d5c54bed1e27f79109d72b577c87c62e15d9cb8f4668ef59ffdf68fa230add5db660d5a03aa5de264f549823a571b6a39c760c602fca6b56708b28bb471df91806c99ebe8cdabf25f798bedde6368a18ee4972f8c8fc6a77060e5c8d70dda4d6d3a7114f9853350",
        encrypt_key: "6b6db1e1eec592bbe4633ef77f5976d4",
        encrypt_keystream: "a92888deb9f579ef087c62921bb30cb5",
        decrypt_key: "e49d0e5a7fe29671cf88b3d53dec493b",
        decrypt_keystream: "f5e8fec809bbf77858fa1bb7dd57af0c",
    });
}

/// The client side of the padded-secret case above, in either 128-byte form of the secret.
fn zero_top_byte_pairs(client_form_unpadded: bool) -> (Rc4Pair, Rc4Pair) {
    let server = KeyPair::from_private(&hex(SERVER_PRIVATE)).unwrap();
    let client =
        KeyPair::from_private(&hex("dd868d3815cf927147f110690eac3747d0a8e48f6d6e0617efb326cc5e8c049e")).unwrap();
    let secret = server.shared_secret(client.public_key());
    assert_eq!(secret[0], 0);
    let server_pair = Rc4Pair::for_server(&secret, server.public_key(), client.public_key());
    let client_secret = if client_form_unpadded { unpadded_secret(&secret).expect("leading zero") } else { secret };
    let client_pair = Rc4Pair::for_client(&client_secret, server.public_key(), client.public_key());
    (server_pair, client_pair)
}

#[test]
fn unpadded_secret_form_known_answers() {
    // python: alt = secret[1:] + b"\0"; HMAC(alt, client_pub)[:16], HMAC(alt, server_pub)[:16].
    let secret: [u8; KEY_LEN] = array(concat!(
        "00aa118f57c078425c4f7de60cc2cc9233c5dbc673b2e5196d5c54bed1e27f79109d72b577c87c62e15d9c",
        "b8f4668ef59ffdf68fa230add5db660d5a03aa5de264f549823a571b6a39c760c602fca6b56708b28bb471",
        "df91806c99ebe8cdabf25f798bedde6368a18ee4972f8c8fc6a77060e5c8d70dda4d6d3a7114f9853350"
    ));
    let alternate = unpadded_secret(&secret).expect("leading zero");
    assert_eq!(alternate[..127], secret[1..]);
    assert_eq!(alternate[127], 0);
    let client =
        KeyPair::from_private(&hex("dd868d3815cf927147f110690eac3747d0a8e48f6d6e0617efb326cc5e8c049e")).unwrap();
    let server_public: [u8; KEY_LEN] = array(SERVER_PUBLIC);
    assert_eq!(rc4_key(&alternate, client.public_key()), array::<16>("0d67b5d6672fc9447bd174c4696ae27f"));
    assert_eq!(rc4_key(&alternate, &server_public), array::<16>("e74f267f48ee9d77d373c2c0c9f8779b"));
    assert_eq!(unpadded_secret(&[1; KEY_LEN]), None);
    assert_eq!(unpadded_secret(&[0; KEY_LEN]), None);
}

#[test]
fn zero_top_byte_secret_works_with_both_client_forms() {
    // connect: fmt 0 on csid 3, then the rest of its header and body.
    let connect = b"\x03\x00\x00\x00\x00\x00\x2a\x14\x00\x00\x00\x00\x02\x00\x07connect";
    for unpadded in [false, true] {
        let (mut server, mut client) = zero_top_byte_pairs(unpadded);
        let mut wire = connect.to_vec();
        client.encrypt.apply(&mut wire);
        // Split the first read to check the choice also holds for later bytes.
        let (first, rest) = wire.split_at_mut(3);
        server.decrypt.apply(&mut []);
        server.decrypt.apply(first);
        server.decrypt.apply(rest);
        assert_eq!(wire, connect, "unpadded client form: {unpadded}");
        check_encryption_both_ways(&mut server, &mut client);
    }
}

#[test]
fn zero_top_byte_secret_server_speaking_first_commits_to_padded() {
    let (mut server, mut client) = zero_top_byte_pairs(false);
    let mut wire = *b"server first";
    server.encrypt.apply(&mut wire);
    client.decrypt.apply(&mut wire);
    assert_eq!(&wire, b"server first");
    check_encryption_both_ways(&mut server, &mut client);
}

#[test]
fn public_key_with_a_zero_top_byte_is_left_padded() {
    // python: pow(2, 0x23e18, p) starts with 00 5d f6 59.
    let pair = KeyPair::from_private(&[0x02, 0x3e, 0x18]).expect("valid private key");
    assert_eq!(pair.public_key()[..4], [0x00, 0x5d, 0xf6, 0x59]);
    assert!(dh::is_valid_public_key(pair.public_key()));
    assert!(KeyPair::from_private(&[0; 127]).is_none());
}

#[test]
fn public_key_validation() {
    let number = |value: &[u8]| {
        let mut key = [0u8; KEY_LEN];
        key[KEY_LEN - value.len()..].copy_from_slice(value);
        key
    };
    let p = hex(OAKLEY_P);
    let minus = |k: u8| {
        let mut key = number(&p);
        key[KEY_LEN - 1] -= k;
        key
    };
    assert!(dh::is_valid_public_key(&number(&[2])));
    assert!(dh::is_valid_public_key(&number(&[3])));
    assert!(dh::is_valid_public_key(&number(&[4])));
    for (name, key) in [
        ("0", number(&[0])),
        ("1", number(&[1])),
        // Quadratic non-residues mod p are outside the order-q subgroup (python pow(y, q, p)).
        ("5", number(&[5])),
        ("p - 2", minus(2)),
        ("p - 1", minus(1)),
        ("p", number(&p)),
        ("all ones", [0xff; KEY_LEN]),
    ] {
        assert!(!dh::is_valid_public_key(&key), "{name} accepted");
    }
}

#[test]
fn key_check_agrees_with_eulers_criterion() {
    // is_valid_public_key uses the Jacobi symbol; FFmpeg's definition is y^q mod p == 1.
    // Compare the two on random numbers (half are non-residues) and on our own keys.
    use crypto_bigint::U1024;
    use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
    let p = U1024::from_be_hex(OAKLEY_P);
    let params = FixedMontyParams::new_vartime(crypto_bigint::Odd::new(p).unwrap());
    let q = p.shr_vartime(1);
    let euler = |key: &[u8; KEY_LEN]| {
        let y = U1024::from_be_slice(key);
        y > U1024::ONE
            && y < p.wrapping_sub(&U1024::ONE)
            && FixedMontyForm::new(&y, &params).pow(&q).retrieve() == U1024::ONE
    };
    let mut rng = StdRng::seed_from_u64(7);
    let (mut valid, mut invalid) = (0, 0);
    for round in 0..48 {
        let mut key = [0u8; KEY_LEN];
        if round % 4 == 0 {
            key = *KeyPair::generate(&mut rng).public_key();
        } else {
            rng.fill_bytes(&mut key[1..]);
        }
        let expected = euler(&key);
        assert_eq!(dh::is_valid_public_key(&key), expected, "key {key:02x?}");
        if expected { valid += 1 } else { invalid += 1 }
    }
    assert!(valid >= 12 && invalid >= 6, "{valid} valid, {invalid} invalid");
}

#[test]
fn generated_key_pairs_agree_on_the_secret() {
    let mut rng = StdRng::seed_from_u64(11);
    let ours = KeyPair::generate(&mut rng);
    let theirs = KeyPair::generate(&mut rng);
    assert_ne!(ours.public_key(), theirs.public_key());
    assert_eq!(ours.shared_secret(theirs.public_key()), theirs.shared_secret(ours.public_key()));
}

// ----- client against server ----------------------------------------------------------------

/// Runs a whole handshake in one call per direction, checking the byte counts and that each
/// side transmits exactly when it should. The client checks S0+S1+S2 like a strict client.
fn exchange(client: &mut ClientHandshake, server: &mut ServerHandshake) {
    let c0c1 = client.poll_transmit().expect("C0+C1 at once");
    assert_eq!(c0c1.len(), 1 + BLOCK_LEN);
    assert!(client.poll_transmit().is_none(), "C0+C1 transmitted once");
    assert_eq!(server.handle_input(&c0c1), Ok(c0c1.len()));
    let response = server.poll_transmit().expect("S0+S1+S2 after C0+C1");
    assert!(server.poll_transmit().is_none(), "transmitted once");
    assert_eq!(client.handle_input(&response), Ok(response.len()));
    assert!(!client.is_complete(), "complete only once C2 is taken");
    let c2 = client.poll_transmit().expect("C2 after S0+S1+S2");
    assert!(client.is_complete());
    assert!(!server.is_complete());
    assert_eq!(server.handle_input(&c2), Ok(BLOCK_LEN));
    assert!(server.is_complete());
}

/// [`exchange`], then both outcomes.
fn run(mut client: ClientHandshake, mut server: ServerHandshake) -> (HandshakeOutcome, ClientHandshakeOutcome) {
    exchange(&mut client, &mut server);
    (server.into_outcome(), client.into_outcome())
}

fn check_encryption_both_ways(server: &mut Rc4Pair, client: &mut Rc4Pair) {
    for round in 0..3 {
        // Starts like a real first chunk (fmt 0, csid 3), which the RC4 fallback relies on.
        let message = format!("\x03connect #{round}: {}", "x".repeat(round * 100));
        let mut wire = message.clone().into_bytes();
        client.encrypt.apply(&mut wire);
        assert_ne!(wire, message.as_bytes());
        server.decrypt.apply(&mut wire);
        assert_eq!(wire, message.as_bytes(), "client → server");

        let reply = format!("_result #{round}");
        let mut wire = reply.clone().into_bytes();
        server.encrypt.apply(&mut wire);
        assert_ne!(wire, reply.as_bytes());
        client.decrypt.apply(&mut wire);
        assert_eq!(wire, reply.as_bytes(), "server → client");
    }
}

#[test]
fn digest_handshake_in_both_schemes() {
    for (scheme, number) in [(Scheme::Zero, 0), (Scheme::One, 1)] {
        for seed in 0..4 {
            let client = ClientHandshake::with_scheme(ClientKind::Digest, scheme, seed);
            let server = ServerHandshake::with_rng_seed(seed + 100);
            let (outcome, client_outcome) = run(client, server);
            assert_eq!(outcome.kind, HandshakeKind::Digest { scheme: number });
            assert_eq!(outcome.client_version, [9, 0, 124, 2]);
            // FFmpeg only verifies when S1[4] ≥ 3 (`rtmp_handshake`); we insist it does.
            assert!(client_outcome.server_version[0] >= 3);
            assert_eq!(client_outcome.server_scheme, Some(number), "S1 answers in the client's scheme");
            assert!(outcome.encryption.is_none() && client_outcome.encryption.is_none());
        }
    }
}

#[test]
fn rtmpe_handshakes_types_6_8_9_in_both_schemes() {
    for version in [6, 8, 9] {
        for (scheme, number) in [(Scheme::Zero, 0), (Scheme::One, 1)] {
            let kind = ClientKind::Encrypted { version };
            let client = ClientHandshake::with_scheme(kind, scheme, u64::from(version) * 10 + 1);
            let server = ServerHandshake::with_rng_seed(7);
            let (outcome, client_outcome) = run(client, server);
            assert_eq!(outcome.kind, HandshakeKind::Encrypted { scheme: number, version });
            assert_eq!(outcome.client_version, [128, 0, 3, 2]);
            assert_eq!(client_outcome.server_scheme, Some(number));
            let mut server_rc4 = outcome.encryption.expect("server RC4");
            let mut client_rc4 = client_outcome.encryption.expect("client RC4");
            check_encryption_both_ways(&mut server_rc4, &mut client_rc4);
        }
    }
}

#[test]
fn default_client_kinds_are_what_ffmpeg_and_rtmpdump_send() {
    // Simple: C1 without a version, so the server echoes it.
    let (outcome, client_outcome) =
        run(ClientHandshake::with_rng_seed(ClientKind::Simple, 1), ServerHandshake::with_rng_seed(1));
    assert_eq!(outcome.kind, HandshakeKind::Simple);
    assert_eq!(client_outcome.server_version, [0; 4]);
    assert_eq!(client_outcome.server_scheme, None);
    // Digest: scheme 0 (FFmpeg rtmp://); RTMPE: scheme 1 (FFmpeg and rtmpdump rtmpe://).
    let (outcome, _) = run(ClientHandshake::new(ClientKind::Digest), ServerHandshake::new());
    assert_eq!(outcome.kind, HandshakeKind::Digest { scheme: 0 });
    let (outcome, client_outcome) =
        run(ClientHandshake::new(ClientKind::Encrypted { version: 6 }), ServerHandshake::new());
    assert_eq!(outcome.kind, HandshakeKind::Encrypted { scheme: 1, version: 6 });
    check_encryption_both_ways(&mut outcome.encryption.unwrap(), &mut client_outcome.encryption.unwrap());
}

/// Many RTMPE handshakes, so that about 1 in 256 has a shared secret with a zero top byte,
/// with clients using either form of such a secret. Slow in debug builds: run with
/// `cargo test --release -p sf-rtmp -- --ignored`.
#[test]
#[ignore = "slow: 4000 Diffie-Hellman exchanges"]
fn rtmpe_many_handshakes_both_secret_forms() {
    let mut zero_top_byte = 0;
    for seed in 0..2000 {
        for unpadded_secret in [false, true] {
            let mut client = ClientHandshake::with_rng_seed(ClientKind::Encrypted { version: 6 }, seed);
            if unpadded_secret {
                client = client.with_unpadded_secret();
            }
            let mut server = ServerHandshake::with_rng_seed(seed);
            exchange(&mut client, &mut server);
            // Count the seeds that exercised the fallback.
            if !unpadded_secret && client.shared_secret().expect("RTMPE secret")[0] == 0 {
                zero_top_byte += 1;
            }
            let mut server_rc4 = server.into_outcome().encryption.unwrap();
            let mut client_rc4 = client.into_outcome().encryption.unwrap();
            check_encryption_both_ways(&mut server_rc4, &mut client_rc4);
        }
    }
    assert!(zero_top_byte > 0, "no secret with a zero top byte in 2000 seeds");
}

// ----- the client on its own ---------------------------------------------------------------

/// S0+S1+S2 from a server for a client of `kind` built with `seed`.
fn server_response(kind: ClientKind, seed: u64) -> (ClientHandshake, Vec<u8>) {
    let mut client = ClientHandshake::with_rng_seed(kind, seed);
    let mut server = ServerHandshake::with_rng_seed(seed);
    server.handle_input(&client.poll_transmit().unwrap()).unwrap();
    (client, server.poll_transmit().unwrap())
}

#[test]
fn client_reads_byte_at_a_time_and_stops_after_s2() {
    for kind in [ClientKind::Simple, ClientKind::Digest, ClientKind::Encrypted { version: 8 }] {
        let (mut client, mut response) = server_response(kind, 3);
        let s2_end = response.len();
        response.extend_from_slice(b"first chunk");
        for (i, byte) in response.iter().enumerate() {
            let used = client.handle_input(std::slice::from_ref(byte)).unwrap();
            assert_eq!(used, usize::from(i < s2_end), "{kind:?} byte {i}");
            assert_eq!(client.poll_transmit().is_some(), i == s2_end - 1, "C2 exactly after S2");
        }
        assert!(client.is_complete());
        assert_eq!(client.handle_input(b"more"), Ok(0));
        assert_eq!(client.into_outcome().encryption.is_some(), matches!(kind, ClientKind::Encrypted { .. }));
    }
}

#[test]
fn client_rejects_a_bad_server() {
    let kind = ClientKind::Encrypted { version: 9 };
    // S0 not echoing C0: at once, and for good.
    let (mut client, _) = server_response(kind, 4);
    let error = ClientHandshakeError::BadVersion { sent: 9, received: 3 };
    assert_eq!(client.handle_input(&[3]), Err(error.clone()));
    assert_eq!(client.handle_input(&[9]), Err(error));
    // A changed byte in S1 breaks its digest; in S2, the signature.
    for (at, error) in
        [(1 + 100, ClientHandshakeError::NoServerDigest), (1 + 2 * BLOCK_LEN - 1, ClientHandshakeError::BadSignature)]
    {
        let (mut client, mut response) = server_response(kind, 4);
        response[at] ^= 0x40;
        assert_eq!(client.handle_input(&response), Err(error));
        assert!(client.poll_transmit().is_none() && !client.is_complete());
    }
    // An RTMPE server must answer with a digest and a DH key.
    let (mut client, mut response) = server_response(kind, 4);
    response[5..9].copy_from_slice(&[0; 4]);
    assert_eq!(client.handle_input(&response), Err(ClientHandshakeError::NoServerDigest));
    let mut client = ClientHandshake::new(ClientKind::Encrypted { version: 7 });
    assert!(client.poll_transmit().is_none());
    assert_eq!(client.handle_input(&[7]), Err(ClientHandshakeError::UnsupportedVersion(7)));
}

#[test]
fn digest_client_accepts_an_echo_server() {
    // Old servers answer a digest C1 with the echo handshake (S1 version 0): FFmpeg goes on.
    let mut client = ClientHandshake::with_rng_seed(ClientKind::Digest, 5);
    let c0c1 = client.poll_transmit().unwrap();
    let mut response = vec![3u8];
    response.extend_from_slice(&[0; BLOCK_LEN]);
    response.extend_from_slice(&c0c1[1..]);
    assert_eq!(client.handle_input(&response), Ok(response.len()));
    assert_eq!(client.poll_transmit().unwrap(), vec![0; BLOCK_LEN], "C2 echoes S1");
    assert_eq!(client.into_outcome().server_scheme, None);
}

#[test]
fn simple_handshake_echoes_c1() {
    let mut c0c1 = vec![3u8];
    let c1: Block = pattern(7, 1);
    let mut c1 = c1;
    c1[4..8].copy_from_slice(&[0; 4]);
    c0c1.extend_from_slice(&c1);
    let mut server = ServerHandshake::with_rng_seed(1);
    assert_eq!(server.handle_input(&c0c1), Ok(c0c1.len()));
    let response = server.poll_transmit().unwrap();
    assert_eq!(response[0], 3);
    assert_eq!(response[5..9], [0; 4], "S1 version zero: FFmpeg must not verify");
    assert_eq!(response[1 + BLOCK_LEN..], c1[..], "S2 = C1");
    assert_eq!(server.handle_input(&response[1..1 + BLOCK_LEN]), Ok(BLOCK_LEN));
    let outcome = server.into_outcome();
    assert_eq!(outcome.kind, HandshakeKind::Simple);
    assert_eq!(outcome.client_version, [0; 4]);
}

#[test]
fn plain_client_without_digest_falls_back_to_simple() {
    let mut c0c1 = vec![3u8];
    let mut c1: Block = pattern(7, 1);
    c1[4..8].copy_from_slice(&[10, 0, 32, 18]);
    c0c1.extend_from_slice(&c1);
    let mut server = ServerHandshake::with_rng_seed(1);
    server.handle_input(&c0c1).unwrap();
    let response = server.poll_transmit().unwrap();
    assert_eq!(response[5..9], [0; 4]);
    assert_eq!(response[1 + BLOCK_LEN..], c1[..]);
    server.handle_input(&[0; BLOCK_LEN]).unwrap();
    let outcome = server.into_outcome();
    assert_eq!(outcome.kind, HandshakeKind::Simple);
    assert_eq!(outcome.client_version, [10, 0, 32, 18]);
}

#[test]
fn byte_at_a_time_stops_after_c2() {
    let mut client = ClientHandshake::with_rng_seed(ClientKind::Encrypted { version: 6 }, 5);
    let mut server = ServerHandshake::with_rng_seed(5);
    let mut reference = ServerHandshake::with_rng_seed(5);
    let c0c1 = client.poll_transmit().unwrap();
    for (i, byte) in c0c1.iter().enumerate() {
        assert_eq!(server.handle_input(std::slice::from_ref(byte)), Ok(1));
        let transmit = server.poll_transmit();
        assert_eq!(transmit.is_some(), i == c0c1.len() - 1, "S0+S1+S2 exactly after C1");
        if let Some(response) = transmit {
            reference.handle_input(&c0c1).unwrap();
            assert_eq!(Some(response.clone()), reference.poll_transmit(), "split-independent");
            assert_eq!(client.handle_input(&response), Ok(response.len()));
            let c2 = client.poll_transmit().expect("C2");
            let client_rc4 = client.into_outcome().encryption;
            let mut rest = c2.clone();
            rest.extend_from_slice(b"after C2");
            for (j, byte) in rest.iter().enumerate() {
                let used = server.handle_input(std::slice::from_ref(byte)).unwrap();
                assert_eq!(used, usize::from(j < BLOCK_LEN), "byte {j}");
                assert_eq!(server.is_complete(), j >= BLOCK_LEN - 1);
            }
            // Remaining bytes in one call: nothing is consumed either.
            assert_eq!(server.handle_input(b"more chunks"), Ok(0));
            let mut server_rc4 = server.into_outcome().encryption.unwrap();
            check_encryption_both_ways(&mut server_rc4, &mut client_rc4.unwrap());
            return;
        }
    }
    unreachable!("no response");
}

#[test]
fn c2_and_following_bytes_in_one_read() {
    let mut client = ClientHandshake::with_rng_seed(ClientKind::Digest, 9);
    let mut server = ServerHandshake::with_rng_seed(9);
    server.handle_input(&client.poll_transmit().unwrap()).unwrap();
    client.handle_input(&server.poll_transmit().unwrap()).unwrap();
    let mut c2 = client.poll_transmit().unwrap();
    c2.extend_from_slice(&[0x03, 0, 0, 0]);
    assert_eq!(server.handle_input(&c2), Ok(BLOCK_LEN));
    assert!(server.is_complete());
}

#[test]
fn same_seed_same_response() {
    let c0c1 =
        ClientHandshake::with_scheme(ClientKind::Encrypted { version: 9 }, Scheme::Zero, 3).poll_transmit().unwrap();
    let respond = |seed| {
        let mut server = ServerHandshake::with_rng_seed(seed);
        server.handle_input(&c0c1).unwrap();
        server.poll_transmit().unwrap()
    };
    assert_eq!(respond(42), respond(42));
    assert_ne!(respond(42), respond(43));
}

#[test]
fn rejected_versions() {
    for c0 in [0u8, 1, 2, 4, 5, 7, 10, 0x16, 0x47, 0xff] {
        let mut server = ServerHandshake::new();
        assert_eq!(server.handle_input(&[c0]), Err(HandshakeError::BadVersion(c0)));
        // Failure is sticky.
        assert_eq!(server.handle_input(&[3]), Err(HandshakeError::BadVersion(c0)));
        assert!(server.poll_transmit().is_none());
    }
    for c0 in [3u8, 6, 8, 9] {
        let mut server = ServerHandshake::new();
        assert_eq!(server.handle_input(&[]), Ok(0));
        assert_eq!(server.handle_input(&[c0]), Ok(1), "version {c0} is accepted");
    }
}

#[test]
fn rtmpe_without_digest_fails() {
    let mut c0c1 = vec![6u8];
    c0c1.extend_from_slice(&pattern::<BLOCK_LEN>(3, 1));
    let mut server = ServerHandshake::new();
    assert_eq!(server.handle_input(&c0c1), Err(HandshakeError::NoClientDigest));
    assert!(server.poll_transmit().is_none());
}

#[test]
fn rtmpe_with_bad_public_key_fails() {
    for bad in [[0u8; KEY_LEN], [0xff; KEY_LEN]] {
        let mut c1 = [0u8; BLOCK_LEN];
        StdRng::seed_from_u64(1).fill_bytes(&mut c1[8..]);
        c1[4..8].copy_from_slice(&[128, 0, 3, 2]);
        let at = Scheme::One.dh_offset(&c1);
        c1[at..at + KEY_LEN].copy_from_slice(&bad);
        digest::write_digest(&mut c1, Scheme::One, FP_PARTIAL_KEY);
        let mut c0c1 = vec![8u8];
        c0c1.extend_from_slice(&c1);
        let mut server = ServerHandshake::new();
        assert_eq!(server.handle_input(&c0c1), Err(HandshakeError::BadPublicKey));
    }
}

#[test]
fn rc4_stream_is_symmetric() {
    let mut a = Rc4Stream::new(b"0123456789abcdef");
    let mut b = Rc4Stream::new(b"0123456789abcdef");
    let mut data = *b"some chunk bytes";
    a.apply(&mut data);
    b.apply(&mut data);
    assert_eq!(&data, b"some chunk bytes");
}
