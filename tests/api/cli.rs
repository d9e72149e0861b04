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
