//! What a CV file really is, judged by its content and never by its name or declared type.
//!
//! - PDF: starts with `%PDF-`.
//! - DOCX: a zip holding `[Content_Types].xml` and `word/document.xml` (no macros).
//! - ODT: a zip whose first entry is an uncompressed `mimetype` reading
//!   `application/vnd.oasis.opendocument.text`, with a `content.xml`.
//!
//! A zip is opened with caps on its entry count and on its total uncompressed size, counted
//! while actually inflating (declared sizes can lie), so a zip bomb is refused after a bounded
//! amount of work.

use std::fs::File;
use std::io::{self, Read, Seek};
use std::path::Path;

/// At most this many entries in a DOCX/ODT.
pub const MAX_ZIP_ENTRIES: usize = 2_000;
/// At most this many bytes once every entry is inflated (64 MiB).
pub const MAX_UNPACKED_BYTES: u64 = 64 * 1024 * 1024;

const ODT_MIMETYPE: &[u8] = b"application/vnd.oasis.opendocument.text";

/// A recognised CV format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CvKind {
    Pdf,
    Docx,
    Odt,
}

impl CvKind {
    pub fn content_type(self) -> &'static str {
        match self {
            CvKind::Pdf => "application/pdf",
            CvKind::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            CvKind::Odt => "application/vnd.oasis.opendocument.text",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            CvKind::Pdf => "pdf",
            CvKind::Docx => "docx",
            CvKind::Odt => "odt",
        }
    }
}

/// Why a file is not accepted as a CV (the message is shown to the applicant).
#[derive(Debug, thiserror::Error)]
pub enum CvRejection {
    #[error("The file is empty.")]
    Empty,
    #[error("Upload your CV as a PDF, Word (.docx) or OpenDocument (.odt) file.")]
    UnknownType,
    #[error("The file looks like a Word or OpenDocument file but is damaged: {0}.")]
    Damaged(String),
    #[error("The document is too large once unpacked.")]
    TooLargeUnpacked,
    #[error("The document holds too many parts.")]
    TooManyEntries,
    #[error("Documents with macros or encryption are not accepted.")]
    Unsafe,
    #[error("the file could not be read")]
    Io(#[from] io::Error),
}

/// Recognises the CV stored at `path` (blocking: run it off the async runtime).
pub fn inspect(path: &Path) -> Result<CvKind, CvRejection> {
    let mut file = File::open(path)?;
    let mut head = [0u8; 5];
    let read = read_up_to(&mut file, &mut head)?;
    if read == 0 {
        return Err(CvRejection::Empty);
    }
    if head[..read].starts_with(b"%PDF-") {
        return Ok(CvKind::Pdf);
    }
    if head[..read].starts_with(b"PK\x03\x04") {
        file.rewind()?;
        return inspect_zip(file);
    }
    Err(CvRejection::UnknownType)
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

fn damaged(e: impl std::fmt::Display) -> CvRejection {
    CvRejection::Damaged(e.to_string())
}

fn inspect_zip<R: Read + Seek>(reader: R) -> Result<CvKind, CvRejection> {
    let mut archive = zip::ZipArchive::new(reader).map_err(damaged)?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(CvRejection::TooManyEntries);
    }
    // Declared sizes first: a cheap refusal for honest bombs.
    let mut declared: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(damaged)?;
        if entry.encrypted() || entry.name().ends_with("vbaProject.bin") {
            return Err(CvRejection::Unsafe);
        }
        declared = declared.saturating_add(entry.size());
    }
    if declared > MAX_UNPACKED_BYTES {
        return Err(CvRejection::TooLargeUnpacked);
    }
    // Then the real sizes, inflating each entry into a counter that stops at the cap.
    let mut budget = MAX_UNPACKED_BYTES;
    for i in 0..archive.len() {
        let entry = archive.by_index(i).map_err(damaged)?;
        let inflated = io::copy(&mut entry.take(budget + 1), &mut io::sink()).map_err(damaged)?;
        if inflated > budget {
            return Err(CvRejection::TooLargeUnpacked);
        }
        budget -= inflated;
    }
    let has = |name: &str| archive.index_for_name(name).is_some();
    if has("[Content_Types].xml") && has("word/document.xml") {
        return Ok(CvKind::Docx);
    }
    let has_content = has("content.xml");
    let first_is_mimetype = {
        let first = archive.by_index_raw(0).map_err(damaged)?;
        first.name() == "mimetype"
            && first.compression() == zip::CompressionMethod::Stored
            && first.size() == ODT_MIMETYPE.len() as u64
    };
    if first_is_mimetype && has_content {
        let mut mimetype = Vec::with_capacity(ODT_MIMETYPE.len());
        archive
            .by_index(0)
            .map_err(damaged)?
            .read_to_end(&mut mimetype)
            .map_err(damaged)?;
        if mimetype == ODT_MIMETYPE {
            return Ok(CvKind::Odt);
        }
    }
    Err(CvRejection::UnknownType)
}

