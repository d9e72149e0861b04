//! Staff accounts: roles, the validated inputs that create them, the stored rows.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::schema::staff_users;
use crate::domain::EmailAddress;

/// What a staff member may do. `admin` may do everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including staff accounts and the audit log.
    Admin,
    /// Donations, subscribers, newsletters.
    Fundraising,
    /// Feedback, comments, newsletters.
    Editor,
    /// Jobs and applications.
    Hiring,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Fundraising, Role::Editor, Role::Hiring];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Fundraising => "fundraising",
            Role::Editor => "editor",
            Role::Hiring => "hiring",
        }
    }

    /// True when this role may use a route open to `allowed`.
    pub fn permits(self, allowed: &[Role]) -> bool {
        self == Role::Admin || allowed.contains(&self)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| "Choose one of admin, fundraising, editor, hiring.".to_string())
    }
}

/// A staff member's name as shown in the staff area: 1–100 characters, one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(input: &str) -> Result<DisplayName, String> {
        let name = input.trim();
        if name.is_empty() {
            return Err("Enter a name.".into());
        }
        if name.chars().count() > 100 {
            return Err("A name has at most 100 characters.".into());
        }
        if name.chars().any(char::is_control) {
            return Err("A name cannot hold line breaks or control characters.".into());
        }
        Ok(DisplayName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password that meets the policy: 12–128 characters and not easily guessed (common
/// passwords, dictionary words, keyboard patterns and the account's own name or email are
/// refused). Never logged: `Debug` prints a mask.
pub struct NewPassword(String);

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(********)")
    }
}

impl NewPassword {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_CHARS: usize = 128;

    /// `context` holds words the password must not be built from (email, name).
    pub fn parse(input: &str, context: &[&str]) -> Result<NewPassword, String> {
        let chars = input.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(format!("Use at least {} characters.", Self::MIN_CHARS));
        }
        if chars > Self::MAX_CHARS {
            return Err(format!("Use at most {} characters.", Self::MAX_CHARS));
        }
        let entropy = zxcvbn::zxcvbn(input, context);
        if (entropy.score() as u8) < 3 {
            return Err(
                "This password is too common or too easy to guess; try a longer passphrase of unrelated words."
                    .into(),
            );
        }
        Ok(NewPassword(input.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A stored staff account.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = staff_users)]
pub struct StaffUser {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub password_hash: String,
    pub disabled: bool,
    pub failed_logins: i32,
    pub failed_window_start: Option<NaiveDateTime>,
    pub last_failed_at: Option<NaiveDateTime>,
    pub last_login_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl StaffUser {
    /// The stored role; an unknown value (impossible through the CHECK constraint) grants nothing.
    pub fn role(&self) -> Option<Role> {
        self.role.parse().ok()
    }

    /// The account's mailbox, for the emails about its own security.
    pub fn mailbox(&self) -> Result<lettre::message::Mailbox, crate::error::AppError> {
        let address = self.email.parse().map_err(|e| {
            crate::error::AppError::unexpected(anyhow::anyhow!("stored staff address: {e}"))
        })?;
        Ok(lettre::message::Mailbox::new(
            Some(self.display_name.clone()),
            address,
        ))
    }
}

/// A validated new account.
#[derive(Debug)]
pub struct NewStaff {
    pub email: EmailAddress,
    pub name: DisplayName,
    pub role: Role,
    pub password: NewPassword,
}

/// What the staff area and API show of an account.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StaffSummary {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Email)]
    pub email: String,
    pub display_name: String,
    /// `None` only for a stored role this version does not know (the account cannot sign in).
    pub role: Option<Role>,
    pub disabled: bool,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<&StaffUser> for StaffSummary {
    fn from(u: &StaffUser) -> Self {
        StaffSummary {
            id: u.id.clone(),
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            role: u.role(),
            disabled: u.disabled,
            last_login_at: u.last_login_at.map(|t| t.and_utc()),
            created_at: u.created_at.and_utc(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_admin_permits_all() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("owner".parse::<Role>().is_err());
        assert!(Role::Admin.permits(&[Role::Hiring]));
        assert!(Role::Hiring.permits(&[Role::Hiring]));
        assert!(!Role::Editor.permits(&[Role::Hiring, Role::Fundraising]));
    }

    #[test]
    fn password_policy() {
        assert!(NewPassword::parse("short", &[]).is_err());
        assert!(NewPassword::parse(&"a".repeat(129), &[]).is_err());
        assert!(NewPassword::parse("password1234", &[]).is_err(), "common");
        assert!(
            NewPassword::parse("qwertyuiop123", &[]).is_err(),
            "keyboard walk"
        );
        assert!(NewPassword::parse("janedoe@example.org", &["janedoe@example.org"]).is_err());
        assert!(NewPassword::parse("correct horse battery staple kiln", &[]).is_ok());
        assert!(!format!(
            "{:?}",
            NewPassword::parse("correct horse battery staple kiln", &[]).expect("ok")
        )
        .contains("horse"));
    }

    #[test]
    fn display_names() {
        assert_eq!(DisplayName::parse("  Ana  ").expect("ok").as_str(), "Ana");
        assert!(DisplayName::parse("").is_err());
        assert!(DisplayName::parse("Eve\r\nBcc: x").is_err());
    }
}
