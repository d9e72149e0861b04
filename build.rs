// Embeds everything under templates/ and locales/ in the binary, so nothing is read from the
// working directory at request time.
use std::fmt::Write as _;
use std::path::Path;

fn main() {
    minijinja_embed::embed_templates!("templates");
    // The migrations are embedded by diesel_migrations' macro; a new migration folder must
    // rebuild the crate too.
    println!("cargo:rerun-if-changed=migrations");
    // Likewise a new template file or folder (a new email) must be embedded.
    println!("cargo:rerun-if-changed=templates");
    embed_locales();
}

/// Writes `$OUT_DIR/locales.rs`: one `(language, file, text)` per `locales/<lang>/<file>.ftl`,
/// so adding a language is adding its folder.
fn embed_locales() {
    println!("cargo:rerun-if-changed=locales");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
    let mut entries = Vec::new();
    if let Ok(langs) = std::fs::read_dir(&root) {
        for lang in langs.flatten() {
            let Ok(files) = std::fs::read_dir(lang.path()) else {
                continue;
            };
            for file in files.flatten() {
                let path = file.path();
                if path.extension().is_some_and(|e| e == "ftl") {
                    println!("cargo:rerun-if-changed={}", path.display());
                    entries.push((
                        lang.file_name().to_string_lossy().into_owned(),
                        file.file_name().to_string_lossy().into_owned(),
                        path.display().to_string(),
                    ));
                }
            }
        }
    }
    entries.sort();
    let mut out = String::from("pub(super) static EMBEDDED: &[(&str, &str, &str)] = &[\n");
    for (lang, file, path) in entries {
        let _ = writeln!(out, "    ({lang:?}, {file:?}, include_str!({path:?})),");
    }
    out.push_str("];\n");
    let Some(dir) = std::env::var_os("OUT_DIR") else {
        panic!("OUT_DIR is not set");
    };
    if let Err(e) = std::fs::write(Path::new(&dir).join("locales.rs"), out) {
        panic!("writing locales.rs: {e}");
    }
}
