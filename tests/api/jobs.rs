//! Open positions, end to end: postings made through the store, applications through the
//! real server (API and page form), emails through the real SMTP sink.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use frontdesk::jobs::model::{
    EmploymentType, NewPosting, NoteBody, Posting, PostingInput, PostingStatus, QuestionInput,
    QuestionKind, Rating, SalaryInput, SalaryPeriod, Stage, Workplace,
};
use frontdesk::jobs::store::{self, ApplicationFilter, ApplicationSort};
use frontdesk::jobs::{emails, privacy, retention, upload};
use reqwest::multipart::{Form, Part};
use sha2::{Digest, Sha256};

use crate::both_backends;
use crate::helpers::{spawn_app, Backend, TestApp};

const WAIT: Duration = Duration::from_secs(15);

both_backends!(
    pdf_cv_is_accepted_and_its_hash_stored,
    minimal_docx_is_accepted,
    disguised_executable_or_html_is_refused_on_cv,
    upload_over_the_limit_is_413_and_leaves_nothing_on_disk,
    streamed_upload_over_the_limit_is_cut_while_reading,
    zip_bomb_disguised_as_docx_is_refused,
    second_application_from_the_same_email_is_409,
    closed_posting_is_409_and_past_closes_at_closes_it,
    drafts_and_unknown_slugs_are_404,
    required_questions_are_enforced,
    applicant_and_hiring_contacts_are_emailed,
    list_shows_open_postings_only,
    detail_carries_sanitised_description,
    page_has_a_json_ld_job_posting_and_an_accessible_form,
    page_form_answers_with_pages,
    retention_erases_what_it_must_and_keeps_what_was_consented,
    retention_sweeps_upload_leftovers,
    staff_store_lists_rates_notes_and_moves_applications,
    rejection_emails_only_on_a_move_to_rejected,
    erasure_on_request_removes_cv_and_personal_data,
    hiring_contacts_see_only_their_postings,
    updating_a_posting_keeps_answered_questions,
);

// --- arrange helpers -----------------------------------------------------------------------

fn posting_input(slug: &str) -> PostingInput {
    PostingInput {
        slug: slug.into(),
        title: "Data Reporter".into(),
        summary: "Find the stories in the numbers.".into(),
        description_markdown: "## The role\n\nYou will **analyse** data.".into(),
        location: "Bogotá".into(),
        country: Some("CO".into()),
        remote: Workplace::Hybrid,
        employment_type: EmploymentType::FullTime,
        salary: Some(SalaryInput {
            currency: "USD".into(),
            min_minor: Some(4_000_000),
            max_minor: Some(5_000_000),
            period: SalaryPeriod::Year,
        }),
        hiring_contacts: vec!["editor@newsroom.test".into(), "hr@newsroom.test".into()],
        opens_at: None,
        closes_at: Some(Utc::now() + TimeDelta::days(30)),
        status: PostingStatus::Open,
        questions: Vec::new(),
    }
}

async fn create(app: &TestApp, input: PostingInput) -> Posting {
    let new = NewPosting::try_from(input).expect("valid posting");
    app.state
        .db
        .write(move |conn| store::insert_posting(conn, &new, frontdesk::db::now()))
        .await
        .expect("insert posting")
}

pub(crate) async fn create_open(app: &TestApp, slug: &str) -> Posting {
    create(app, posting_input(slug)).await
}

/// Replaces a posting's fields with `input` (as the staff API's update will).
async fn replace(app: &TestApp, posting: &Posting, input: PostingInput) -> Posting {
    let new = NewPosting::try_from(input).expect("valid posting");
    let id = posting.id.clone();
    app.state
        .db
        .write(move |conn| store::update_posting(conn, &id, &new, frontdesk::db::now()))
        .await
        .expect("update posting")
}

/// Closes a posting the way staff do.
pub(crate) async fn close(app: &TestApp, posting: &Posting) -> Posting {
    let mut input = posting_input(&posting.slug);
    input.status = PostingStatus::Closed;
    replace(app, posting, input).await
}

/// Moves a posting's closing time to `at` behind the store's back (the past cannot be
/// entered through validation).
async fn set_closes_at(app: &TestApp, posting: &Posting, at: chrono::NaiveDateTime) {
    let id = posting.id.clone();
    app.state
        .db
        .run(move |conn| {
            use diesel::prelude::*;
            use frontdesk::db::schema::job_postings as p;
            diesel::update(p::table.find(&id))
                .set(p::closes_at.eq(Some(at)))
                .execute(conn)?;
            Ok(())
        })
        .await
        .expect("move closing time");
}

/// The ids of a public posting's questions, as an API client learns them.
async fn question_ids(app: &TestApp, slug: &str) -> Vec<String> {
    let detail: serde_json::Value = app
        .get(&format!("/api/v1/jobs/{slug}"))
        .await
        .json()
        .await
        .expect("json");
    detail["questions"]
        .as_array()
        .expect("questions")
        .iter()
        .map(|q| q["id"].as_str().expect("id").to_string())
        .collect()
}

pub(crate) fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n".to_vec()
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            w.start_file(*name, options).expect("start entry");
            w.write_all(data).expect("write entry");
        }
        w.finish().expect("finish zip");
    }
    out.into_inner()
}

