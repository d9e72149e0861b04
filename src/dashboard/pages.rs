//! The staff home page: the panels of the signed-in role with their charts.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::TimeZone;
use serde_json::json;

use super::chart::{self, Chart, Values};
use super::service::{self, Dashboard};
use crate::error::AppError;
use crate::staff::access::Staff;
use crate::staff::handlers::page;
use crate::staff::model::Role;
use crate::state::AppState;

#[tracing::instrument(skip_all)]
pub async fn dashboard_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
) -> Result<HttpResponse, AppError> {
    let d = read(&state, &staff).await?;
    let charts = charts(&d, state.settings.site.tz());
    // The backup panel in words (where the last backup went, how old it is).
    let backups = if staff.role == Role::Admin {
        let settings = state.settings.clone();
        let now = state.clock.now();
        Some(
            state
                .db
                .run(move |conn| Ok(crate::backup::runs::health(conn, &settings, now)?))
                .await?,
        )
    } else {
        None
    };
    page(
        &req,
        &state,
        Some(&staff),
        "dashboard",
        "staff/dashboard.html",
        StatusCode::OK,
        json!({
            "d": d,
            "charts": charts,
            "backups": backups,
            // Links go only where the role may follow them.
            "can_list_subscribers": staff.is(&[Role::Fundraising]),
        }),
    )
}

/// The dashboard of the signed-in role, read in one go.
pub async fn read(state: &AppState, staff: &Staff) -> Result<Dashboard, AppError> {
    let settings = state.settings.clone();
    let role = staff.role;
    let reviewer = staff.user.email.clone();
    let now = state.clock.now();
    state
        .db
        .run(move |conn| service::load(conn, &settings, role, &reviewer, now))
        .await
}

/// The charts of the panels present, by name.
fn charts(d: &Dashboard, tz: chrono_tz::Tz) -> serde_json::Map<String, serde_json::Value> {
    let day = |t: &chrono::DateTime<chrono::Utc>| {
        tz.from_utc_datetime(&t.naive_utc())
            .format("%-d %b")
            .to_string()
    };
    let mut out = serde_json::Map::new();
    let mut put = |name: &str, chart: Chart| {
        out.insert(name.to_string(), json!(chart));
    };
    if let Some(n) = &d.newsletter {
        let columns = n
            .weeks
            .iter()
            .map(|w| Values {
                label: day(&w.from),
                href: None,
                values: vec![w.confirmed, w.unsubscribed, w.suppressed],
            })
            .collect();
        put(
            "subscribers",
            chart::bars(
                "chart-subscribers",
                "Subscribers per week",
                "Addresses confirmed, unsubscribed and suppressed in each of the last 12 weeks (weeks start on Monday).",
                &["Confirmed", "Unsubscribed", "Suppressed"],
                columns,
                6,
            ),
        );
    }
    if let Some(e) = &d.editors {
        let columns = e
            .votes_per_day
            .iter()
            .map(|v| Values {
                label: day(&v.from),
                href: None,
                values: vec![v.helpful, v.not_helpful],
            })
            .collect();
        put(
            "votes",
            chart::bars(
                "chart-votes",
                "Votes per day",
                "Helpful and not helpful votes on articles in each of the last 30 days.",
                &["Helpful", "Not helpful"],
                columns,
                6,
            ),
        );
    }
    if let Some(f) = &d.fundraising {
        // One chart per currency that had revenue in any of the three months.
        let mut currencies: Vec<&str> = [&f.this_month, &f.last_month, &f.same_month_last_year]
            .iter()
            .flat_map(|m| m.revenue.iter().map(|r| r.currency.as_str()))
            .collect();
        currencies.sort_unstable();
        currencies.dedup();
        for currency in currencies {
            let columns = [&f.same_month_last_year, &f.last_month, &f.this_month]
                .iter()
                .map(|m| Values {
                    label: m.name.clone(),
                    href: None,
                    values: vec![m
                        .revenue
                        .iter()
                        .find(|r| r.currency == currency)
                        .map_or(0, |r| r.amount_minor)],
                })
                .collect();
            put(
                &format!("revenue_{currency}"),
                chart::bars(
                    &format!("chart-revenue-{currency}"),
                    &format!("Revenue in {currency}"),
                    &format!("Payments received less refunds, in {currency} minor units, for the same month last year, last month and this month."),
                    &["Revenue"],
                    columns,
                    3,
                ),
            );
        }
    }
    out
}
