//! Public keys that may sign: CloudFront key pairs (`APKA…` ids, owned by an account that a
//! distribution lists in its `TrustedSigners`), and the API's public keys (for key groups).

use std::collections::HashMap;
use std::sync::Arc;

use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use rsa::traits::PublicKeyParts;
use sha1::Sha1;

/// The account of the server's own key pairs: `TrustedSigners` item `self`.
pub const SELF_ACCOUNT: &str = "self";

/// Largest RSA modulus accepted, in bits: verifying costs grow with it, and CloudFront asks
/// for 2048-bit keys (4096 is what `openssl genrsa` examples in the Developer Guide use).
const MAX_KEY_BITS: usize = 8192;

/// One public key that may sign.
#[derive(Debug)]
pub struct KeyPair {
    pub id: String,
    /// `self`, or the 12-digit account number a distribution's `TrustedSigners` names.
    pub account: String,
    key: VerifyingKey<Sha1>,
}

impl KeyPair {
    /// A key from PEM text: `BEGIN PUBLIC KEY` (SubjectPublicKeyInfo, what `openssl rsa -pubout`
    /// and CloudFront's `EncodedKey` hold) or `BEGIN RSA PUBLIC KEY` (PKCS#1).
    pub fn from_pem(id: &str, account: &str, pem: &str) -> Result<KeyPair, String> {
        let pem = pem.trim();
        let key = rsa::PublicKey::from_public_key_pem(pem)
            .or_else(|_| rsa::PublicKey::from_pkcs1_pem(pem))
            .map_err(|e| format!("not an RSA public key in PEM ({e})"))?;
        let bits = key.size() * 8;
        if bits > MAX_KEY_BITS {
            return Err(format!("a {bits}-bit key is larger than the {MAX_KEY_BITS} bits accepted"));
        }
        Ok(KeyPair { id: id.to_owned(), account: account.to_owned(), key: VerifyingKey::new(key) })
    }

    /// True when `signature` is this key's RSA-SHA1 PKCS#1 v1.5 signature of `message`.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        Signature::try_from(signature).is_ok_and(|signature| self.key.verify(message, &signature).is_ok())
    }
}

/// Key pairs by id.
#[derive(Debug, Clone, Default)]
pub struct KeyPairs {
    by_id: HashMap<String, Arc<KeyPair>>,
}

impl KeyPairs {
    /// Adds `key`; an error when its id is taken.
    pub fn insert(&mut self, key: KeyPair) -> Result<(), String> {
        if self.by_id.contains_key(&key.id) {
            return Err(format!("key pair {} is declared twice", key.id));
        }
        self.by_id.insert(key.id.clone(), Arc::new(key));
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<&Arc<KeyPair>> {
        self.by_id.get(id)
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// The account of public keys created through the API: they sign for the key groups that hold
/// them, never as a `TrustedSigners` account.
pub const KEY_GROUP_ACCOUNT: &str = "key-group";

/// Public keys and the key groups that list them (the CloudFront API's `PublicKey` and
/// `KeyGroup`), for cache behaviors' `TrustedKeyGroups`.
#[derive(Debug, Clone, Default)]
pub struct KeyGroups {
    keys: KeyPairs,
    /// Group id → the ids of its public keys.
    groups: HashMap<String, Vec<String>>,
}

impl KeyGroups {
    /// Adds a public key; an error when its id is taken.
    pub fn insert_key(&mut self, key: KeyPair) -> Result<(), String> {
        self.keys.insert(key)
    }

    pub fn insert_group(&mut self, id: &str, key_ids: Vec<String>) {
        self.groups.insert(id.to_owned(), key_ids);
    }

    /// The key `key_id` when one of `trusted_groups` lists it and it exists.
    pub fn key_in(&self, trusted_groups: &[String], key_id: &str) -> Option<&Arc<KeyPair>> {
        let listed = trusted_groups
            .iter()
            .filter_map(|group| self.groups.get(group))
            .any(|ids| ids.iter().any(|id| id == key_id));
        if listed { self.keys.get(key_id) } else { None }
    }

    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    pub fn group_count(&self) -> usize {
        self.groups.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_pem_forms_and_refuses_others() {
        let spki = include_str!("testdata/aws-doc-example.pub.pem");
        let pkcs1 = include_str!("testdata/aws-doc-example.rsa-pub.pem");
        assert!(KeyPair::from_pem("A", SELF_ACCOUNT, spki).is_ok());
        assert!(KeyPair::from_pem("A", SELF_ACCOUNT, pkcs1).is_ok());
        assert!(
            KeyPair::from_pem("A", SELF_ACCOUNT, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----").is_err()
        );
        assert!(KeyPair::from_pem("A", SELF_ACCOUNT, "").is_err());
        let mut keys = KeyPairs::default();
        keys.insert(KeyPair::from_pem("A", SELF_ACCOUNT, spki).unwrap()).unwrap();
        assert!(keys.insert(KeyPair::from_pem("A", "111122223333", spki).unwrap()).is_err());
    }

    #[test]
    fn a_key_signs_for_the_groups_that_list_it() {
        let spki = include_str!("testdata/aws-doc-example.pub.pem");
        let mut groups = KeyGroups::default();
        groups.insert_key(KeyPair::from_pem("K1", KEY_GROUP_ACCOUNT, spki).unwrap()).unwrap();
        groups.insert_key(KeyPair::from_pem("K2", KEY_GROUP_ACCOUNT, spki).unwrap()).unwrap();
        groups.insert_group("G1", vec!["K1".into()]);
        groups.insert_group("G2", vec!["K2".into(), "K3".into()]);
        let trusted = ["G1".to_owned()];
        assert_eq!(groups.key_in(&trusted, "K1").map(|k| k.id.as_str()), Some("K1"));
        assert!(groups.key_in(&trusted, "K2").is_none(), "K2 is only in a group not trusted here");
        assert!(groups.key_in(&["G2".to_owned()], "K3").is_none(), "listed but not a key");
        assert!(groups.key_in(&["G9".to_owned()], "K1").is_none());
    }
}