fn minimal_docx() -> Vec<u8> {
    zip_of(&[
        (
            "[Content_Types].xml",
            br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#,
        ),
        (
            "word/document.xml",
            br#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Jane Reader, data journalist</w:t></w:r></w:p></w:body></w:document>"#,
        ),
    ])
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// An application form with the required fields and a file.
fn form(email: &str, file: Vec<u8>, file_name: &str, mime: &str) -> Form {
    Form::new()
        .text("name", "Jane Reader")
        .text("email", email.to_string())
        .text("consent", "true")
        .part(
            "cv",
            Part::bytes(file)
                .file_name(file_name.to_string())
                .mime_str(mime)
                .expect("mime"),
        )
}

pub(crate) fn pdf_form(email: &str) -> Form {
    form(email, pdf(), "Jane Reader CV.pdf", "application/pdf")
}

pub(crate) async fn apply(app: &TestApp, slug: &str, form: Form) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/jobs/{slug}/applications")))
        .multipart(form)
        .send()
        .await
        .expect("request")
}

async fn problem(res: reqwest::Response) -> serde_json::Value {
    assert_eq!(
        res.headers()["content-type"],
        "application/problem+json",
        "a problem document"
    );
    res.json().await.expect("json")
}

fn error_fields(problem: &serde_json::Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["field"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Every file (not folder) under `dir`.
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

/// A link as the service writes it: on `server.public_url`.
fn public_link(app: &TestApp, path: &str) -> String {
    format!(
        "{}{path}",
        app.settings
            .server
            .public_url
            .as_str()
            .trim_end_matches('/')
    )
}

fn uploads(app: &TestApp) -> PathBuf {
    app.settings.uploads.dir.clone()
}

async fn application(app: &TestApp, id: &str) -> store::ApplicationDetail {
    let id = id.to_string();
    app.state
        .db
        .run(move |conn| Ok(store::get_application(conn, &id)?))
        .await
        .expect("application")
}

pub(crate) async fn applied_id(res: reqwest::Response) -> String {
    assert_eq!(res.status(), 201);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["status"], "received");
    body["id"].as_str().expect("id").to_string()
}

// --- applications --------------------------------------------------------------------------

async fn pdf_cv_is_accepted_and_its_hash_stored(backend: Backend) {
    let app = spawn_app(backend).await;
    create_open(&app, "data-reporter").await;

    let res = apply(&app, "data-reporter", pdf_form("jane@example.org")).await;

    let id = applied_id(res).await;
    let stored = application(&app, &id).await;
    let cv = stored.cv.expect("cv stored");
    assert_eq!(cv.sha256, sha256_hex(&pdf()));
    assert_eq!(cv.content_type, "application/pdf");
    assert_eq!(cv.filename, "Jane Reader CV.pdf");
    assert_eq!(stored.stage, Stage::New);
    assert_eq!(stored.privacy_notice_version, "1");
    assert!(!stored.keep_on_file);
    let id2 = id.clone();
    let download = app
        .state
        .db
        .run(move |conn| Ok(store::cv_download(conn, &id2)?))
        .await
        .expect("cv");
    let path = upload::cv_path(&uploads(&app), &download.stored_name);
    assert_eq!(std::fs::read(&path).expect("stored file"), pdf());
    assert!(!download.stored_name.contains("Jane"), "a random name");
    assert_eq!(files_under(&uploads(&app)), vec![path]);
}

async fn minimal_docx_is_accepted(backend: Backend) {
    let app = spawn_app(backend).await;
    create_open(&app, "data-reporter").await;
    let docx = minimal_docx();

    let res = apply(
        &app,
        "data-reporter",
        form(
            "jane@example.org",
            docx.clone(),
            "cv.docx",
            "application/octet-stream",
        ),
    )
    .await;

    let id = applied_id(res).await;
    let cv = application(&app, &id).await.cv.expect("cv");
    assert_eq!(
        cv.content_type,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );
    assert_eq!(cv.sha256, sha256_hex(&docx));
}

async fn disguised_executable_or_html_is_refused_on_cv(backend: Backend) {
    let app = spawn_app(backend).await;
    create_open(&app, "data-reporter").await;
    let fakes: [&[u8]; 3] = [
        b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00",
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00",
        b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>",
    ];

    for (i, fake) in fakes.into_iter().enumerate() {
        let res = apply(
            &app,
            "data-reporter",
            form(
                &format!("jane{i}@example.org"),
                fake.to_vec(),
                "cv.pdf",
                "application/pdf",
            ),
        )
        .await;

        assert_eq!(res.status(), 422, "fake #{i}");
        let problem = problem(res).await;
        assert_eq!(error_fields(&problem), vec!["cv".to_string()], "{problem}");
    }
    assert!(files_under(&uploads(&app)).is_empty());
}

async fn upload_over_the_limit_is_413_and_leaves_nothing_on_disk(backend: Backend) {
    let app = spawn_app(backend).await;
    create_open(&app, "data-reporter").await;
    let mut big = pdf();
    big.resize(11 * 1024 * 1024, b' ');

    let res = apply(
        &app,
        "data-reporter",
        form("jane@example.org", big, "cv.pdf", "application/pdf"),
    )
    .await;

    assert_eq!(res.status(), 413);
    problem(res).await;
    assert!(files_under(&uploads(&app)).is_empty());
    let list = app
        .state
        .db
        .run(|conn| {
            let posting = store::find_posting_by_slug(conn, "data-reporter")?;
            store::list_applications(conn, &posting.id, &ApplicationFilter::default())
        })
        .await
        .expect("list");
    assert!(list.items.is_empty());
}

async fn streamed_upload_over_the_limit_is_cut_while_reading(backend: Backend) {
    let app = spawn_app(backend).await;
    create_open(&app, "data-reporter").await;
    // Sent in chunks with no length announced, so only reading can tell.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = std::iter::once(Ok(pdf()))
        .chain((0..11).map(|_| Ok(vec![b' '; 1024 * 1024])))
        .collect();
    let stream = futures_util::stream::iter(chunks);
    let form = Form::new()
        .text("name", "Jane Reader")
        .text("email", "jane@example.org")
        .text("consent", "true")
        .part(
            "cv",
            Part::stream(reqwest::Body::wrap_stream(stream))
                .file_name("cv.pdf")
                .mime_str("application/pdf")
                .expect("mime"),
        );

    let res = apply(&app, "data-reporter", form).await;

    assert_eq!(res.status(), 413);
    assert!(files_under(&uploads(&app)).is_empty(), "no partial file");
}

async fn zip_bomb_disguised_as_docx_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    create_open(&app, "data-reporter").await;
    let zeros = vec![0u8; 200 * 1024 * 1024];
    let bomb = zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("word/document.xml", &zeros),
    ]);
    drop(zeros);
    assert!(
        bomb.len() < 1024 * 1024,
        "small on the wire: {}",
        bomb.len()
    );

    let res = apply(
        &app,
        "data-reporter",
        form(
            "jane@example.org",
            bomb,
            "cv.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    )
    .await;

    assert_eq!(res.status(), 422);
    assert_eq!(error_fields(&problem(res).await), vec!["cv".to_string()]);
    assert!(files_under(&uploads(&app)).is_empty());
}

async fn second_application_from_the_same_email_is_409(backend: Backend) {
    let app = spawn_app(backend).await;
    create_open(&app, "data-reporter").await;
    applied_id(apply(&app, "data-reporter", pdf_form("jane@example.org")).await).await;

    let res = apply(&app, "data-reporter", pdf_form("JANE@Example.org")).await;

    assert_eq!(res.status(), 409);
    let problem = problem(res).await;
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("already applied"), "{detail}");
    assert!(detail.contains("Thank you"), "politely: {detail}");
    assert_eq!(
        files_under(&uploads(&app)).len(),
        1,
        "the second CV is not kept"
    );
}

