//! The shape of src/ (tools/layers.py): imports between modules point one way, no file has more than
//! 450 non-test lines; and the checker itself finds a circle and a long file when there is one.

use std::path::Path;
use std::process::{Command, Output};

/// Runs the checker over `src`; `None` (and says so) where python3 does not run — `.ci/layers` installs it.
fn check(src: &Path) -> Option<Output> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/layers.py");
    match Command::new("python3").arg(script).arg(src).output() {
        Ok(output) => Some(output),
        Err(error) => {
            eprintln!("skipped: python3 does not run ({error}); .ci/layers runs the check");
            None
        }
    }
}

#[test]
fn the_crate_has_no_import_circle_and_no_long_file() {
    let Some(output) = check(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src")) else { return };
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn a_circle_and_a_long_file_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("inner")).unwrap();
    let write = |name: &str, text: &str| std::fs::write(src.join(name), text).unwrap();
    write("lib.rs", "mod a;\nmod b;\nmod inner;\nmod long;\n");
    write("a.rs", "use crate::b::Thing;\npub struct Other;\n");
    write("b.rs", "pub struct Thing;\npub fn f() -> crate::a::Other { crate::a::Other }\n");
    write("inner/mod.rs", "mod low;\npub use low::Low;\n");
    // `super::Low` reaches the parent, which re-exports from the child: a circle too.
    write("inner/low.rs", "pub struct Low;\npub fn g() { let _ = super::Low; }\n");
    let long = "fn x() {}\n".repeat(451) + "#[cfg(test)]\nmod tests {\n" + &"// test\n".repeat(100) + "}\n";
    write("long.rs", &long);
    let Some(output) = check(&src) else { return };
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("import circle in the library between a, b: a → b; b → a"), "{stderr}");
    assert!(stderr.contains("between inner, inner::low"), "{stderr}");
    assert!(stderr.contains("src/long.rs has 451 non-test lines"), "{stderr}");

    // Broken the circles (the child names its own item), and cut the file at the test module.
    write("b.rs", "pub struct Thing;\n");
    write("inner/low.rs", "pub struct Low;\npub fn g() { let _ = self::Low; }\n");
    write("long.rs", &long.replacen("fn x() {}\n", "", 1));
    let output = check(&src).unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}
