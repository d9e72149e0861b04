//! The staff side of open positions, end to end: postings through the staff API, applications
//! through the public API, reviews, rejection emails through the real SMTP sink, CV downloads,
//! the hiring-contact scoping, erasure on request, the audit entries and the staff pages.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use frontdesk::staff::audit;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{csrf_from, spawn_app, Backend, TestApp};

both_backends!(
    hiring_staff_create_a_posting_and_review_its_applications,
    cv_download_is_an_audited_attachment,
    only_hiring_contacts_and_admins_see_applicants,
    erasure_deletes_the_cv_anonymises_and_scrubs_the_audit_log,
    staff_pages_create_a_posting_and_act_on_an_application,
    hiring_staff_cannot_change_hiring_contacts_or_others_postings,
    admins_choose_hiring_contacts_among_enabled_hiring_and_admin_staff,
    the_edit_form_enforces_the_same_contact_rule,
);

const WAIT: Duration = Duration::from_secs(15);

// ---- helpers ----

fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n".to_vec()
}

fn posting_body(slug: &str, contacts: &[&str]) -> Value {
    json!({
        "slug": slug,
        "title": "Data Reporter",
        "summary": "Find the stories in the numbers.",
        "description_markdown": "## The role\n\nYou will **analyse** data.",
        "location": "Bogotá",
        "country": "CO",
        "remote": "hybrid",
        "employment_type": "full_time",
        "hiring_contacts": contacts,
        "closes_at": (Utc::now() + TimeDelta::days(30)).to_rfc3339(),
        "status": "open",
        "questions": [{"kind": "yes_no", "label": "Can you start in January?", "required": true}],
    })
}

async fn send(req: reqwest::RequestBuilder) -> reqwest::Response {
    req.send().await.expect("request")
}

async fn json_of(res: reqwest::Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let body = res.text().await.expect("body");
    assert_eq!(got, status, "{body}");
    serde_json::from_str(&body).expect("json")
}

async fn staff_email(app: &TestApp, token: &str) -> String {
    let me = json_of(
        send(
            app.client
                .get(app.url("/api/v1/staff/me"))
                .bearer_auth(token),
        )
        .await,
        200,
    )
    .await;
    me["email"].as_str().expect("email").to_string()
}

/// Creates a posting through the staff API; returns it.
async fn create_posting(app: &TestApp, token: &str, slug: &str, contacts: &[&str]) -> Value {
    json_of(
        send(
            app.client
                .post(app.url("/api/v1/staff/jobs"))
                .bearer_auth(token)
                .json(&posting_body(slug, contacts)),
        )
        .await,
        201,
    )
    .await
}

/// Applies through the public API, answering the posting's one question.
async fn apply(app: &TestApp, posting: &Value, email: &str) -> String {
    let question = posting["questions"][0]["id"].as_str().expect("question id");
    let form = Form::new()
        .text("name", "Jane Reader")
        .text("email", email.to_string())
        .text("consent", "true")
        .text(format!("answer_{question}"), "yes")
        .part(
            "cv",
            Part::bytes(pdf())
                .file_name("Jane Reader CV.pdf")
                .mime_str("application/pdf")
                .expect("mime"),
        );
    let slug = posting["slug"].as_str().expect("slug");
    let res = send(
        app.client
            .post(app.url(&format!("/api/v1/jobs/{slug}/applications")))
            .multipart(form),
    )
    .await;
    json_of(res, 201).await["id"]
        .as_str()
        .expect("id")
        .to_string()
}

async fn patch_application(app: &TestApp, token: &str, id: &str, body: Value) -> reqwest::Response {
    send(
        app.client
            .patch(app.url(&format!("/api/v1/staff/applications/{id}")))
            .bearer_auth(token)
            .json(&body),
    )
    .await
}

async fn audit_entries(app: &TestApp) -> Vec<audit::AuditRow> {
    app.state
        .db
        .run(|conn| Ok(audit::list(conn, None, None, 500)?))
        .await
        .expect("audit")
}

