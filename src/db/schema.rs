// The schema in portable SQL types, shared by both backends.

diesel::table! {
    app_settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        template -> Text,
        to_addr -> Text,
        to_name -> Nullable<Text>,
        reply_to -> Nullable<Text>,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        headers -> Text,
        message_id -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        ref_kind -> Nullable<Text>,
        ref_id -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    job_postings (id) {
        id -> Text,
        slug -> Text,
        title -> Text,
        summary -> Text,
        description_markdown -> Text,
        description_html -> Text,
        location -> Text,
        country -> Nullable<Text>,
        remote -> Text,
        employment_type -> Text,
        salary_currency -> Nullable<Text>,
        salary_min_minor -> Nullable<BigInt>,
        salary_max_minor -> Nullable<BigInt>,
        salary_period -> Nullable<Text>,
        status -> Text,
        opens_at -> Nullable<Timestamp>,
        closes_at -> Nullable<Timestamp>,
        published_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    job_posting_contacts (posting_id, email) {
        posting_id -> Text,
        email -> Text,
    }
}

diesel::table! {
    job_questions (id) {
        id -> Text,
        posting_id -> Text,
        position -> Integer,
        kind -> Text,
        label -> Text,
        required -> Bool,
        active -> Bool,
    }
}

diesel::table! {
    job_applications (id) {
        id -> Text,
        posting_id -> Text,
        name -> Text,
        email -> Text,
        email_normalized -> Text,
        phone -> Nullable<Text>,
        cover_letter -> Nullable<Text>,
        links -> Nullable<Text>,
        stage -> Text,
        cv_stored_name -> Nullable<Text>,
        cv_filename -> Nullable<Text>,
        cv_content_type -> Nullable<Text>,
        cv_size -> Nullable<BigInt>,
        cv_sha256 -> Nullable<Text>,
        consent_at -> Timestamp,
        privacy_notice_version -> Text,
        keep_on_file -> Bool,
        keep_on_file_at -> Nullable<Timestamp>,
        ip_hash -> Nullable<Text>,
        rating_score -> Integer,
        rating_count -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        anonymised_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    job_application_answers (application_id, question_id) {
        application_id -> Text,
        question_id -> Text,
        value -> Text,
    }
}

diesel::table! {
    job_application_notes (id) {
        id -> Text,
        application_id -> Text,
        author -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    job_application_ratings (application_id, reviewer) {
        application_id -> Text,
        reviewer -> Text,
        rating -> Integer,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(job_posting_contacts -> job_postings (posting_id));
diesel::joinable!(job_questions -> job_postings (posting_id));
diesel::joinable!(job_applications -> job_postings (posting_id));
diesel::joinable!(job_application_answers -> job_applications (application_id));
diesel::joinable!(job_application_answers -> job_questions (question_id));
diesel::joinable!(job_application_notes -> job_applications (application_id));
diesel::joinable!(job_application_ratings -> job_applications (application_id));

diesel::allow_tables_to_appear_in_same_query!(
    job_postings,
    job_posting_contacts,
    job_questions,
    job_applications,
    job_application_answers,
    job_application_notes,
    job_application_ratings,
);
