//! The rules every card cites are in the repository: `docs/GUIDANCE-RULES.md`
//! and the two source texts it is distilled from, `docs/sources/`. The
//! project's master copy lives beside the checkout, in
//! `../shared/domain/`; while that folder is there (a developer's machine,
//! CI), the copies must be the same, byte for byte. A clone without it (a
//! clinic's) skips that comparison and says so.

use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("core/ is inside the workspace").to_path_buf()
}

/// The files that must be in `docs/`, by their path under the shared `domain/` folder.
const FILES: &[&str] = &[
    "GUIDANCE-RULES.md",
    "sources/massage-for-fibromyalgia-pain.txt",
    "sources/relaxing-massage-for-chronic-pain.txt",
];

#[test]
fn the_rules_are_in_the_repository() {
    let docs = workspace_root().join("docs");
    for file in FILES {
        let path = docs.join(file);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(text.len() > 1000, "{} looks truncated", path.display());
    }
    let rules = std::fs::read_to_string(docs.join("GUIDANCE-RULES.md")).unwrap();
    for id in [
        "S1", "S2", "S3", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "R1", "R2", "R3", "R4", "C1", "C2", "C3", "C4",
        "C5", "I1", "I2", "I3",
    ] {
        assert!(rules.contains(&format!("| {id} |")), "rule {id} is missing from docs/GUIDANCE-RULES.md");
    }
    for source in ["massage-for-fibromyalgia-pain.txt", "relaxing-massage-for-chronic-pain.txt"] {
        assert!(rules.contains(source), "the rules cite {source} by name");
    }
}

#[test]
fn the_copy_is_in_step_with_the_shared_rules() {
    let shared = workspace_root().join("..").join("shared").join("domain");
    if !shared.join("GUIDANCE-RULES.md").exists() {
        eprintln!(
            "skipped: {} is not there (a clone outside the project's workplace); docs/ is the only copy",
            shared.display()
        );
        return;
    }
    let docs = workspace_root().join("docs");
    let mut stale = Vec::new();
    for file in FILES {
        let master =
            std::fs::read(shared.join(file)).unwrap_or_else(|e| panic!("{}: {e}", shared.join(file).display()));
        let copy = std::fs::read(docs.join(file)).unwrap_or_default();
        if master != copy {
            stale.push(*file);
        }
    }
    assert!(
        stale.is_empty(),
        "docs/ is out of step with {} for {stale:?}: copy the shared files over (cp {}/<file> docs/<file>) and \
         review what changed in the rules",
        shared.display(),
        shared.display()
    );
}

#[test]
fn every_reference_points_at_the_copy() {
    let root = workspace_root();
    for file in ["README.md", "ARCHITECTURE.md", "plugins/fibromyalgia/README.md", "plugins/arthritis/README.md"] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        assert!(!text.contains("shared/domain"), "{file} points outside the repository");
        assert!(text.contains("docs/GUIDANCE-RULES.md"), "{file} does not point at docs/GUIDANCE-RULES.md");
    }
}
