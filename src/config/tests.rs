use super::*;

fn sources(dir: &Path) -> Sources {
    Sources {
        dir: dir.to_path_buf(),
        env: "test".into(),
        extra_file: None,
        use_env_vars: false,
    }
}

#[test]
fn defaults_load_without_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Settings::load(&sources(dir.path())).expect("defaults are valid");
    assert_eq!(s, Settings::default());
}

#[test]
fn unknown_key_names_key_and_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("default.toml"),
        "[mail]\nsmtp_ulr = \"x\"\n",
    )
    .expect("write");
    let err = Settings::load(&sources(dir.path())).expect_err("unknown key");
    let msg = err.to_string();
    assert!(msg.contains("mail.smtp_ulr"), "{msg}");
    assert!(msg.contains("default.toml"), "{msg}");
}

#[test]
fn wrong_type_names_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("test.toml"),
        "[database]\npool_size = \"many\"\n",
    )
    .expect("write");
    let msg = Settings::load(&sources(dir.path()))
        .expect_err("wrong type")
        .to_string();
    assert!(msg.contains("database.pool_size"), "{msg}");
    assert!(msg.contains("test.toml"), "{msg}");
}

#[test]
fn time_zone_must_be_an_iana_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("default.toml"),
        "[site]\ntimezone = \"Mars/Olympus\"\n",
    )
    .expect("write");
    let err = format!(
        "{:#}",
        Settings::load(&sources(dir.path())).expect_err("invalid")
    );
    assert!(err.contains("site.timezone"), "{err}");
    std::fs::write(
        dir.path().join("default.toml"),
        "[site]\ntimezone = \"America/Bogota\"\n",
    )
    .expect("write");
    let s = Settings::load(&sources(dir.path())).expect("valid");
    assert_eq!(s.site.tz(), chrono_tz::America::Bogota);
}

#[test]
fn later_files_win() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("default.toml"), "[site]\nname = \"A\"\n").expect("write");
    std::fs::write(dir.path().join("test.toml"), "[site]\nname = \"B\"\n").expect("write");
    let s = Settings::load(&sources(dir.path())).expect("valid");
    assert_eq!(s.site.name, "B");
}

#[test]
fn secrets_are_masked() {
    let s = Secret::new("smtps://user:hunter2@mail.example.org:465");
    assert_eq!(s.masked(), "smtps://user:********@mail.example.org:465");
    assert!(!format!("{s:?}").contains("hunter2"));
    assert_eq!(Secret::new("sk_live_abc").masked(), "********");
    let mut settings = Settings::default();
    settings.payments.stripe.secret_key = Some(Secret::new("sk_live_abc"));
    assert!(!settings.to_masked_toml().contains("sk_live_abc"));
}

#[test]
fn presets_must_fit_the_currency_bounds() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("default.toml"),
        "[donations.presets.USD]\none_time = [50, 2500]\nmonthly = []\n\
         [donations.presets.EUR]\none_time = [1000]\nmonthly = [500]\n",
    )
    .expect("write");
    let msg = Settings::load(&sources(dir.path()))
        .expect_err("invalid")
        .to_string();
    assert!(
        msg.contains("donations.presets.USD.one_time: 50 is outside"),
        "{msg}"
    );
    assert!(msg.contains("donations.presets.EUR: not one of"), "{msg}");
}

#[test]
fn retention_periods_must_be_positive() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("default.toml"),
        "[retention]\nspam_comment_days = 0\n",
    )
    .expect("write");
    let msg = Settings::load(&sources(dir.path()))
        .expect_err("invalid")
        .to_string();
    assert!(msg.contains("retention.spam_comment_days"), "{msg}");
}

