//! Rebuilds the binary when the web console's build output changes: the console is embedded
//! (rust-embed) and its file list is read when `nexuslog` compiles.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    for dir in ["../web/dist", "../web"] {
        if std::path::Path::new(dir).exists() {
            // A directory is scanned for any change below it.
            println!("cargo:rerun-if-changed={dir}");
            return;
        }
    }
}