/// The name a CV is offered under when downloaded: the applicant's base name, cleaned of
/// paths and control characters, with the extension of the type it really is.
pub fn download_name(original: Option<&str>, kind: CvKind) -> String {
    let base = original
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    let stem = match base.rsplit_once('.') {
        Some((stem, _)) => stem,
        None => base,
    };
    let cleaned: String = stem
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '/' | '\\'))
        .take(120)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.');
    let stem = if cleaned.is_empty() { "cv" } else { cleaned };
    format!("{stem}.{}", kind.extension())
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Write};

    use zip::write::SimpleFileOptions;
    use zip::CompressionMethod;

    use super::*;

    fn zip_of(entries: &[(&str, &[u8], CompressionMethod)]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut out);
            for (name, data, method) in entries {
                w.start_file(
                    *name,
                    SimpleFileOptions::default().compression_method(*method),
                )
                .expect("start");
                w.write_all(data).expect("write");
            }
            w.finish().expect("finish");
        }
        out.into_inner()
    }

    fn check(bytes: &[u8]) -> Result<CvKind, CvRejection> {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("f");
        std::fs::write(&path, bytes).expect("write");
        inspect(&path)
    }

    #[test]
    fn recognises_pdf_docx_and_odt() {
        assert_eq!(check(b"%PDF-1.7\n...").ok(), Some(CvKind::Pdf));
        let docx = zip_of(&[
            (
                "[Content_Types].xml",
                b"<Types/>",
                CompressionMethod::Deflated,
            ),
            (
                "word/document.xml",
                b"<w:document/>",
                CompressionMethod::Deflated,
            ),
        ]);
        assert_eq!(check(&docx).ok(), Some(CvKind::Docx));
        let odt = zip_of(&[
            ("mimetype", ODT_MIMETYPE, CompressionMethod::Stored),
            (
                "content.xml",
                b"<office:document-content/>",
                CompressionMethod::Deflated,
            ),
        ]);
        assert_eq!(check(&odt).ok(), Some(CvKind::Odt));
    }

    #[test]
    fn refuses_what_is_not_a_document() {
        assert!(matches!(check(b""), Err(CvRejection::Empty)));
        for bytes in [
            &b"\x7fELF\x02\x01\x01"[..],
            b"MZ\x90\x00\x03",
            b"<!doctype html><script>alert(1)</script>",
            b"%PD",
        ] {
            assert!(
                matches!(check(bytes), Err(CvRejection::UnknownType)),
                "{bytes:?}"
            );
        }
        // A zip that is neither: a plain archive, and an ODT whose mimetype is compressed.
        let plain = zip_of(&[("notes.txt", b"hello", CompressionMethod::Deflated)]);
        assert!(matches!(check(&plain), Err(CvRejection::UnknownType)));
        let odt_wrong = zip_of(&[
            ("mimetype", ODT_MIMETYPE, CompressionMethod::Deflated),
            ("content.xml", b"<x/>", CompressionMethod::Deflated),
        ]);
        assert!(matches!(check(&odt_wrong), Err(CvRejection::UnknownType)));
        assert!(matches!(
            check(b"PK\x03\x04garbage"),
            Err(CvRejection::Damaged(_))
        ));
    }

    #[test]
    fn refuses_zip_bombs_and_macros() {
        let zeros = vec![0u8; (MAX_UNPACKED_BYTES as usize) + 1];
        let bomb = zip_of(&[
            (
                "[Content_Types].xml",
                b"<Types/>",
                CompressionMethod::Deflated,
            ),
            ("word/document.xml", &zeros, CompressionMethod::Deflated),
        ]);
        assert!(
            bomb.len() < 1024 * 1024,
            "the bomb is small: {}",
            bomb.len()
        );
        assert!(matches!(check(&bomb), Err(CvRejection::TooLargeUnpacked)));

        let macros = zip_of(&[
            (
                "[Content_Types].xml",
                b"<Types/>",
                CompressionMethod::Deflated,
            ),
            (
                "word/document.xml",
                b"<w:document/>",
                CompressionMethod::Deflated,
            ),
            ("word/vbaProject.bin", b"\x00", CompressionMethod::Deflated),
        ]);
        assert!(matches!(check(&macros), Err(CvRejection::Unsafe)));
    }

    /// Rewrites every declared uncompressed size of a one-entry zip to `size`.
    fn lie_about_size(mut zip: Vec<u8>, size: u32) -> Vec<u8> {
        let find = |zip: &[u8], sig: &[u8]| {
            zip.windows(4)
                .position(|w| w == sig)
                .expect("header signature")
        };
        let local = find(&zip, b"PK\x03\x04");
        zip[local + 22..local + 26].copy_from_slice(&size.to_le_bytes());
        let central = find(&zip, b"PK\x01\x02");
        zip[central + 24..central + 28].copy_from_slice(&size.to_le_bytes());
        zip
    }

    #[test]
    fn refuses_a_bomb_that_declares_a_small_size() {
        let zeros = vec![0u8; (MAX_UNPACKED_BYTES as usize) + 1024];
        let honest = zip_of(&[("word/document.xml", &zeros, CompressionMethod::Deflated)]);
        let liar = lie_about_size(honest, 10);

        let result = check(&liar);

        assert!(
            matches!(result, Err(CvRejection::TooLargeUnpacked)),
            "{result:?}"
        );
    }

    #[test]
    fn download_names_keep_the_stem_and_fix_the_extension() {
        assert_eq!(
            download_name(Some("Jane CV.pdf"), CvKind::Pdf),
            "Jane CV.pdf"
        );
        assert_eq!(download_name(Some("cv.docx"), CvKind::Pdf), "cv.pdf");
        assert_eq!(
            download_name(Some("../../etc/passwd"), CvKind::Odt),
            "passwd.odt"
        );
        assert_eq!(
            download_name(Some("C:\\a\\b\"\n.pdf"), CvKind::Pdf),
            "b.pdf"
        );
        assert_eq!(download_name(None, CvKind::Docx), "cv.docx");
        assert_eq!(download_name(Some(".pdf"), CvKind::Pdf), "cv.pdf");
    }
}