#[test]
fn blank_or_short_secrets_are_refused_by_name() {
    let mut s = Settings::default();
    s.security.secret_key = Some(Secret::new(""));
    s.payments.stripe.secret_key = Some(Secret::new("sk_test_4eC39H"));
    s.payments.stripe.webhook_secret = Some(Secret::new(""));
    s.newsletter.webhook_secret = Some(Secret::new("   "));
    s.newsletter.mailgun_signing_key = Some(Secret::new("key-123"));

    let problems = s.validate().expect_err("invalid");

    for key in [
        "security.secret_key",
        "payments.stripe.secret_key",
        "payments.stripe.webhook_secret",
        "newsletter.webhook_secret",
        "newsletter.mailgun_signing_key",
    ] {
        assert!(
            problems.iter().any(|p| p.starts_with(&format!("{key}: "))),
            "{key}: {problems:?}"
        );
    }
    assert!(
        problems
            .iter()
            .all(|p| !p.contains("sk_test_4eC39H") && !p.contains("key-123")),
        "values are never shown: {problems:?}"
    );
}

#[test]
fn the_service_key_needs_32_bytes_and_provider_secrets_16() {
    let mut s = Settings::default();
    s.security.secret_key = Some(Secret::new("k".repeat(31)));
    s.payments.stripe.webhook_secret = Some(Secret::new("w".repeat(15)));
    let problems = s.validate().expect_err("short");
    assert_eq!(
        problems,
        [
            "security.secret_key: too short; use at least 32 bytes",
            "payments.stripe.webhook_secret: too short; use at least 16 bytes",
        ]
    );

    s.security.secret_key = Some(Secret::new("k".repeat(32)));
    s.payments.stripe.webhook_secret = Some(Secret::new("whsec_0123456789"));
    assert_eq!(s.validate(), Ok(()));
}

#[test]
fn an_empty_secret_key_in_a_file_stops_loading() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("default.toml"),
        "[security]\nsecret_key = \"\"\n",
    )
    .expect("write");
    let msg = Settings::load(&sources(dir.path()))
        .expect_err("invalid")
        .to_string();
    assert!(
        msg.contains("security.secret_key: must not be empty"),
        "{msg}"
    );
}

#[test]
fn smtp_transport_needs_url() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("default.toml"),
        "[mail]\ntransport = \"smtp\"\n",
    )
    .expect("write");
    let msg = Settings::load(&sources(dir.path()))
        .expect_err("invalid")
        .to_string();
    assert!(msg.contains("mail.smtp_url"), "{msg}");
}

#[test]
fn a_tips_key_must_be_readable_and_32_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let load = |security: &str| {
        std::fs::write(dir.path().join("default.toml"), security).expect("write");
        Settings::load(&sources(dir.path()))
    };
    let missing = dir.path().join("missing.key");
    let msg = load(&format!(
        "[security]\ntips_key_file = {:?}\n",
        missing.display().to_string()
    ))
    .expect_err("unreadable")
    .to_string();
    assert!(msg.contains("security.tips_key_file"), "{msg}");
    let short = dir.path().join("short.key");
    std::fs::write(&short, "c2hvcnQ=\n").expect("write");
    let msg = load(&format!(
        "[security]\ntips_key_file = {:?}\n",
        short.display().to_string()
    ))
    .expect_err("short")
    .to_string();
    assert!(msg.contains("32 bytes"), "{msg}");
    assert!(!msg.contains("c2hvcnQ"), "the key is never printed: {msg}");
    let good = dir.path().join("good.key");
    std::fs::write(&good, format!("{}\n", crate::sealed::TipsKey::generate().1)).expect("write");
    let settings = load(&format!(
        "[security]\ntips_key_file = {:?}\n",
        good.display().to_string()
    ))
    .expect("a good key");
    assert!(settings.security.load_tips_key().expect("key").is_some());
    let both = format!(
        "[security]\ntips_key_file = {:?}\ntips_key = \"{}\"\n",
        good.display().to_string(),
        crate::sealed::TipsKey::generate().1
    );
    let msg = load(&both).expect_err("both").to_string();
    assert!(msg.contains("not both"), "{msg}");
    let msg = load("[security]\ntips_key = \"not a key\"\n")
        .expect_err("bad")
        .to_string();
    assert!(msg.contains("security.tips_key:"), "{msg}");
    assert!(!msg.contains("not a key"), "{msg}");
    assert!(Settings::default()
        .security
        .load_tips_key()
        .expect("off")
        .is_none());
}
