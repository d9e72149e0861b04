//! Staff sessions: the list of signed-in browsers (described, current marked, ended), and the
//! emails to a staff member about a new browser and a password change.

use diesel::prelude::*;

use crate::both_backends;
use crate::helpers::{csrf_from, spawn_app_with, Backend};
use crate::staff_recovery::{
    app, audited, browser, mails_with_subject, sign_in, status_of, user_id, CHROME_LINUX,
    FIREFOX_WINDOWS, NEW_PASSWORD,
};

both_backends!(
    signed_in_browsers_are_listed_described_and_ended,
    a_new_browser_is_reported_once_and_a_known_one_never,
    a_password_change_on_the_account_page_is_emailed,
);

async fn signed_in_browsers_are_listed_described_and_ended(backend: Backend) {
    let app = app(backend).await;
    let login = app.staff_account("editor").await;
    let (laptop, desktop) = (browser(CHROME_LINUX), browser(FIREFOX_WINDOWS));
    sign_in(&app, &laptop, &login.email, &login.password).await;
    sign_in(&app, &desktop, &login.email, &login.password).await;
    let other = app.staff_account("editor").await;
    let stranger = browser(FIREFOX_WINDOWS);
    sign_in(&app, &stranger, &other.email, &other.password).await;

    let page = laptop
        .get(app.url("/staff/account"))
        .send()
        .await
        .expect("account")
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("Chrome on Linux <strong>(this browser)</strong>"),
        "{page}"
    );
    assert!(page.contains("Firefox on Windows"), "{page}");
    assert!(
        !page.contains("127.0.0.1") && !page.contains("Mozilla/5.0"),
        "{page}"
    );
    let ids: Vec<String> = page
        .split("/staff/account/sessions/")
        .skip(1)
        .map(|rest| rest.split('/').next().expect("id").to_string())
        .collect();
    assert_eq!(ids.len(), 1, "only the other browser has a sign-out button");
    let csrf = csrf_from(&page);

    // Another account's session cannot be ended from here.
    let stranger_page = stranger
        .get(app.url("/staff/account"))
        .send()
        .await
        .expect("account")
        .text()
        .await
        .expect("html");
    assert!(stranger_page.contains("(this browser)"));
    let other_id = user_id(&app, &other.email).await;
    let theirs = app
        .state
        .db
        .run(move |conn| Ok(frontdesk::staff::store::user_sessions(conn, &other_id)?))
        .await
        .expect("sessions");
    let res = laptop
        .post(app.url(&format!("/staff/account/sessions/{}/revoke", theirs[0].id)))
        .form(&[("csrf_token", &csrf)])
        .send()
        .await
        .expect("revoke");
    assert_eq!(res.status(), 404);
    assert_eq!(status_of(&stranger, &app, "/staff/").await, 200);

    let res = laptop
        .post(app.url(&format!("/staff/account/sessions/{}/revoke", ids[0])))
        .form(&[("csrf_token", &csrf)])
        .send()
        .await
        .expect("revoke");
    assert_eq!(res.status(), 303);
    assert_eq!(status_of(&desktop, &app, "/staff/").await, 303, "ended");
    assert_eq!(
        status_of(&laptop, &app, "/staff/").await,
        200,
        "this one stays"
    );
    let page = laptop
        .get(app.url("/staff/account"))
        .send()
        .await
        .expect("account")
        .text()
        .await
        .expect("html");
    assert!(!page.contains("Firefox on Windows"), "{page}");
    assert_eq!(
        audited(
            &app,
            "staff.session_revoked",
            &user_id(&app, &login.email).await
        )
        .await,
        1
    );
}

async fn a_new_browser_is_reported_once_and_a_known_one_never(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.limits.login_per_minute = 10_000;
        s.staff.new_browser_emails = true;
    })
    .await;
    let login = app.staff_account("editor").await;
    let laptop = browser(CHROME_LINUX);

    assert_eq!(
        sign_in(&app, &laptop, &login.email, &login.password).await,
        303
    );
    app.drain_outbox().await;
    assert_eq!(mails_with_subject(&app, &login.email, "new sign-in"), 1);
    let mail = app.smtp.received().pop().expect("mail");
    assert_eq!(
        mail.subject().as_deref(),
        Some("Newsroom: new sign-in to your staff account (Chrome on Linux)")
    );
    let text = mail.text_body().expect("text");
    assert!(text.contains("Chrome on Linux"), "{text}");
    // Only the description: nothing of the raw User-Agent, no cookie.
    assert!(!text.contains("Mozilla") && !text.contains("X11"), "{text}");

    // The same browser again (its device cookie kept), after signing out: no email.
    let csrf = csrf_from(
        &laptop
            .get(app.url("/staff/account"))
            .send()
            .await
            .expect("account")
            .text()
            .await
            .expect("html"),
    );
    laptop
        .post(app.url("/staff/logout"))
        .form(&[("csrf_token", &csrf)])
        .send()
        .await
        .expect("logout");
    assert_eq!(
        sign_in(&app, &laptop, &login.email, &login.password).await,
        303
    );
    app.expect_no_more_mail().await;
    assert_eq!(mails_with_subject(&app, &login.email, "new sign-in"), 1);

    // Another browser: one more email, once.
    let desktop = browser(FIREFOX_WINDOWS);
    assert_eq!(
        sign_in(&app, &desktop, &login.email, &login.password).await,
        303
    );
    assert_eq!(
        sign_in(&app, &desktop, &login.email, &login.password).await,
        303
    );
    app.drain_outbox().await;
    assert_eq!(mails_with_subject(&app, &login.email, "new sign-in"), 2);

    // A failed sign-in from a new browser says nothing to anyone, and sets no device cookie.
    let stranger = browser(FIREFOX_WINDOWS);
    assert_eq!(
        sign_in(&app, &stranger, &login.email, "guess guess guess").await,
        401
    );
    app.expect_no_more_mail().await;

    // The table holds keyed hashes only: not the cookie a browser carries.
    let stored: Vec<String> = app
        .state
        .db
        .run(|conn| {
            use frontdesk::db::schema::staff_known_browsers as k;
            Ok(k::table.select(k::device_hash).load(conn)?)
        })
        .await
        .expect("browsers");
    assert_eq!(stored.len(), 2);
}

async fn a_password_change_on_the_account_page_is_emailed(backend: Backend) {
    let app = app(backend).await;
    let login = app.staff_account("fundraising").await;
    assert_eq!(
        sign_in(&app, &app.client, &login.email, &login.password).await,
        303
    );
    let csrf = csrf_from(&app.get("/staff/account").await.text().await.expect("html"));
    let res = app
        .client
        .post(app.url("/staff/account/password"))
        .form(&[
            ("current_password", login.password.as_str()),
            ("new_password", NEW_PASSWORD),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .expect("change");
    assert_eq!(res.status(), 303);
    app.drain_outbox().await;
    assert_eq!(
        mails_with_subject(&app, &login.email, "password was changed"),
        1
    );
    let text = app.smtp.received()[0].text_body().expect("text");
    assert!(text.contains("on your account page"), "{text}");
    assert!(!text.contains(NEW_PASSWORD) && !text.contains(&login.password));
}
