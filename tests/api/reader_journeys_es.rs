//! The reader journeys of `reader_journeys.rs`, walked once in Spanish: the demo article at
//! `/demo/article?lang=es` puts `data-lang="es"` on its widgets, which then load the Spanish
//! catalogue, show Spanish labels, amounts (`51,81 US$`) and take `0,50` as an amount, and
//! send `lang: "es"`, stored with the comment, the subscriber and the donation.
//!
//! Screenshots under `target/screenshots/reader-es-*.png`; with `FRONTDESK_SCREENSHOTS=1`
//! the job application journey refreshes `docs/embedding-demo-es.png`.

use crate::reader_journeys::{self as journeys, Words};

/// The widgets' words as `locales/es/widgets.ftl` has them. The reader pages the journeys
/// pass through are waited for by element only (`""`): their Spanish is checked where they
/// are translated.
const SPANISH: Words = Words {
    lang: "es",
    page: "/demo/article?lang=es",
    shots: "reader-es",
    docs_screenshot: "docs/embedding-demo-es.png",
    helpful_question: "¿Le resultó útil este contenido?",
    helpful_one_of_one: "A 1 de 1 lector le resultó útil",
    helpful_none_of_one: "A 0 de 1 lector le resultó útil",
    helpful_sent: "enviamos su respuesta",
    fix_fields: "Corrija los campos marcados",
    your_reference: "Su número de referencia es",
    check_inbox: "Revise su correo",
    too_little: "0,50",
    // The server's field message: whichever language the API answers in.
    amount_bounds: "",
    monthly: "al mes",
    donate_monthly_label: "Donar 51,81 US$ al mes",
    pledge_thanks: "¡Gracias por su promesa de donación!",
    checkout_hint: "página segura",
    donate_heading: "Apoye a InSight Crime",
    confirm_page: "",
    subscribed_page: "",
    thanks_page: "",
};

#[tokio::test]
async fn helpful_vote_in_spanish() {
    journeys::helpful_vote(&SPANISH).await;
}

#[tokio::test]
async fn comment_in_spanish_is_corrected_then_sent() {
    journeys::comment_corrected_then_sent(&SPANISH).await;
}

#[tokio::test]
async fn newsletter_subscription_in_spanish_is_confirmed() {
    journeys::newsletter_confirmed(&SPANISH).await;
}

#[tokio::test]
async fn monthly_pledge_in_spanish_with_a_decimal_comma() {
    journeys::monthly_pledge(&SPANISH).await;
}

#[tokio::test]
async fn card_gift_in_spanish_goes_through_checkout() {
    journeys::card_gift(&SPANISH).await;
}

#[tokio::test]
async fn application_from_the_spanish_jobs_widget() {
    journeys::job_application(&SPANISH).await;
}

#[tokio::test]
async fn spanish_widgets_fit_a_320_pixel_wide_screen() {
    journeys::narrow_screen(&SPANISH).await;
}