fn actions_on(entries: &[audit::AuditRow], id: &str) -> Vec<String> {
    let mut actions: Vec<String> = entries
        .iter()
        .filter(|e| e.target_id.as_deref() == Some(id))
        .map(|e| e.action.clone())
        .collect();
    actions.sort();
    actions
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

// ---- tests ----

async fn hiring_staff_create_a_posting_and_review_its_applications(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.staff_token("hiring").await;
    let me = staff_email(&app, &token).await;
    let posting = create_posting(&app, &token, "data-reporter", &[&me]).await;
    assert_eq!(posting["slug"], "data-reporter");
    assert_eq!(posting["hiring_contacts"], json!([me]));
    let question_id = posting["questions"][0]["id"].clone();

    // A partial change keeps every field and question it leaves out.
    let patched = json_of(
        send(
            app.client
                .patch(app.url("/api/v1/staff/jobs/data-reporter"))
                .bearer_auth(&token)
                .json(&json!({"title": "Senior Data Reporter"})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(patched["title"], "Senior Data Reporter");
    assert_eq!(patched["location"], "Bogotá");
    assert_eq!(patched["questions"][0]["id"], question_id);
    let unknown = send(
        app.client
            .patch(app.url("/api/v1/staff/jobs/data-reporter"))
            .bearer_auth(&token)
            .json(&json!({"colour": "red"})),
    )
    .await;
    assert_eq!(unknown.status(), 422);

    let id = apply(&app, &patched, "jane@example.org").await;
    app.smtp.wait_for(2, WAIT).await; // acknowledgement + the contact's notification

    let list = json_of(
        send(
            app.client
                .get(app.url("/api/v1/staff/jobs/data-reporter/applications?stage=new&sort=rating"))
                .bearer_auth(&token),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(list["items"].as_array().expect("items").len(), 1);
    assert_eq!(list["items"][0]["id"], id.as_str());
    assert_eq!(list["next_cursor"], Value::Null);

    // The address filter is compared whole: an address in another case finds the
    // application, and something that is not an address is refused naming the field.
    let by_address = app
        .staff(&token)
        .get_ok("/api/v1/staff/jobs/data-reporter/applications?email=JANE@example.org")
        .await;
    assert_eq!(by_address["items"][0]["id"], id.as_str());
    let (status, problem) = app
        .staff(&token)
        .get_json("/api/v1/staff/jobs/data-reporter/applications?email=000")
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "email", "{problem}");

    // An internal move, a note and a rating: no email.
    let reviewed = json_of(
        patch_application(
            &app,
            &token,
            &id,
            json!({"stage": "screening", "note": "Strong clips.", "rating": 4}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(reviewed["stage"], "screening");
    assert_eq!(reviewed["notes"][0]["body"], "Strong clips.");
    assert_eq!(reviewed["rating_average"], 4.0);
    assert_eq!(reviewed["ratings"][0]["reviewer"], me.as_str());
    app.expect_no_more_mail().await;

    let screening_only = json_of(
        send(
            app.client
                .get(app.url("/api/v1/staff/jobs/data-reporter/applications?stage=new"))
                .bearer_auth(&token),
        )
        .await,
        200,
    )
    .await;
    assert!(screening_only["items"]
        .as_array()
        .expect("items")
        .is_empty());

    let bad = patch_application(&app, &token, &id, json!({"stage": "archived", "rating": 7})).await;
    assert_eq!(bad.status(), 422);

    // The rejection, with the staff's own words, reaches the applicant.
    json_of(
        patch_application(
            &app,
            &token,
            &id,
            json!({
                "stage": "rejected",
                "send_rejection_email": true,
                "rejection_message": "Dear Jane, we chose another candidate.",
            }),
        )
        .await,
        200,
    )
    .await;
    let mails = app.smtp.wait_for(3, WAIT).await;
    let mail = &mails[2];
    assert_eq!(mail.rcpt_to, vec!["jane@example.org".to_string()]);
    assert!(mail
        .text_body()
        .expect("text")
        .contains("we chose another candidate"));

    let detail = json_of(
        send(
            app.client
                .get(app.url(&format!("/api/v1/staff/applications/{id}")))
                .bearer_auth(&token),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(detail["stage"], "rejected");
    assert_eq!(detail["answers"][0]["value"], "yes");
    assert_eq!(detail["answers"][0]["label"], "Can you start in January?");

    let entries = audit_entries(&app).await;
    assert_eq!(
        actions_on(&entries, &id),
        [
            "job_application.note_added",
            "job_application.rated",
            "job_application.stage_changed",
            "job_application.stage_changed",
            "job_application.viewed",
        ]
    );
    assert!(entries.iter().any(|e| e.action == "job_posting.created"));
    assert!(entries.iter().any(|e| e.action == "job_posting.updated"));
}

async fn cv_download_is_an_audited_attachment(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.staff_token("hiring").await;
    let me = staff_email(&app, &token).await;
    let posting = create_posting(&app, &token, "data-reporter", &[&me]).await;
    let id = apply(&app, &posting, "jane@example.org").await;

    let res = send(
        app.client
            .get(app.url(&format!("/api/v1/staff/applications/{id}/cv")))
            .bearer_auth(&token),
    )
    .await;

    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"Jane Reader CV.pdf\""
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(res.bytes().await.expect("bytes").to_vec(), pdf());
    let entries = audit_entries(&app).await;
    let download = entries
        .iter()
        .find(|e| e.action == "job_application.cv_downloaded")
        .expect("the download is audited");
    assert_eq!(download.target_id.as_deref(), Some(id.as_str()));
    assert!(download.actor_label.contains(&me));
}

async fn only_hiring_contacts_and_admins_see_applicants(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.staff_token("admin").await;
    let contact = app.staff_token("hiring").await;
    let outsider = app.staff_token("hiring").await;
    let editor = app.staff_token("editor").await;
    let contact_email = staff_email(&app, &contact).await;
    let posting = create_posting(&app, &admin, "data-reporter", &[&contact_email]).await;
    let id = apply(&app, &posting, "jane@example.org").await;
    let reads = [
        "/api/v1/staff/jobs/data-reporter/applications".to_string(),
        format!("/api/v1/staff/applications/{id}"),
        format!("/api/v1/staff/applications/{id}/cv"),
    ];

    for path in &reads {
        let as_outsider = send(app.client.get(app.url(path)).bearer_auth(&outsider)).await;
        assert_eq!(as_outsider.status(), 403, "outsider on {path}");
        let as_editor = send(app.client.get(app.url(path)).bearer_auth(&editor)).await;
        assert_eq!(as_editor.status(), 403, "editor on {path}");
        for token in [&contact, &admin] {
            let res = send(app.client.get(app.url(path)).bearer_auth(token)).await;
            assert_eq!(res.status(), 200, "{path}");
        }
    }
    let change = patch_application(&app, &outsider, &id, json!({"rating": 1})).await;
    assert_eq!(change.status(), 403);
    let erase = send(
        app.client
            .delete(app.url(&format!("/api/v1/staff/applications/{id}")))
            .bearer_auth(&outsider),
    )
    .await;
    assert_eq!(erase.status(), 403);

    // Postings themselves: hiring staff (all of them) and admins; editors not.
    let listed = json_of(
        send(
            app.client
                .get(app.url("/api/v1/staff/jobs"))
                .bearer_auth(&outsider),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(listed["items"][0]["slug"], "data-reporter");
    assert_eq!(listed["items"][0]["can_review"], false);
    let by_editor = send(
        app.client
            .post(app.url("/api/v1/staff/jobs"))
            .bearer_auth(&editor)
            .json(&posting_body("other-role", &[])),
    )
    .await;
    assert_eq!(by_editor.status(), 403);
    let list_by_editor = send(
        app.client
            .get(app.url("/api/v1/staff/jobs"))
            .bearer_auth(&editor),
    )
    .await;
    assert_eq!(list_by_editor.status(), 403);
}

async fn erasure_deletes_the_cv_anonymises_and_scrubs_the_audit_log(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.staff_token("hiring").await;
    let me = staff_email(&app, &token).await;
    let posting = create_posting(&app, &token, "data-reporter", &[&me]).await;
    let id = apply(&app, &posting, "jane@example.org").await;
    let uploads = app.settings.uploads.dir.clone();
    assert_eq!(files_under(&uploads).len(), 1, "the CV is stored");
    json_of(
        patch_application(
            &app,
            &token,
            &id,
            json!({"stage": "rejected", "send_rejection_email": true}),
        )
        .await,
        200,
    )
    .await;
    let before = audit_entries(&app).await;
    assert!(
        before
            .iter()
            .any(|e| e.details.contains("jane@example.org")),
        "the rejection's audit entry names its recipient"
    );

    let res = send(
        app.client
            .delete(app.url(&format!("/api/v1/staff/applications/{id}")))
            .bearer_auth(&token),
    )
    .await;

    assert_eq!(res.status(), 204);
    assert!(files_under(&uploads).is_empty(), "the CV file is deleted");
    let detail = json_of(
        send(
            app.client
                .get(app.url(&format!("/api/v1/staff/applications/{id}")))
                .bearer_auth(&token),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(detail["name"], "(erased)");
    assert_eq!(detail["email"], "");
    assert_eq!(detail["cv"], Value::Null);
    assert!(detail["answers"].as_array().expect("answers").is_empty());
    assert_ne!(detail["anonymised_at"], Value::Null);
    let cv = send(
        app.client
            .get(app.url(&format!("/api/v1/staff/applications/{id}/cv")))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(cv.status(), 404);
    let after = audit_entries(&app).await;
    assert!(after
        .iter()
        .all(|e| !e.details.contains("jane@example.org") && !e.details.contains("Jane Reader")));
    assert!(after.iter().any(
        |e| e.action == "job_application.erased" && e.target_id.as_deref() == Some(id.as_str())
    ));
    // Erasing again is harmless.
    let again = send(
        app.client
            .delete(app.url(&format!("/api/v1/staff/applications/{id}")))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(again.status(), 204);
}

async fn staff_pages_create_a_posting_and_act_on_an_application(backend: Backend) {
    let app = spawn_app(backend).await;
    let csrf = app.signed_in("hiring").await;
    let me = json_of(app.get("/api/v1/staff/me").await, 200).await["email"]
        .as_str()
        .expect("email")
        .to_string();
    let new_form = app.get("/staff/jobs/new").await;
    assert_eq!(new_form.status(), 200);
    assert!(
        new_form.text().await.expect("html").contains(&me),
        "the author is a contact"
    );

    let created = send(app.client.post(app.url("/staff/jobs")).form(&[
        ("csrf_token", csrf.as_str()),
        ("title", "Data Reporter"),
        ("slug", "data-reporter"),
        ("status", "open"),
        ("summary", ""),
        ("description_markdown", "You will analyse data."),
        ("location", "Bogotá"),
        ("country", "co"),
        ("remote", "remote"),
        ("employment_type", "full_time"),
        ("salary_currency", ""),
        ("salary_min", ""),
        ("salary_max", ""),
        ("salary_period", "year"),
        ("opens_at", ""),
        ("closes_at", ""),
        ("hiring_contacts", me.as_str()),
        ("q0_label", "Can you start in January?"),
        ("q0_kind", "yes_no"),
        ("q0_required", "true"),
        ("q1_label", ""),
        ("q1_kind", "short_text"),
    ]))
    .await;
    assert_eq!(created.status(), 303);
    let edit = app.get("/staff/jobs/data-reporter/edit").await;
    assert_eq!(edit.status(), 200);
    let edit_html = edit.text().await.expect("html");
    assert!(edit_html.contains("Can you start in January?"));

    let invalid = send(app.client.post(app.url("/staff/jobs")).form(&[
        ("csrf_token", csrf.as_str()),
        ("title", ""),
        ("slug", "Not A Slug"),
        ("status", "open"),
        ("description_markdown", "x"),
        ("location", "Bogotá"),
        ("remote", "remote"),
        ("employment_type", "full_time"),
        ("salary_min", "lots"),
    ]))
    .await;
    assert_eq!(invalid.status(), 422);

    let posting = json_of(app.get("/api/v1/staff/jobs/data-reporter").await, 200).await;
    let id = apply(&app, &posting, "jane@example.org").await;
    let list = app.get("/staff/jobs/data-reporter/applications").await;
    assert_eq!(list.status(), 200);
    assert!(list.text().await.expect("html").contains("Jane Reader"));
    let page = app
        .get(&format!("/staff/jobs/data-reporter/applications/{id}"))
        .await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains(&format!("/api/v1/staff/applications/{id}/cv")));

    let staged = send(
        app.client
            .post(app.url(&format!("/staff/applications/{id}/stage")))
            .form(&[("csrf_token", csrf.as_str()), ("stage", "interview")]),
    )
    .await;
    assert_eq!(staged.status(), 303);
    let rated = send(
        app.client
            .post(app.url(&format!("/staff/applications/{id}/rating")))
            .form(&[("csrf_token", csrf.as_str()), ("rating", "5")]),
    )
    .await;
    assert_eq!(rated.status(), 303);
    let noted = send(
        app.client
            .post(app.url(&format!("/staff/applications/{id}/notes")))
            .form(&[("csrf_token", csrf.as_str()), ("body", "Call on Monday.")]),
    )
    .await;
    assert_eq!(noted.status(), 303);
    let after = app
        .get(&format!("/staff/jobs/data-reporter/applications/{id}"))
        .await
        .text()
        .await
        .expect("html");
    assert!(after.contains("Call on Monday."));
    assert!(after.contains("5 from 1 reviewer") || after.contains("5.0 from 1 reviewer"));
    let listing = app.get("/staff/jobs").await.text().await.expect("html");
    assert!(listing.contains("/staff/jobs/data-reporter/applications"));
}

both_backends!(posting_fields_of_the_wrong_type_are_422_naming_the_field);

/// The field named in a 422 problem document (the first of its `errors`).
async fn field_of_422(res: reqwest::Response) -> String {
    let problem = json_of(res, 422).await;
    problem["errors"][0]["field"]
        .as_str()
        .unwrap_or_else(|| panic!("a named field: {problem}"))
        .to_string()
}

/// A well-formed body with a field of the wrong type (a boolean for the `remote` enum, which
/// serde_json reports as a syntax error) is a 422 naming the field, on create and on change;
/// a malformed body stays 400.
async fn posting_fields_of_the_wrong_type_are_422_naming_the_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.staff_token("hiring").await;
    let post = |body: String| {
        send(
            app.client
                .post(app.url("/api/v1/staff/jobs"))
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(body),
        )
    };
    let mut remote_bool = posting_body("wrong-type", &[]);
    remote_bool["remote"] = json!(true);
    let mut employment_number = posting_body("wrong-type", &[]);
    employment_number["employment_type"] = json!(3);
    let mut question_kind = posting_body("wrong-type", &[]);
    question_kind["questions"][0]["kind"] = json!(false);

    let remote = post(remote_bool.to_string()).await;
    let employment = post(employment_number.to_string()).await;
    let question = post(question_kind.to_string()).await;
    let malformed = post(r#"{"slug": "wrong-type", "remote": tru}"#.into()).await;
    create_posting(&app, &token, "data-reporter", &[]).await;
    let patch = send(
        app.client
            .patch(app.url("/api/v1/staff/jobs/data-reporter"))
            .bearer_auth(&token)
            .json(&json!({"remote": true})),
    )
    .await;

    assert_eq!(field_of_422(remote).await, "remote");
    assert_eq!(field_of_422(employment).await, "employment_type");
    assert_eq!(field_of_422(question).await, "questions[0].kind");
    assert_eq!(malformed.status(), 400);
    assert_eq!(field_of_422(patch).await, "remote");
}

// ---- who changes a posting and its hiring contacts ----

async fn patch_posting(app: &TestApp, token: &str, slug: &str, body: Value) -> reqwest::Response {
    send(
        app.client
            .patch(app.url(&format!("/api/v1/staff/jobs/{slug}")))
            .bearer_auth(token)
            .json(&body),
    )
    .await
}

async fn contacts_of(app: &TestApp, token: &str, slug: &str) -> Value {
    let posting = json_of(
        send(
            app.client
                .get(app.url(&format!("/api/v1/staff/jobs/{slug}")))
                .bearer_auth(token),
        )
        .await,
        200,
    )
    .await;
    posting["hiring_contacts"].clone()
}

async fn problem_of(res: reqwest::Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let body = res.text().await.expect("body");
    assert_eq!(got, status, "{body}");
    serde_json::from_str(&body).expect("problem json")
}

fn sorted(mut emails: Vec<String>) -> Vec<String> {
    emails.sort();
    emails
}

async fn hiring_staff_cannot_change_hiring_contacts_or_others_postings(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.staff_token("admin").await;
    let contact = app.staff_token("hiring").await;
    let colleague = app.staff_token("hiring").await;
    let contact_email = staff_email(&app, &contact).await;
    let colleague_email = staff_email(&app, &colleague).await;
    create_posting(&app, &admin, "data-reporter", &[&contact_email]).await;

    // A contact may not add anyone, least of all an outside address.
    for wanted in [
        json!([contact_email, colleague_email]),
        json!([contact_email, "mole@elsewhere.example"]),
        json!([colleague_email]),
        json!([]),
    ] {
        let res = patch_posting(
            &app,
            &contact,
            "data-reporter",
            json!({ "hiring_contacts": wanted }),
        )
        .await;
        let problem = problem_of(res, 403).await;
        assert!(
            problem["detail"]
                .as_str()
                .expect("detail")
                .contains("Only admins change a posting's hiring contacts"),
            "{problem}"
        );
    }
    assert_eq!(
        contacts_of(&app, &admin, "data-reporter").await,
        json!([contact_email])
    );

    // Edits that leave the contacts as they are go through, whatever their spelling.
    let patched = json_of(
        patch_posting(
            &app,
            &contact,
            "data-reporter",
            json!({"title": "Senior Data Reporter", "hiring_contacts": [contact_email.to_uppercase()]}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(patched["title"], "Senior Data Reporter");
    assert_eq!(patched["hiring_contacts"], json!([contact_email]));

    // A hiring user who is not a contact sees the posting but may not change it.
    let seen = send(
        app.client
            .get(app.url("/api/v1/staff/jobs/data-reporter"))
            .bearer_auth(&colleague),
    )
    .await;
    assert_eq!(seen.status(), 200);
    let res = patch_posting(
        &app,
        &colleague,
        "data-reporter",
        json!({"title": "Mine now"}),
    )
    .await;
    problem_of(res, 403).await;
    let res = patch_posting(
        &app,
        &colleague,
        "data-reporter",
        json!({"hiring_contacts": [contact_email, colleague_email]}),
    )
    .await;
    problem_of(res, 403).await;
    assert_eq!(
        contacts_of(&app, &admin, "data-reporter").await,
        json!([contact_email])
    );

    // A hiring user's new posting has its author, and only its author, as contact.
    let mut body = posting_body("photo-editor", &[&colleague_email]);
    let refused = send(
        app.client
            .post(app.url("/api/v1/staff/jobs"))
            .bearer_auth(&contact)
            .json(&body),
    )
    .await;
    problem_of(refused, 403).await;
    body["hiring_contacts"] = json!([]);
    let own = json_of(
        send(
            app.client
                .post(app.url("/api/v1/staff/jobs"))
                .bearer_auth(&contact)
                .json(&body),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(own["hiring_contacts"], json!([contact_email]));
    let entries = audit_entries(&app).await;
    assert!(
        !entries
            .iter()
            .any(|e| e.action == "job_posting.contacts_changed"),
        "nothing changed contacts"
    );
}

async fn admins_choose_hiring_contacts_among_enabled_hiring_and_admin_staff(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.staff_token("admin").await;
    let admin_email = staff_email(&app, &admin).await;
    let contact = app.staff_token("hiring").await;
    let contact_email = staff_email(&app, &contact).await;
    let newcomer = app.staff_account("hiring").await.email;
    let editor = app.staff_account("editor").await.email;
    let leaver = app.staff_account("hiring").await.email;
    let leaver_id = {
        let email = leaver.clone();
        app.state
            .db
            .run(move |conn| Ok(frontdesk::staff::store::find_user_by_email(conn, &email)?))
            .await
            .expect("lookup")
            .expect("account")
            .id
    };
    frontdesk::staff::service::disable_account(
        &app.state.db,
        leaver_id,
        audit::Actor::system("test"),
    )
    .await
    .expect("disable");
    let posting = create_posting(&app, &admin, "data-reporter", &[&contact_email]).await;

    // Outside addresses, other roles and disabled accounts are refused, each named.
    for (wanted, culprit) in [
        ("mole@elsewhere.example", "mole@elsewhere.example"),
        (editor.as_str(), editor.as_str()),
        (leaver.as_str(), leaver.as_str()),
    ] {
        let res = patch_posting(
            &app,
            &admin,
            "data-reporter",
            json!({ "hiring_contacts": [contact_email, wanted] }),
        )
        .await;
        let problem = problem_of(res, 422).await;
        let errors = problem["errors"].as_array().expect("errors");
        assert_eq!(errors.len(), 1, "{problem}");
        assert_eq!(errors[0]["field"], "hiring_contacts");
        assert!(
            errors[0]["message"]
                .as_str()
                .expect("message")
                .contains(culprit),
            "{problem}"
        );
    }
    let created = send(
        app.client
            .post(app.url("/api/v1/staff/jobs"))
            .bearer_auth(&admin)
            .json(&posting_body("photo-editor", &["mole@elsewhere.example"])),
    )
    .await;
    assert_eq!(
        problem_of(created, 422).await["errors"][0]["field"],
        "hiring_contacts"
    );
    assert_eq!(
        contacts_of(&app, &admin, "data-reporter").await,
        json!([contact_email])
    );

    // Hiring and admin colleagues are accepted, and the change is audited before and after.
    let changed = json_of(
        patch_posting(
            &app,
            &admin,
            "data-reporter",
            json!({ "hiring_contacts": [newcomer, admin_email] }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        changed["hiring_contacts"],
        json!(sorted(vec![newcomer.clone(), admin_email.clone()]))
    );
    let posting_id = posting["id"].as_str().expect("id");
    let entries = audit_entries(&app).await;
    let change = entries
        .iter()
        .find(|e| {
            e.action == "job_posting.contacts_changed" && e.target_id.as_deref() == Some(posting_id)
        })
        .expect("the change is audited");
    assert!(change.actor_label.contains(&admin_email));
    let details: Value = serde_json::from_str(&change.details).expect("details");
    assert_eq!(details["before"], json!([contact_email]));
    let after: Vec<String> =
        serde_json::from_value(details["after"].clone()).expect("after is a list");
    assert_eq!(sorted(after), sorted(vec![newcomer, admin_email]));

    // The former contact now neither sees the applicants nor changes the posting.
    let res = patch_posting(
        &app,
        &contact,
        "data-reporter",
        json!({"title": "Still mine?"}),
    )
    .await;
    assert_eq!(res.status(), 403);
}

/// The edit form's fields for a posting (as the page would post them back).
fn edit_form(posting: &Value, csrf: &str, contacts: &str) -> Vec<(String, String)> {
    let text = |name: &str| posting[name].as_str().unwrap_or_default().to_string();
    let mut form: Vec<(String, String)> = [
        "slug",
        "title",
        "summary",
        "description_markdown",
        "location",
        "country",
        "remote",
        "employment_type",
        "status",
    ]
    .iter()
    .map(|name| (name.to_string(), text(name)))
    .collect();
    form.push(("csrf_token".into(), csrf.into()));
    form.push(("hiring_contacts".into(), contacts.into()));
    for (i, q) in posting["questions"]
        .as_array()
        .expect("questions")
        .iter()
        .enumerate()
    {
        form.push((format!("q{i}_id"), q["id"].as_str().expect("id").into()));
        form.push((
            format!("q{i}_kind"),
            q["kind"].as_str().expect("kind").into(),
        ));
        form.push((
            format!("q{i}_label"),
            q["label"].as_str().expect("label").into(),
        ));
        if q["required"] == json!(true) {
            form.push((format!("q{i}_required"), "true".into()));
        }
    }
    form
}

async fn the_edit_form_enforces_the_same_contact_rule(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.staff_token("admin").await;
    let csrf = app.signed_in("hiring").await;
    let me = json_of(app.get("/api/v1/staff/me").await, 200).await["email"]
        .as_str()
        .expect("email")
        .to_string();
    let colleague = app.staff_account("hiring").await.email;
    let posting = create_posting(&app, &admin, "data-reporter", &[&me]).await;
    create_posting(&app, &admin, "photo-editor", &[&colleague]).await;

    let page = app.get("/staff/jobs/data-reporter/edit").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(
        html.contains("Only admins change hiring contacts"),
        "{html}"
    );
    assert_eq!(csrf_from(&html), csrf);

    // Adding an address through the form is refused like through the API.
    let refused = send(
        app.client
            .post(app.url("/staff/jobs/data-reporter/edit"))
            .form(&edit_form(
                &posting,
                &csrf,
                &format!("{me}\nmole@elsewhere.example"),
            )),
    )
    .await;
    assert_eq!(refused.status(), 403);
    assert!(refused
        .text()
        .await
        .expect("html")
        .contains("Only admins change a posting"));
    assert_eq!(
        contacts_of(&app, &admin, "data-reporter").await,
        json!([me])
    );

    // Saving with the contacts as they are works.
    let mut unchanged = edit_form(&posting, &csrf, &me);
    for (name, value) in unchanged.iter_mut() {
        if name == "title" {
            *value = "Senior Data Reporter".into();
        }
    }
    let saved = send(
        app.client
            .post(app.url("/staff/jobs/data-reporter/edit"))
            .form(&unchanged),
    )
    .await;
    assert_eq!(saved.status(), 303);

    // Another contact's posting: no edit form, no save.
    assert_eq!(app.get("/staff/jobs/photo-editor/edit").await.status(), 403);
    let other = json_of(
        send(
            app.client
                .get(app.url("/api/v1/staff/jobs/photo-editor"))
                .bearer_auth(&admin),
        )
        .await,
        200,
    )
    .await;
    let hijack = send(
        app.client
            .post(app.url("/staff/jobs/photo-editor/edit"))
            .form(&edit_form(&other, &csrf, &colleague)),
    )
    .await;
    assert_eq!(hijack.status(), 403);
    assert_eq!(
        contacts_of(&app, &admin, "photo-editor").await,
        json!([colleague])
    );
}
