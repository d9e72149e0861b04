// Embeds everything under templates/ in the binary, so nothing is read from the working
// directory at request time.
fn main() {
    minijinja_embed::embed_templates!("templates");
    // The migrations are embedded by diesel_migrations' macro; a new migration folder must
    // rebuild the crate too.
    println!("cargo:rerun-if-changed=migrations");
    // Likewise a new template file or folder (a new email) must be embedded.
    println!("cargo:rerun-if-changed=templates");
}
