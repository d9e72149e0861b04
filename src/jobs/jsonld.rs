//! The schema.org `JobPosting` block search engines read from a posting's page, and the
//! money formatting it and the page share.

use serde_json::{json, Map, Number, Value};

use super::model::{Posting, Salary, Workplace};

/// Digits after the decimal point of a currency's major unit (ISO 4217 exponent).
fn exponent(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// An amount in minor units as a decimal string of major units: `5000050` USD → `50000.50`,
/// `5000000` → `50000`.
pub fn major_units(minor: i64, currency: &str) -> String {
    let exp = exponent(currency);
    let scale = 10i64.pow(exp);
    let (whole, frac) = (minor / scale, (minor % scale).abs());
    if frac == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{frac:0width$}", width = exp as usize)
    }
}

fn number(minor: i64, currency: &str) -> Value {
    major_units(minor, currency)
        .parse::<Number>()
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

fn base_salary(salary: &Salary) -> Value {
    let mut value = Map::new();
    value.insert("@type".into(), json!("QuantitativeValue"));
    value.insert(
        "unitText".into(),
        json!(salary.period.as_str().to_ascii_uppercase()),
    );
    match (salary.min_minor, salary.max_minor) {
        (Some(min), Some(max)) if min == max => {
            value.insert("value".into(), number(min, &salary.currency));
        }
        (min, max) => {
            if let Some(min) = min {
                value.insert("minValue".into(), number(min, &salary.currency));
            }
            if let Some(max) = max {
                value.insert("maxValue".into(), number(max, &salary.currency));
            }
        }
    }
    json!({
        "@type": "MonetaryAmount",
        "currency": salary.currency,
        "value": value,
    })
}

/// The `JobPosting` object for a posting published on `public_url` by `organisation`.
pub fn job_posting(posting: &Posting, organisation: &str, public_url: &str) -> Value {
    let public_url = public_url.trim_end_matches('/');
    let mut address = Map::new();
    address.insert("@type".into(), json!("PostalAddress"));
    address.insert("addressLocality".into(), json!(posting.location));
    if let Some(country) = &posting.country {
        address.insert("addressCountry".into(), json!(country));
    }
    let mut doc = Map::new();
    doc.insert("@context".into(), json!("https://schema.org/"));
    doc.insert("@type".into(), json!("JobPosting"));
    doc.insert("title".into(), json!(posting.title));
    doc.insert("description".into(), json!(posting.description_html));
    doc.insert(
        "datePosted".into(),
        json!(posting.date_posted().and_utc().date_naive().to_string()),
    );
    if let Some(closes) = posting.closes_at {
        doc.insert(
            "validThrough".into(),
            json!(closes
                .and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        );
    }
    doc.insert(
        "employmentType".into(),
        json!(posting.employment_type.schema_org()),
    );
    doc.insert(
        "hiringOrganization".into(),
        json!({"@type": "Organization", "name": organisation, "sameAs": public_url}),
    );
    doc.insert(
        "jobLocation".into(),
        json!({"@type": "Place", "address": address}),
    );
    if posting.remote == Workplace::Remote {
        doc.insert("jobLocationType".into(), json!("TELECOMMUTE"));
        if let Some(country) = &posting.country {
            doc.insert(
                "applicantLocationRequirements".into(),
                json!({"@type": "Country", "name": country}),
            );
        }
    }
    if let Some(salary) = &posting.salary {
        doc.insert("baseSalary".into(), base_salary(salary));
    }
    doc.insert(
        "identifier".into(),
        json!({"@type": "PropertyValue", "name": organisation, "value": posting.id}),
    );
    doc.insert(
        "url".into(),
        json!(format!("{public_url}/jobs/{}", posting.slug)),
    );
    doc.insert("directApply".into(), json!(true));
    Value::Object(doc)
}

/// JSON that is safe between `<script type="application/ld+json">` and `</script>`: `<`, `>`
/// and `&` are written as `\u003c`, `\u003e`, `\u0026` (still the same JSON), so no
/// `</script>` or `<!--` in a title or description can end the block.
pub fn script_safe(value: &Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::model::{EmploymentType, PostingStatus, SalaryPeriod};

    fn posting() -> Posting {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 2)
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .expect("date");
        Posting {
            id: "p1".into(),
            slug: "data-reporter".into(),
            title: "Data reporter </script><script>alert(1)</script>".into(),
            summary: String::new(),
            description_markdown: String::new(),
            description_html: "<p>Numbers &amp; stories</p>".into(),
            location: "Bogotá".into(),
            country: Some("CO".into()),
            remote: Workplace::Remote,
            employment_type: EmploymentType::PartTime,
            salary: Some(Salary {
                currency: "USD".into(),
                min_minor: Some(5_000_000),
                max_minor: Some(6_000_050),
                period: SalaryPeriod::Year,
            }),
            status: PostingStatus::Open,
            opens_at: None,
            closes_at: Some(at + chrono::TimeDelta::days(30)),
            published_at: Some(at),
            closed_at: None,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn carries_what_search_engines_need() {
        let doc = job_posting(&posting(), "Newsroom", "https://news.example.org/");
        assert_eq!(doc["@type"], "JobPosting");
        assert_eq!(doc["datePosted"], "2026-11-02");
        assert_eq!(doc["validThrough"], "2026-12-02T09:00:00Z");
        assert_eq!(doc["employmentType"], "PART_TIME");
        assert_eq!(doc["hiringOrganization"]["name"], "Newsroom");
        assert_eq!(doc["jobLocation"]["address"]["addressCountry"], "CO");
        assert_eq!(doc["jobLocationType"], "TELECOMMUTE");
        assert_eq!(doc["baseSalary"]["value"]["minValue"], 50000);
        assert_eq!(doc["baseSalary"]["value"]["maxValue"], 60000.5);
        assert_eq!(doc["url"], "https://news.example.org/jobs/data-reporter");
    }

    #[test]
    fn script_block_cannot_be_closed_from_inside() {
        let doc = job_posting(&posting(), "Newsroom", "https://news.example.org");
        let text = script_safe(&doc);
        assert!(!text.contains('<') && !text.contains('>') && !text.contains('&'));
        let back: Value = serde_json::from_str(&text).expect("still JSON");
        assert_eq!(back, doc);
    }

    #[test]
    fn minor_units_become_major_units() {
        assert_eq!(major_units(5_000_000, "USD"), "50000");
        assert_eq!(major_units(5_000_050, "USD"), "50000.50");
        assert_eq!(major_units(4_500_000, "JPY"), "4500000");
        assert_eq!(major_units(1_500, "KWD"), "1.500");
    }
}
