//! The binary's configuration commands.

use std::process::Command;

fn frontdesk(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_frontdesk"));
    cmd.current_dir(dir)
        .env_remove("FRONTDESK_ENV")
        .env_remove("RUST_LOG");
    for (key, _) in std::env::vars() {
        if key.starts_with("FRONTDESK_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

#[test]
fn check_config_prints_settings_with_secrets_masked() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::create_dir(dir.path().join("config")).expect("mkdir");
    std::fs::write(
        dir.path().join("config/default.toml"),
        "[mail]\ntransport = \"smtp\"\nsmtp_url = \"smtps://user:hunter2@mail.example.org:465\"\n",
    )
    .expect("write");

    let out = frontdesk(dir.path())
        .arg("check-config")
        .env(
            "FRONTDESK_PAYMENTS__STRIPE__SECRET_KEY",
            "sk_live_51HqLyjWDarjtT1zdp7dc",
        )
        .output()
        .expect("run");

    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("smtps://user:********@mail.example.org:465"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("hunter2") && !stdout.contains("sk_live_51HqLyjWDarjtT1zdp7dc"),
        "{stdout}"
    );
}

#[test]
fn check_config_names_a_mistyped_key_and_its_file() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("mine.toml");
    std::fs::write(&file, "[mail]\nsmtp_ulr = \"smtp://x\"\n").expect("write");

    let out = frontdesk(dir.path())
        .args(["--config", file.to_str().expect("utf8"), "check-config"])
        .output()
        .expect("run");

    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("mail.smtp_ulr"), "{stderr}");
    assert!(stderr.contains("mine.toml"), "{stderr}");
}

#[test]
fn check_config_names_a_bad_environment_variable() {
    let dir = tempfile::tempdir().expect("dir");

    let out = frontdesk(dir.path())
        .arg("check-config")
        .env("FRONTDESK_DATABASE__POOL_SIZE", "many")
        .output()
        .expect("run");

    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("FRONTDESK_DATABASE__POOL_SIZE"), "{stderr}");
}

#[test]
fn check_config_refuses_an_empty_service_key_naming_it() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::create_dir(dir.path().join("config")).expect("mkdir");
    std::fs::write(
        dir.path().join("config/default.toml"),
        "[security]\nsecret_key = \"\"\n",
    )
    .expect("write");

    let out = frontdesk(dir.path())
        .arg("check-config")
        .output()
        .expect("run");

    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("security.secret_key"), "{stderr}");
}

#[test]
fn check_config_refuses_a_short_stripe_webhook_secret_naming_it() {
    let dir = tempfile::tempdir().expect("dir");

    let out = frontdesk(dir.path())
        .arg("check-config")
        .env("FRONTDESK_PAYMENTS__STRIPE__WEBHOOK_SECRET", "whsec_1")
        .output()
        .expect("run");

    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("payments.stripe.webhook_secret") && !stderr.contains("whsec_1"),
        "{stderr}"
    );
}

#[test]
fn tips_keys_are_made_checked_and_rotated_from_the_command_line() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::create_dir(dir.path().join("config")).expect("mkdir");
    let new_key = |name: &str| {
        let out = frontdesk(dir.path())
            .args(["tips", "new-key"])
            .output()
            .expect("run");
        assert!(out.status.success());
        let key = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(frontdesk::sealed::TipsKey::parse(&key).is_ok(), "{key}");
        std::fs::write(dir.path().join(name), format!("{key}\n")).expect("write");
        key
    };
    let old = new_key("old.key");
    let new = new_key("new.key");
    assert_ne!(old, new);
    std::fs::write(dir.path().join("short.key"), "c2hvcnQ=\n").expect("write");
    let config = |key_file: &str| {
        std::fs::write(
            dir.path().join("config/default.toml"),
            format!(
                "[database]\nurl = \"sqlite://{}\"\n[security]\ntips_key_file = \"{key_file}\"\n",
                dir.path().join("fd.db").display()
            ),
        )
        .expect("write");
    };

    config("short.key");
    let out = frontdesk(dir.path())
        .arg("check-config")
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("security.tips_key_file"), "{stderr}");
    assert!(!stderr.contains("c2hvcnQ"), "{stderr}");

    config("old.key");
    let out = frontdesk(dir.path())
        .arg("check-config")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = frontdesk(dir.path())
        .args(["tips", "rotate-key", "--new-key-file", "old.key"])
        .output()
        .expect("run");
    assert!(!out.status.success(), "rotating to the same key is refused");
    let out = frontdesk(dir.path())
        .args(["tips", "rotate-key", "--new-key-file", "new.key"])
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("0 tips"), "{stdout}");
    assert!(!stdout.contains(&new) && !stdout.contains(&old), "{stdout}");
}