async fn closed_posting_is_409_and_past_closes_at_closes_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let closed = create_open(&app, "closed-role").await;
    close(&app, &closed).await;
    let expiring = create_open(&app, "expiring-role").await;
    let past = frontdesk::db::now() - TimeDelta::seconds(1);
    set_closes_at(&app, &expiring, past).await;

    let closed_res = apply(&app, "closed-role", pdf_form("jane@example.org")).await;
    let expired_res = apply(&app, "expiring-role", pdf_form("jane@example.org")).await;

    assert_eq!(closed_res.status(), 409);
    assert_eq!(expired_res.status(), 409);
    let detail: serde_json::Value = app
        .get("/api/v1/jobs/expiring-role")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(detail["status"], "closed");
    let stored = app
        .state
        .db
        .run(move |conn| Ok(store::find_posting(conn, &expiring.id)?))
        .await
        .expect("posting");
    assert_eq!(
        stored.status,
        PostingStatus::Closed,
        "closed on the request"
    );
    assert_eq!(stored.closed_at, Some(past));
    assert!(files_under(&uploads(&app)).is_empty());
}

async fn drafts_and_unknown_slugs_are_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut draft = posting_input("draft-role");
    draft.status = PostingStatus::Draft;
    create(&app, draft).await;
    let mut later = posting_input("later-role");
    later.opens_at = Some(Utc::now() + TimeDelta::days(2));
    create(&app, later).await;

    for slug in ["draft-role", "later-role", "no-such-role"] {
        assert_eq!(app.get(&format!("/api/v1/jobs/{slug}")).await.status(), 404);
        assert_eq!(app.get(&format!("/jobs/{slug}")).await.status(), 404);
        let res = apply(&app, slug, pdf_form("jane@example.org")).await;
        assert_eq!(res.status(), 404, "{slug}");
    }
    assert!(files_under(&uploads(&app)).is_empty());
}

async fn required_questions_are_enforced(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut input = posting_input("data-reporter");
    input.questions = vec![
        QuestionInput {
            id: None,
            kind: QuestionKind::YesNo,
            label: "Do you have the right to work in Colombia?".into(),
            required: true,
        },
        QuestionInput {
            id: None,
            kind: QuestionKind::ShortText,
            label: "Your favourite dataset".into(),
            required: false,
        },
        QuestionInput {
            id: None,
            kind: QuestionKind::LongText,
            label: "Tell us about a story you broke".into(),
            required: true,
        },
    ];
    create(&app, input).await;
    let ids = question_ids(&app, "data-reporter").await;
    assert_eq!(ids.len(), 3);

    let missing = apply(
        &app,
        "data-reporter",
        pdf_form("jane@example.org").text(format!("answer_{}", ids[0]), "maybe"),
    )
    .await;

    assert_eq!(missing.status(), 422);
    let mut fields = error_fields(&problem(missing).await);
    fields.sort();
    let mut expected = vec![format!("answer_{}", ids[0]), format!("answer_{}", ids[2])];
    expected.sort();
    assert_eq!(fields, expected);

    let complete = apply(
        &app,
        "data-reporter",
        pdf_form("jane@example.org")
            .text(format!("answer_{}", ids[0]), "yes")
            .text(format!("answer_{}", ids[2]), "The one about the budget."),
    )
    .await;

    let id = applied_id(complete).await;
    let answers = application(&app, &id).await.answers;
    assert_eq!(answers.len(), 2);
    assert_eq!(answers[0].value, "yes");
    assert_eq!(answers[1].value, "The one about the budget.");
    assert_eq!(answers[1].label, "Tell us about a story you broke");
}

