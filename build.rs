// Embeds everything under templates/ in the binary, so nothing is read from the working
// directory at request time.
fn main() {
    minijinja_embed::embed_templates!("templates");
}
