//! One issue's report page: what became of it (delivered, failed, skipped, bounces and
//! unsubscribes in the week after), from [`crate::newsletter::figures::issue_report`].

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::error::AppError;
use crate::newsletter::figures;
use crate::staff::handlers::page;
use crate::staff::Staff;
use crate::state::AppState;

#[tracing::instrument(skip_all)]
pub async fn issue_report_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let report = state
        .db
        .run(move |conn| Ok(figures::issue_report(conn, &id)?))
        .await?;
    let p = &report.progress;
    let share = |n: i64| {
        if p.recipients > 0 {
            format!("{:.1} %", n as f64 * 100.0 / p.recipients as f64)
        } else {
            "–".to_string()
        }
    };
    let rows = [
        ("Delivered to the mail server", p.sent),
        ("Failed", p.failed),
        ("Still queued", p.pending),
        (
            "Skipped (unsubscribed or suppressed at send time)",
            p.skipped,
        ),
        (
            "Bounced or complained in the week after",
            report.bounced_after,
        ),
        ("Unsubscribed in the week after", report.unsubscribed_after),
    ]
    .into_iter()
    .map(|(what, n)| json!({"what": what, "count": n, "share": share(n)}))
    .collect::<Vec<_>>();
    page(
        &req,
        &state,
        Some(&staff),
        "newsletters",
        "staff/newsletter/report.html",
        StatusCode::OK,
        json!({ "r": report, "rows": rows }),
    )
}