async fn applicant_and_hiring_contacts_are_emailed(backend: Backend) {
    let app = spawn_app(backend).await;
    create_open(&app, "data-reporter").await;

    let id = applied_id(apply(&app, "data-reporter", pdf_form("jane@example.org")).await).await;

    let mails = app.smtp.wait_for(3, WAIT).await;
    app.expect_no_more_mail().await;
    let to = |addr: &str| {
        mails
            .iter()
            .find(|m| m.rcpt_to == vec![addr.to_string()])
            .unwrap_or_else(|| panic!("no mail to {addr}"))
    };
    let ack = to("jane@example.org");
    assert!(ack
        .subject()
        .expect("subject")
        .contains("we received your application for Data Reporter"));
    let text = ack.text_body().expect("text");
    assert!(
        !text.contains("Jane Reader"),
        "nothing the applicant typed: {text}"
    );
    assert!(text.contains(&id), "the reference: {text}");
    let review = public_link(
        &app,
        &format!("/staff/jobs/data-reporter/applications/{id}"),
    );
    for contact in ["editor@newsroom.test", "hr@newsroom.test"] {
        let note = to(contact);
        assert_eq!(
            note.subject().as_deref(),
            Some("New application for Data Reporter")
        );
        assert!(note.text_body().expect("text").contains(&review));
        assert!(note
            .html_body()
            .expect("html")
            .replace("&#x2f;", "/")
            .contains(&review));
        let raw = String::from_utf8_lossy(&note.raw);
        assert!(!raw.contains("%PDF"), "no CV attached");
        assert!(!raw.to_lowercase().contains("attachment"), "no attachment");
    }
}

// --- public reading ------------------------------------------------------------------------

async fn list_shows_open_postings_only(backend: Backend) {
    let app = spawn_app(backend).await;
    create_open(&app, "open-role").await;
    let mut draft = posting_input("draft-role");
    draft.status = PostingStatus::Draft;
    create(&app, draft).await;
    let mut later = posting_input("later-role");
    later.opens_at = Some(Utc::now() + TimeDelta::days(1));
    create(&app, later).await;
    let expired = create_open(&app, "expired-role").await;
    set_closes_at(&app, &expired, frontdesk::db::now() - TimeDelta::minutes(1)).await;

    let res = app.get("/api/v1/jobs").await;

    assert_eq!(res.status(), 200);
    let list: serde_json::Value = res.json().await.expect("json");
    let items = list.as_array().expect("array");
    assert_eq!(items.len(), 1, "{list}");
    let item = &items[0];
    assert_eq!(item["slug"], "open-role");
    assert_eq!(item["title"], "Data Reporter");
    assert_eq!(item["location"], "Bogotá");
    assert_eq!(item["employment_type"], "full_time");
    assert_eq!(item["remote"], "hybrid");
    assert_eq!(item["summary"], "Find the stories in the numbers.");
    assert!(item["closes_at"]
        .as_str()
        .expect("closes_at")
        .ends_with('Z'));
    assert_eq!(item["url"], public_link(&app, "/jobs/open-role"));
}

async fn detail_carries_sanitised_description(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut input = posting_input("data-reporter");
    input.description_markdown =
        "We **need** you.\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))".into();
    create(&app, input).await;

    let res = app.get("/api/v1/jobs/data-reporter").await;

    assert_eq!(res.status(), 200);
    let detail: serde_json::Value = res.json().await.expect("json");
    let html = detail["description_html"].as_str().expect("html");
    assert!(html.contains("<strong>need</strong>"), "{html}");
    assert!(
        !html.contains("<script") && !html.contains("javascript:"),
        "{html}"
    );
    assert!(detail["description_markdown"]
        .as_str()
        .expect("markdown")
        .contains("<script>"));
    assert_eq!(detail["status"], "open");
    assert_eq!(detail["salary"]["min_minor"], 4_000_000);
    assert_eq!(
        detail["apply_url"],
        public_link(&app, "/api/v1/jobs/data-reporter/applications")
    );
    let openapi: serde_json::Value = app
        .get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .expect("json");
    assert!(openapi["paths"]["/api/v1/jobs/{slug}/applications"]["post"].is_object());
}

fn json_ld_of(html: &str) -> serde_json::Value {
    let start_tag = r#"<script type="application/ld+json">"#;
    let start = html.find(start_tag).expect("JSON-LD block") + start_tag.len();
    let end = start + html[start..].find("</script>").expect("end of block");
    serde_json::from_str(&html[start..end]).expect("the block parses as JSON")
}

