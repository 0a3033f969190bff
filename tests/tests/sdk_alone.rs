//! The SDK builds on its own, copied out of the host's repository: no
//! `workspace = true` inheritance, nothing outside `sdk/` needed; and its
//! package carries what an author needs (the header, the schemas, the wire
//! page). `.ci/run` also runs the full `cargo package -p praxis-sdk`, which
//! builds the packaged crate.

use std::process::Command;

#[test]
fn the_sdk_builds_copied_out_of_the_repository() {
    let root = praxis_tests::workspace_root();
    let copy = tempfile::tempdir().unwrap();
    let sdk = copy.path().join("praxis-sdk");
    copy_dir(&root.join("sdk"), &sdk);
    let manifest = std::fs::read_to_string(sdk.join("Cargo.toml")).unwrap();
    let settings: Vec<&str> = manifest.lines().filter(|l| !l.trim_start().starts_with('#')).collect();
    assert!(!settings.iter().any(|l| l.contains("workspace")), "{manifest}");
    assert!(!settings.iter().any(|l| l.starts_with("repository")), "there is no public repository URL");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    for features in ["", "testing", "schema"] {
        let mut command = Command::new(&cargo);
        command
            .current_dir(&sdk)
            .args(["build", "--offline", "--target-dir"])
            .arg(praxis_tests::e2e_target_dir().join("sdk-alone"))
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_MANIFEST_DIR");
        if !features.is_empty() {
            command.args(["--features", features]);
        }
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "the copied SDK does not build (features: {features:?}):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn the_sdk_package_carries_the_header_the_schemas_and_the_wire_page() {
    let root = praxis_tests::workspace_root();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(&cargo)
        .current_dir(&root)
        .args(["package", "-p", "praxis-sdk", "--allow-dirty", "--list", "--offline"])
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "cargo package --list failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let files: Vec<&str> = stdout.lines().collect();
    let mut wanted =
        vec!["Cargo.toml", "README.md", "WIRE.md", "include/praxis_plugin.h", "src/lib.rs", "src/schema.rs"];
    let schemas: Vec<String> =
        praxis_sdk::schema::Message::ALL.iter().map(|m| format!("schema/{}", m.file_name())).collect();
    wanted.extend(schemas.iter().map(String::as_str));
    for file in wanted {
        assert!(files.contains(&file), "the package lacks {file}: {files:?}");
    }
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
