//! The one place that turns a stored code (`one_time`, `needs_improvement`, `in_progress`) into
//! the words staff read ("One-time", "Needs improvement", "In progress"). Templates say
//! `{{ d.frequency|label }}`; a code this table does not name is shown with its underscores
//! as spaces and a capital first letter, so no page ever shows a raw code. The test below
//! checks that every stored enum's codes read well.

/// The label of a stored code.
pub fn label(code: &str) -> String {
    if let Some(fixed) = fixed(code) {
        return fixed.to_string();
    }
    humanize(code)
}

/// Codes whose label is not just the code with spaces.
fn fixed(code: &str) -> Option<&'static str> {
    Some(match code {
        "one_time" => "One-time",
        "on_site" => "On site",
        "full_time" => "Full-time",
        "part_time" => "Part-time",
        "per_diem" => "Per diem",
        "yes_no" => "Yes or no",
        "needs_improvement" => "Needs improvement",
        "most_helpful" => "Most helpful",
        "bank_transfer" => "Bank transfer",
        "admin" => "Administrator",
        "fundraising" => "Fundraising",
        "editor" => "Editor",
        "hiring" => "Hiring",
        "queued" => "Queued",
        _ => return None,
    })
}

/// A size in bytes as people read it: "512 bytes", "1.5 KB", "12.0 MB" (powers of 1,000).
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if n < 1_000 {
        return format!("{n} bytes");
    }
    let mut value = n as f64 / 1_000.0;
    let mut unit = 0;
    while value >= 1_000.0 && unit + 1 < UNITS.len() {
        value /= 1_000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

fn humanize(code: &str) -> String {
    let spaced = code.replace(['_', '-'], " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes() -> Vec<&'static str> {
        let mut all: Vec<&'static str> = Vec::new();
        all.extend(crate::jobs::model::PostingStatus::ALL.map(|v| v.as_str()));
        all.extend(crate::jobs::model::Workplace::ALL.map(|v| v.as_str()));
        all.extend(crate::jobs::model::EmploymentType::ALL.map(|v| v.as_str()));
        all.extend(crate::jobs::model::SalaryPeriod::ALL.map(|v| v.as_str()));
        all.extend(crate::jobs::model::QuestionKind::ALL.map(|v| v.as_str()));
        all.extend(crate::jobs::model::Stage::ALL.map(|v| v.as_str()));
        all.extend(crate::donations::model::Frequency::ALL.map(|v| v.as_str()));
        all.extend(crate::donations::model::Status::ALL.map(|v| v.as_str()));
        all.extend(crate::donations::model::PaymentMethod::ALL.map(|v| v.as_str()));
        all.extend(crate::newsletter::model::SubscriberStatus::ALL.map(|v| v.as_str()));
        all.extend(crate::newsletter::model::IssueStatus::ALL.map(|v| v.as_str()));
        all.extend(crate::staff::model::Role::ALL.map(|v| v.as_str()));
        all
    }

    #[test]
    fn every_stored_code_has_a_readable_label() {
        for code in codes() {
            let l = label(code);
            assert!(!l.contains('_'), "{code} -> {l}");
            assert!(l.starts_with(|c: char| c.is_uppercase()), "{code} -> {l}");
        }
        assert_eq!(label("one_time"), "One-time");
        assert_eq!(label("needs_improvement"), "Needs improvement");
        assert_eq!(label("in_progress"), "In progress");
        assert_eq!(label(""), "");
    }

    #[test]
    fn sizes_read_in_the_largest_unit() {
        assert_eq!(bytes(0), "0 bytes");
        assert_eq!(bytes(1_500), "1.5 KB");
        assert_eq!(bytes(12_000_000), "12.0 MB");
    }
}
