//! botocore parses what the API writes: each response document goes through botocore's own
//! RestXMLParser with the CloudFront 2020-05-31 output shape of its operation, from the venv
//! that `scripts/api-venv.sh` creates, and every parsed value is compared with the JSON view of
//! the same document (tests/botocore_parse.py).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use sf_api::ApiError;
use sf_api::xml::error_xml;

/// The venv's python, created (once) by scripts/api-venv.sh, which prints its path last.
fn venv_python() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/api-venv.sh");
    let out = Command::new(&script).output().expect("running scripts/api-venv.sh");
    assert!(out.status.success(), "api-venv.sh failed: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    Path::new(stdout.lines().last().expect("api-venv.sh printed nothing").trim()).join("bin/python")
}

#[test]
fn botocore_parses_every_response_shape_to_the_values_written() {
    let dir = tempfile::tempdir().unwrap();
    let documents = common::response_documents();
    for (operation, xml, view) in &documents {
        std::fs::write(dir.path().join(format!("{operation}.xml")), xml).unwrap();
        std::fs::write(dir.path().join(format!("{operation}.json")), view.to_string()).unwrap();
    }
    let error = ApiError::new(404, "NoSuchDistribution", "The specified distribution does not exist: <E1 & E2>.");
    std::fs::write(dir.path().join("error.xml"), error_xml(&error, "req-1")).unwrap();
    let view = serde_json::json!({"status": 404, "code": error.code, "message": error.message, "request_id": "req-1"});
    std::fs::write(dir.path().join("error.json"), view.to_string()).unwrap();

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/botocore_parse.py");
    let out = Command::new(venv_python()).arg(&script).arg(dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("{} documents checked", documents.len() + 1)), "{stdout}");
}
