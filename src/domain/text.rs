//! Cleaned text: what every feature does to free text a person typed before keeping it.
//! One rule for every form (trim, browsers' CR LF to LF, no control characters but line
//! breaks and tabs, a length in characters); each feature words the refusal in its own
//! voice, because the message is part of that feature's form copy.

use std::fmt;

/// Whether a field is one line (a name, a title) or may hold line breaks (a message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// No control characters at all, so the value is safe in a header or a subject.
    One,
    /// Line breaks (`\n`, after CR LF is turned into LF) and tabs allowed.
    Many,
}

/// Why [`clean_text`] refused a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextError {
    /// A control character (for [`Lines::One`], a line break or tab too; a lone `\r` always).
    Control(Lines),
    /// More than `max_chars` characters as sent.
    TooLong { max_chars: usize },
}

/// Trims `input`, turns CR LF into LF, refuses control characters (other than `\n` and
/// `\t` when `lines` is [`Lines::Many`]) and values longer than `max_chars` characters as
/// sent.
/// An empty result is allowed: whether a field is required is the caller's rule.
pub fn clean_text(input: &str, lines: Lines, max_chars: usize) -> Result<String, TextError> {
    let trimmed = input.trim();
    let text = trimmed.replace("\r\n", "\n");
    let refused = |c: char| c.is_control() && (lines == Lines::One || (c != '\n' && c != '\t'));
    if text.chars().any(refused) {
        return Err(TextError::Control(lines));
    }
    // Counted as sent, spaces around it and CR LF (two) included, as the API document's
    // `maxLength` counts.
    if input.chars().count() > max_chars {
        return Err(TextError::TooLong { max_chars });
    }
    Ok(text)
}

/// The OpenAPI schema of a field [`clean_text`] reads with these `lines` and `max_chars`:
/// no control characters (for [`Lines::Many`], line breaks as LF or CR LF, and tabs), at most
/// `max_chars` characters; `required` fields hold something besides spaces. Fields use it
/// through a function of their own (`#[schema(schema_with = …)]`) that names the feature's
/// constant, so the document and the check share one number.
pub fn schema(lines: Lines, max_chars: usize, required: bool) -> utoipa::openapi::Object {
    // The characters `clean_text` refuses anywhere (C0 and C1 controls), less `\n` and `\t`
    // for many lines; a CR only as part of CR LF.
    let (allowed, visible) = match lines {
        Lines::One => (r"[^\x00-\x1F\x7F-\x9F]", r"[^\s\x00-\x1F\x7F-\x9F]"),
        Lines::Many => (
            r"(?:[^\x00-\x08\x0B-\x1F\x7F-\x9F]|\r\n)",
            r"[^\s\x00-\x1F\x7F-\x9F]",
        ),
    };
    let pattern = if required {
        format!("^{allowed}*{visible}{allowed}*$")
    } else {
        format!("^{allowed}*$")
    };
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .min_length(required.then_some(1))
        .max_length(Some(max_chars))
        .pattern(Some(pattern))
        .build()
}

/// The house wording, for features without their own.
impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextError::Control(Lines::One) => {
                f.write_str("Must be a single line without control characters.")
            }
            TextError::Control(Lines::Many) => {
                f.write_str("Control characters other than line breaks and tabs are not allowed.")
            }
            TextError::TooLong { max_chars } => {
                write!(f, "Must be at most {max_chars} characters.")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_turns_crlf_into_lf() {
        assert_eq!(
            clean_text("  Dear editor,\r\nhello\tthere \n", Lines::Many, 100).as_deref(),
            Ok("Dear editor,\nhello\tthere")
        );
        assert_eq!(clean_text("   ", Lines::One, 10).as_deref(), Ok(""));
    }

    #[test]
    fn refuses_control_characters() {
        for bad in ["a\u{7}b", "a\rb", "a\u{1b}[31m"] {
            assert_eq!(
                clean_text(bad, Lines::Many, 100),
                Err(TextError::Control(Lines::Many)),
                "{bad:?}"
            );
        }
        for bad in ["a\nb", "a\r\nb", "a\tb"] {
            assert_eq!(
                clean_text(bad, Lines::One, 100),
                Err(TextError::Control(Lines::One)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn counts_characters_not_bytes() {
        assert!(clean_text(&"é".repeat(5), Lines::One, 5).is_ok());
        assert_eq!(
            clean_text(&"é".repeat(6), Lines::One, 5),
            Err(TextError::TooLong { max_chars: 5 })
        );
    }

    #[test]
    fn counts_the_value_as_sent_like_the_documents_max_length() {
        // Spaces around the text are trimmed from the value but count towards the limit,
        // as a client reading `maxLength` counts them.
        assert_eq!(
            clean_text("\r\n  abc  \r\n", Lines::Many, 5),
            Err(TextError::TooLong { max_chars: 5 })
        );
        assert_eq!(clean_text(" abc ", Lines::One, 5), Ok("abc".into()));
    }
}