async fn page_has_a_json_ld_job_posting_and_an_accessible_form(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut input = posting_input("data-reporter");
    input.title = "Data Reporter </script><script>alert(1)</script>".into();
    input.questions = vec![QuestionInput {
        id: None,
        kind: QuestionKind::YesNo,
        label: "Do you speak Spanish?".into(),
        required: true,
    }];
    let posting = create(&app, input).await;

    let res = app.get("/jobs/data-reporter").await;

    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("text/html"));
    // minijinja writes `/` in attributes as `&#x2f;`, which browsers read as `/`.
    let html = res.text().await.expect("html").replace("&#x2f;", "/");
    assert!(
        !html.contains("<script>alert(1)"),
        "the title cannot open a script"
    );
    let ld = json_ld_of(&html);
    assert_eq!(ld["@context"], "https://schema.org/");
    assert_eq!(ld["@type"], "JobPosting");
    assert_eq!(ld["title"], posting.title);
    assert_eq!(ld["datePosted"], posting.date_posted().date().to_string());
    let valid_through = ld["validThrough"].as_str().expect("validThrough");
    assert!(
        chrono::DateTime::parse_from_rfc3339(valid_through).is_ok(),
        "{valid_through}"
    );
    assert_eq!(ld["hiringOrganization"]["@type"], "Organization");
    assert_eq!(ld["hiringOrganization"]["name"], "Newsroom");
    assert_eq!(ld["jobLocation"]["@type"], "Place");
    assert_eq!(ld["jobLocation"]["address"]["addressLocality"], "Bogotá");
    assert_eq!(ld["employmentType"], "FULL_TIME");
    assert_eq!(ld["baseSalary"]["currency"], "USD");
    // A form that works without JavaScript, every control labelled.
    assert!(
        html.contains(r#"action="/jobs/data-reporter/apply""#),
        "{html}"
    );
    assert!(html.contains(r#"enctype="multipart/form-data""#));
    for id in ["f-name", "f-email", "f-cv", "f-cover_letter", "f-links"] {
        assert!(
            html.contains(&format!(r#"<label for="{id}">"#)),
            "label for {id}"
        );
        assert!(html.contains(&format!(r#"id="{id}""#)), "control {id}");
    }
    assert!(html.contains("<legend>Do you speak Spanish? (required)</legend>"));
    assert!(html.contains(r#"name="consent" value="true" required"#));
    assert!(!html.contains("<script src"), "no script needed");
}

async fn page_form_answers_with_pages(backend: Backend) {
    let app = spawn_app(backend).await;
    create_open(&app, "data-reporter").await;
    let post = |form: Form| {
        app.client
            .post(app.url("/jobs/data-reporter/apply"))
            .multipart(form)
            .send()
    };

    let invalid = post(
        Form::new()
            .text("name", "Jane Reader")
            .text("email", "not an address")
            .text("cover_letter", "Dear <b>editor</b>"),
    )
    .await
    .expect("request");

    assert_eq!(invalid.status(), 422);
    let html = invalid.text().await.expect("html");
    assert!(html.contains("Please correct the following"), "{html}");
    assert!(
        html.contains(r##"<a href="#f-email">"##),
        "summary links to the field"
    );
    assert!(html.contains(r#"id="f-email-error""#));
    assert!(html.contains(r#"value="Jane Reader""#), "values kept");
    assert!(
        html.contains("Dear &lt;b&gt;editor&lt;&#x2f;b&gt;"),
        "escaped: {html}"
    );
    assert!(html.contains(r##"<a href="#f-cv">"##));
    assert!(html.contains(r##"<a href="#f-consent">"##));

    let ok = post(pdf_form("jane@example.org")).await.expect("request");

    assert_eq!(ok.status(), 200);
    let html = ok.text().await.expect("html");
    assert!(html.contains("Thank you, Jane Reader"), "{html}");
    app.smtp.wait_for(3, WAIT).await;

    let again = post(pdf_form("jane@example.org")).await.expect("request");

    assert_eq!(again.status(), 409);
    let html = again.text().await.expect("html");
    assert!(html.contains("already applied"), "{html}");
    assert!(!html.contains("<form"), "no form offered again");
}

// --- retention and the staff side's store ---------------------------------------------------

async fn retention_erases_what_it_must_and_keeps_what_was_consented(backend: Backend) {
    let app = spawn_app(backend).await;
    let posting = create_open(&app, "data-reporter").await;
    let erased_id =
        applied_id(apply(&app, "data-reporter", pdf_form("gone@example.org")).await).await;
    let kept_id = applied_id(
        apply(
            &app,
            "data-reporter",
            pdf_form("kept@example.org").text("keep_on_file", "true"),
        )
        .await,
    )
    .await;
    app.smtp.wait_for(6, WAIT).await;
    let closed = close(&app, &posting).await;
    let closed_at = closed.closed_at.expect("closed_at");
    assert_eq!(files_under(&uploads(&app)).len(), 2);
    let run = |now| {
        let settings = app.settings.clone();
        app.state
            .db
            .run(move |conn| retention::run(conn, now, 180, &settings))
    };

    let early = run(closed_at + TimeDelta::days(179)).await.expect("run");

    assert_eq!(early.erased, 0);
    assert_eq!(
        files_under(&uploads(&app)).len(),
        2,
        "nothing erased before 180 days"
    );

    let due = run(closed_at + TimeDelta::days(181)).await.expect("run");

    assert_eq!(due.erased, 1);
    assert_eq!(due.kept, 1);
    let gone = application(&app, &erased_id).await;
    assert!(gone.anonymised_at.is_some());
    assert_eq!(gone.name, store::ERASED_NAME);
    assert_eq!(gone.email, "");
    assert!(gone.cv.is_none());
    let kept = application(&app, &kept_id).await;
    assert_eq!(kept.email, "kept@example.org");
    let kept_cv = kept.cv.expect("kept CV");
    let remaining = files_under(&uploads(&app));
    assert_eq!(remaining.len(), 1, "only the consented CV is left");
    assert_eq!(
        sha256_hex(&std::fs::read(&remaining[0]).expect("read")),
        kept_cv.sha256
    );
    let gone_id = erased_id.clone();
    let mails_left: i64 = app
        .state
        .db
        .run(move |conn| {
            use diesel::prelude::*;
            use frontdesk::db::schema::outbox;
            Ok(outbox::table
                .filter(outbox::ref_id.eq(&gone_id))
                .count()
                .get_result(conn)?)
        })
        .await
        .expect("count");
    assert_eq!(
        mails_left, 0,
        "the emails about the erased applicant are gone too"
    );

    let again = run(closed_at + TimeDelta::days(200)).await.expect("run");

    assert_eq!(again.erased, 0, "nothing twice");
}

async fn retention_sweeps_upload_leftovers(backend: Backend) {
    let app = spawn_app(backend).await;
    create_open(&app, "data-reporter").await;
    applied_id(apply(&app, "data-reporter", pdf_form("jane@example.org")).await).await;
    let live = files_under(&uploads(&app));
    let dir = upload::cv_dir(&uploads(&app));
    let two_hours_ago = std::time::SystemTime::now() - Duration::from_secs(7200);
    for (name, old) in [
        (".upload-crashed.part", true),
        ("never-committed", true),
        ("being-committed", false),
    ] {
        let file = std::fs::File::create(dir.join(name)).expect("create");
        if old {
            file.set_modified(two_hours_ago).expect("age the file");
        }
    }
    for path in &live {
        std::fs::File::options()
            .write(true)
            .open(path)
            .and_then(|f| f.set_modified(two_hours_ago))
            .expect("age the live CV");
    }
    let settings = app.settings.clone();

    let report = app
        .state
        .db
        .run(move |conn| retention::run(conn, frontdesk::db::now(), 180, &settings))
        .await
        .expect("run");

    assert_eq!(report.leftovers_removed, 2);
    let mut left = files_under(&uploads(&app));
    left.sort();
    let mut expected = live.clone();
    expected.push(dir.join("being-committed"));
    expected.sort();
    assert_eq!(left, expected, "the live CV and the fresh file stay");
}

async fn staff_store_lists_rates_notes_and_moves_applications(backend: Backend) {
    let app = spawn_app(backend).await;
    let posting = create_open(&app, "data-reporter").await;
    let mut ids = Vec::new();
    for who in ["a", "b", "c"] {
        ids.push(
            applied_id(
                apply(
                    &app,
                    "data-reporter",
                    pdf_form(&format!("{who}@example.org")),
                )
                .await,
            )
            .await,
        );
    }
    let (a, b, c) = (ids[0].clone(), ids[1].clone(), ids[2].clone());
    let pid = posting.id.clone();

    let (newest, page1, page2, rated, screening, by_email) = app
        .state
        .db
        .write(move |conn| {
            let now = frontdesk::db::now();
            store::set_rating(
                conn,
                &b,
                "editor@newsroom.test",
                Rating::new(5).expect("r"),
                now,
            )?;
            store::set_rating(
                conn,
                &b,
                "hr@newsroom.test",
                Rating::new(4).expect("r"),
                now,
            )?;
            store::set_rating(
                conn,
                &c,
                "editor@newsroom.test",
                Rating::new(2).expect("r"),
                now,
            )?;
            // Replaces the earlier rating by the same reviewer.
            store::set_rating(
                conn,
                &c,
                "editor@newsroom.test",
                Rating::new(3).expect("r"),
                now,
            )?;
            store::set_stage(conn, &a, Stage::Screening, None, now)?;
            store::add_note(
                conn,
                &a,
                "editor@newsroom.test",
                &NoteBody::parse("Strong clips.").expect("note"),
                now,
            )?;
            let all = |sort, cursor: Option<String>, limit| ApplicationFilter {
                sort,
                cursor,
                limit,
                ..ApplicationFilter::default()
            };
            let newest =
                store::list_applications(conn, &pid, &all(ApplicationSort::Newest, None, 50))?;
            let page1 =
                store::list_applications(conn, &pid, &all(ApplicationSort::Oldest, None, 2))?;
            let page2 = store::list_applications(
                conn,
                &pid,
                &all(ApplicationSort::Oldest, page1.next_cursor.clone(), 2),
            )?;
            let rated =
                store::list_applications(conn, &pid, &all(ApplicationSort::Rating, None, 50))?;
            let screening = store::list_applications(
                conn,
                &pid,
                &ApplicationFilter {
                    stage: Some(Stage::Screening),
                    limit: 50,
                    ..ApplicationFilter::default()
                },
            )?;
            let by_email = store::list_applications(
                conn,
                &pid,
                &ApplicationFilter {
                    email: Some("B@example.org".into()),
                    limit: 50,
                    ..ApplicationFilter::default()
                },
            )?;
            Ok((newest, page1, page2, rated, screening, by_email))
        })
        .await
        .expect("staff operations");

    let order = |page: &store::Page<store::ApplicationSummary>| -> Vec<String> {
        page.items.iter().map(|i| i.id.clone()).collect()
    };
    assert_eq!(
        order(&newest),
        vec![ids[2].clone(), ids[1].clone(), ids[0].clone()]
    );
    assert_eq!(order(&page1), vec![ids[0].clone(), ids[1].clone()]);
    assert!(page1.next_cursor.is_some());
    assert_eq!(order(&page2), vec![ids[2].clone()]);
    assert!(page2.next_cursor.is_none());
    assert_eq!(
        order(&rated),
        vec![ids[1].clone(), ids[2].clone(), ids[0].clone()]
    );
    assert_eq!(rated.items[0].rating_average, Some(4.5));
    assert_eq!(rated.items[0].rating_count, 2);
    assert_eq!(rated.items[1].rating_average, Some(3.0));
    assert_eq!(rated.items[2].rating_average, None);
    assert_eq!(order(&screening), vec![ids[0].clone()]);
    assert_eq!(order(&by_email), vec![ids[1].clone()]);
    let detail = application(&app, &ids[0]).await;
    assert_eq!(detail.stage, Stage::Screening);
    assert_eq!(detail.notes.len(), 1);
    assert_eq!(detail.notes[0].body, "Strong clips.");
    assert_eq!(detail.posting_slug, "data-reporter");
    app.smtp.wait_for(9, WAIT).await;
    app.expect_no_more_mail().await;
}

async fn rejection_emails_only_on_a_move_to_rejected(backend: Backend) {
    let app = spawn_app(backend).await;
    create_open(&app, "data-reporter").await;
    let id = applied_id(apply(&app, "data-reporter", pdf_form("jane@example.org")).await).await;
    app.smtp.wait_for(3, WAIT).await;
    let detail = application(&app, &id).await;
    let rejection = emails::rejection(
        &app.state.mailer,
        &detail,
        Some("Dear Jane, we chose another candidate.\n\nPlease apply again."),
    )
    .expect("compose");
    let internal = rejection.clone();
    let (interview, rejected, again) = app
        .state
        .db
        .write(move |conn| {
            let now = frontdesk::db::now();
            // An internal move never emails, even when handed an email.
            let interview = store::set_stage(conn, &id, Stage::Interview, Some(&internal), now)?;
            let rejected = store::set_stage(conn, &id, Stage::Rejected, Some(&rejection), now)?;
            let again = store::set_stage(conn, &id, Stage::Rejected, Some(&rejection), now)?;
            Ok((interview, rejected, again))
        })
        .await
        .expect("stage changes");

    assert!(!interview.email_queued);
    assert!(rejected.email_queued);
    assert_eq!(rejected.from, Stage::Interview);
    assert!(!again.email_queued);
    let mails = app.smtp.wait_for(4, WAIT).await;
    app.expect_no_more_mail().await;
    let mail = &mails[3];
    assert_eq!(mail.rcpt_to, vec!["jane@example.org".to_string()]);
    assert_eq!(
        mail.subject().as_deref(),
        Some("Your application for Data Reporter")
    );
    assert!(mail
        .text_body()
        .expect("text")
        .contains("we chose another candidate"));
    assert!(mail
        .html_body()
        .expect("html")
        .contains("<p>Please apply again.</p>"));
}

async fn erasure_on_request_removes_cv_and_personal_data(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut input = posting_input("data-reporter");
    input.questions = vec![QuestionInput {
        id: None,
        kind: QuestionKind::ShortText,
        label: "Your city".into(),
        required: true,
    }];
    create(&app, input).await;
    let qid = question_ids(&app, "data-reporter").await.remove(0);
    let id = applied_id(
        apply(
            &app,
            "data-reporter",
            pdf_form("jane@example.org")
                .text("phone", "+57 (1) 555-0100")
                .text("links", "https://jane.example.org/clips")
                .text(format!("answer_{qid}"), "Medellín"),
        )
        .await,
    )
    .await;
    assert_eq!(files_under(&uploads(&app)).len(), 1);
    let dir = uploads(&app);
    let erase_id = id.clone();

    let (first, second) = app
        .state
        .db
        .write(move |conn| {
            let now = frontdesk::db::now();
            let first = privacy::erase_application(conn, &dir, &erase_id, now)?;
            let second = privacy::erase_application(conn, &dir, &erase_id, now)?;
            Ok((first, second))
        })
        .await
        .expect("erase");

    let first = first.expect("erased");
    assert!(second.is_none(), "already erased");
    assert_eq!(files_under(&uploads(&app)).len(), 1, "deleted after commit");
    assert_eq!(privacy::delete_files_of(&app.settings.mail, &first), 1);
    assert!(files_under(&uploads(&app)).is_empty());
    let erased = application(&app, &id).await;
    assert_eq!(erased.name, store::ERASED_NAME);
    assert_eq!(erased.email, "");
    assert!(erased.phone.is_none() && erased.links.is_empty() && erased.answers.is_empty());
    assert!(erased.cv.is_none());
    let cv_id = id.clone();
    let download = app
        .state
        .db
        .run(move |conn| Ok(store::cv_download(conn, &cv_id)?))
        .await;
    assert!(matches!(
        download,
        Err(frontdesk::error::AppError::NotFound)
    ));
    // The address may apply again: the erased record holds no trace of it.
    applied_id(
        apply(
            &app,
            "data-reporter",
            pdf_form("jane@example.org").text(format!("answer_{qid}"), "Cali"),
        )
        .await,
    )
    .await;
}

async fn hiring_contacts_see_only_their_postings(backend: Backend) {
    let app = spawn_app(backend).await;
    let ours = create_open(&app, "data-reporter").await;
    let mut other = posting_input("photo-editor");
    other.hiring_contacts = vec!["photo@newsroom.test".into()];
    let theirs = create(&app, other).await;
    let id = applied_id(apply(&app, "data-reporter", pdf_form("jane@example.org")).await).await;
    let (ours_id, theirs_id) = (ours.id.clone(), theirs.id.clone());

    let (posting_of_cv, editor_ok, photo_ok, photo_postings, open, drafts) = app
        .state
        .db
        .run(move |conn| {
            let posting_of_cv = store::cv_download(conn, &id)?.posting_id;
            Ok((
                posting_of_cv.clone(),
                store::is_hiring_contact(conn, &posting_of_cv, "Editor@Newsroom.test")?,
                store::is_hiring_contact(conn, &posting_of_cv, "photo@newsroom.test")?,
                store::postings_for_contact(conn, "photo@newsroom.test")?,
                store::list_postings(conn, Some(PostingStatus::Open))?,
                store::list_postings(conn, Some(PostingStatus::Draft))?,
            ))
        })
        .await
        .expect("checks");

    assert_eq!(posting_of_cv, ours_id);
    assert!(editor_ok);
    assert!(
        !photo_ok,
        "a contact of another posting may not see this one's CVs"
    );
    assert_eq!(
        photo_postings
            .iter()
            .map(|p| p.id.clone())
            .collect::<Vec<_>>(),
        vec![theirs_id.clone()]
    );
    assert_eq!(
        open.iter().map(|p| p.id.clone()).collect::<Vec<_>>(),
        vec![theirs_id, ours_id],
        "newest first"
    );
    assert!(drafts.is_empty());
}

async fn updating_a_posting_keeps_answered_questions(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut input = posting_input("data-reporter");
    input.questions = vec![
        QuestionInput {
            id: None,
            kind: QuestionKind::ShortText,
            label: "Your city".into(),
            required: true,
        },
        QuestionInput {
            id: None,
            kind: QuestionKind::YesNo,
            label: "Can you travel?".into(),
            required: false,
        },
    ];
    let posting = create(&app, input).await;
    let pid = posting.id.clone();
    let questions = app
        .state
        .db
        .run(move |conn| Ok(store::posting_questions(conn, &pid, true)?))
        .await
        .expect("questions");
    let qid = questions[0].id.clone();
    let id = applied_id(
        apply(
            &app,
            "data-reporter",
            pdf_form("jane@example.org").text(format!("answer_{qid}"), "Cali"),
        )
        .await,
    )
    .await;
    let contacts_pid = posting.id.clone();
    let contacts = app
        .state
        .db
        .run(move |conn| Ok(store::hiring_contacts(conn, &contacts_pid)?))
        .await
        .expect("contacts");
    // A partial update as the staff API will do it: the stored posting as input, one change.
    let mut edit = PostingInput::from_posting(&posting, &contacts, &questions);
    edit.title = "Senior Data Reporter".into();
    edit.questions.truncate(1);
    edit.questions[0].label = "Which city do you live in?".into();

    let updated = replace(&app, &posting, edit).await;

    assert_eq!(updated.title, "Senior Data Reporter");
    let pid = posting.id.clone();
    let active = app
        .state
        .db
        .run(move |conn| Ok(store::posting_questions(conn, &pid, true)?))
        .await
        .expect("questions");
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].id, qid);
    let answers = application(&app, &id).await.answers;
    assert_eq!(answers[0].label, "Which city do you live in?");
    assert_eq!(answers[0].value, "Cali");
    let mut bad = PostingInput::from_posting(&updated, &contacts, &active);
    bad.questions[0].id = Some("not-a-question".into());
    let bad = NewPosting::try_from(bad).expect("valid shape");
    let pid = posting.id.clone();
    let refused = app
        .state
        .db
        .write(move |conn| store::update_posting(conn, &pid, &bad, frontdesk::db::now()))
        .await;
    assert!(
        matches!(refused, Err(frontdesk::error::AppError::Validation(ref e)) if e[0].field == "questions[0].id"),
        "{refused:?}"
    );
}

both_backends!(
    json_ld_is_served_while_open_and_withdrawn_when_staff_close,
    json_ld_is_withdrawn_when_the_scheduler_closes_a_posting,
);

async fn posting_page(app: &TestApp, slug: &str) -> String {
    let res = app.get(&format!("/jobs/{slug}")).await;
    assert_eq!(res.status(), 200, "{slug}");
    res.text().await.expect("html")
}

const JSON_LD_TAG: &str = r#"<script type="application/ld+json">"#;

async fn json_ld_is_served_while_open_and_withdrawn_when_staff_close(backend: Backend) {
    let app = spawn_app(backend).await;
    create_open(&app, "early-close").await;
    // An admin: hiring staff change only the postings they are a hiring contact of.
    let token = app.staff_token("admin").await;
    let open = posting_page(&app, "early-close").await;

    let closed = app
        .client
        .patch(app.url("/api/v1/staff/jobs/early-close"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"status": "closed"}))
        .send()
        .await
        .expect("close");
    assert_eq!(closed.status(), 200, "staff close the posting early");
    let after = posting_page(&app, "early-close").await;

    assert_eq!(json_ld_of(&open)["@type"], "JobPosting");
    assert!(!after.contains(JSON_LD_TAG), "{after}");
    assert!(!after.contains("JobPosting"));
    assert!(after.contains("Data Reporter"), "the page itself stays");
}

async fn json_ld_is_withdrawn_when_the_scheduler_closes_a_posting(backend: Backend) {
    let app = spawn_app(backend).await;
    let posting = create_open(&app, "closing-time").await;
    assert!(posting_page(&app, "closing-time")
        .await
        .contains(JSON_LD_TAG));
    set_closes_at(&app, &posting, frontdesk::db::now() - TimeDelta::seconds(1)).await;
    let settings = app.settings.clone();
    let report = app
        .state
        .db
        .run(move |conn| retention::run(conn, frontdesk::db::now(), 365, &settings))
        .await
        .expect("the scheduler's pass");
    assert_eq!(report.postings_closed, 1);

    let after = posting_page(&app, "closing-time").await;

    assert!(!after.contains(JSON_LD_TAG), "{after}");
    assert!(!after.contains("JobPosting"));
}
