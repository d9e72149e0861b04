//! A short description of a browser from its `User-Agent` ("Chrome on Linux"), for the list of
//! signed-in browsers and the new-browser email.
//!
//! Deliberately small: a staff member needs to tell "my laptop's Firefox" from "an iPhone I do
//! not own", not a version number. The description is always made of the fixed names below,
//! never of the header's own text, so a forged `User-Agent` cannot put words on a staff page or
//! in an email. A full parser (uap-core's regexes) would cost a regex set and its build time for
//! detail nobody here reads.

/// `"<browser> on <system>"`, with "Unknown browser" / "an unknown system" for what is not
/// recognised.
pub fn describe(user_agent: Option<&str>) -> String {
    let ua = user_agent.unwrap_or_default();
    format!("{} on {}", browser(ua), system(ua))
}

/// The browser's name. Order matters: Edge, Opera and Samsung Internet also say "Chrome", and
/// Chrome also says "Safari".
fn browser(ua: &str) -> &'static str {
    const BROWSERS: &[(&str, &str)] = &[
        ("Edg/", "Edge"),
        ("EdgA/", "Edge"),
        ("EdgiOS/", "Edge"),
        ("OPR/", "Opera"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("Vivaldi/", "Vivaldi"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
        ("Wget/", "Wget"),
    ];
    BROWSERS
        .iter()
        .find(|(marker, _)| ua.contains(marker))
        .map_or("Unknown browser", |(_, name)| name)
}

/// The operating system's name. Android and ChromeOS say "Linux"; iOS says "like Mac OS X".
fn system(ua: &str) -> &'static str {
    const SYSTEMS: &[(&str, &str)] = &[
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("CrOS", "ChromeOS"),
        ("Windows", "Windows"),
        ("Macintosh", "macOS"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
        ("FreeBSD", "FreeBSD"),
        ("OpenBSD", "OpenBSD"),
    ];
    SYSTEMS
        .iter()
        .find(|(marker, _)| ua.contains(marker))
        .map_or("an unknown system", |(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn common_browsers_are_named_with_their_system() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                "Chrome on Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
                "Safari on macOS",
            ),
            (
                "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
                "Firefox on Linux",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
                "Safari on iOS",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
                "Chrome on iOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
                "Samsung Internet on Android",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0",
                "Opera on Windows",
            ),
            (
                "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                "Chrome on ChromeOS",
            ),
            (
                "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/133.0 Mobile/15E148 Safari/605.1.15",
                "Firefox on iPadOS",
            ),
            ("curl/8.5.0", "curl on an unknown system"),
        ];
        for (ua, expected) in cases {
            assert_eq!(describe(Some(ua)), expected, "{ua}");
        }
    }

    #[test]
    fn unknown_or_missing_agents_are_said_to_be_unknown() {
        assert_eq!(describe(None), "Unknown browser on an unknown system");
        assert_eq!(describe(Some("")), "Unknown browser on an unknown system");
        assert_eq!(
            describe(Some("reqwest/0.12")),
            "Unknown browser on an unknown system"
        );
    }

    #[test]
    fn a_forged_agent_never_reaches_the_description() {
        let forged = "<script>alert(1)</script> Firefox/1 (Windows) Call +1 555 0100";
        let described = describe(Some(forged));
        assert_eq!(described, "Firefox on Windows");
        assert!(!described.contains('<') && !described.contains("555"));
    }
}
