//! Who may call the API: access key ids with their secret keys (and, for temporary credentials,
//! the session token the caller must send as `X-Amz-Security-Token`).

use std::collections::HashMap;
use std::fmt;

/// One caller's credential, as the AWS CLI's `aws_access_key_id`, `aws_secret_access_key` and
/// `aws_session_token` name them. Its `Debug` output shows the access key id only.
#[derive(Clone, serde::Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ApiCredential {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// When set, every request must carry this token, signed (`X-Amz-Security-Token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token: Option<String>,
}

impl fmt::Debug for ApiCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiCredential")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &self.session_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The credentials the API accepts, by access key id.
#[derive(Clone, Default)]
pub struct Credentials {
    by_access_key_id: HashMap<String, ApiCredential>,
}

impl Credentials {
    /// Refuses an empty access key id, secret or session token, and an access key id listed twice.
    pub fn new(list: Vec<ApiCredential>) -> Result<Credentials, String> {
        let mut by_access_key_id = HashMap::with_capacity(list.len());
        for credential in list {
            let id = &credential.access_key_id;
            if id.is_empty() {
                return Err("an API credential has an empty access_key_id".to_owned());
            }
            // The id travels in the Authorization header's Credential=<id>/<date>/…, so it
            // cannot hold a '/' or anything that is not a visible ASCII character.
            if !id.bytes().all(|b| b.is_ascii_graphic() && b != b'/' && b != b',') {
                return Err(format!("API access_key_id {id:?}: only visible ASCII characters, no '/' or ','"));
            }
            if credential.secret_access_key.is_empty() {
                return Err(format!("API access_key_id {id}: empty secret_access_key"));
            }
            if credential.session_token.as_deref() == Some("") {
                return Err(format!("API access_key_id {id}: empty session_token (leave it out instead)"));
            }
            if by_access_key_id.contains_key(id) {
                return Err(format!("API access_key_id {id} is listed twice"));
            }
            by_access_key_id.insert(id.clone(), credential);
        }
        Ok(Credentials { by_access_key_id })
    }

    pub fn lookup(&self, access_key_id: &str) -> Option<&ApiCredential> {
        self.by_access_key_id.get(access_key_id)
    }

    pub fn is_empty(&self) -> bool {
        self.by_access_key_id.is_empty()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ids: Vec<&str> = self.by_access_key_id.keys().map(String::as_str).collect();
        ids.sort_unstable();
        f.debug_struct("Credentials").field("access_key_ids", &ids).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credential(id: &str, secret: &str, token: Option<&str>) -> ApiCredential {
        ApiCredential {
            access_key_id: id.to_owned(),
            secret_access_key: secret.to_owned(),
            session_token: token.map(str::to_owned),
        }
    }

    #[test]
    fn looks_up_by_access_key_id() {
        let credentials =
            Credentials::new(vec![credential("AKIDONE", "s1", None), credential("AKIDTWO", "s2", Some("t"))]).unwrap();
        assert!(!credentials.is_empty());
        assert_eq!(credentials.lookup("AKIDTWO").unwrap().secret_access_key, "s2");
        assert!(credentials.lookup("AKIDTHREE").is_none());
        assert!(Credentials::new(vec![]).unwrap().is_empty());
    }

    #[test]
    fn refuses_duplicates_and_empty_values() {
        let twice = Credentials::new(vec![credential("AKID", "a", None), credential("AKID", "b", None)]);
        assert_eq!(twice.unwrap_err(), "API access_key_id AKID is listed twice");
        assert!(Credentials::new(vec![credential("", "a", None)]).unwrap_err().contains("empty access_key_id"));
        assert!(Credentials::new(vec![credential("AKID", "", None)]).unwrap_err().contains("empty secret"));
        assert!(Credentials::new(vec![credential("AKID", "a", Some(""))]).unwrap_err().contains("empty session"));
        assert!(Credentials::new(vec![credential("AK/ID", "a", None)]).unwrap_err().contains("no '/'"));
    }

    #[test]
    fn debug_never_shows_secrets() {
        let one = credential("AKIDVISIBLE", "SECRETSECRET", Some("TOKENTOKEN"));
        let credentials = Credentials::new(vec![one.clone()]).unwrap();
        for shown in [format!("{one:?}"), format!("{credentials:?}"), format!("{credentials:#?}")] {
            assert!(shown.contains("AKIDVISIBLE"), "{shown}");
            assert!(!shown.contains("SECRETSECRET") && !shown.contains("TOKENTOKEN"), "{shown}");
        }
    }
}
