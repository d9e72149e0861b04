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
    newsletter_lists (id) {
        id -> Text,
        slug -> Text,
        name -> Text,
        description -> Text,
        is_public -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    newsletter_subscribers (id) {
        id -> Text,
        email -> Text,
        name -> Nullable<Text>,
        status -> Text,
        source -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
        unsubscribed_at -> Nullable<Timestamp>,
        last_confirmation_sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    newsletter_memberships (subscriber_id, list_id) {
        subscriber_id -> Text,
        list_id -> Text,
        status -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    newsletter_confirm_tokens (token_hash) {
        token_hash -> Text,
        subscriber_id -> Text,
        source_url -> Nullable<Text>,
        wording_version -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    newsletter_consents (id) {
        id -> Text,
        subscriber_id -> Text,
        kind -> Text,
        recorded_at -> Timestamp,
        ip_hash -> Nullable<Text>,
        source_url -> Nullable<Text>,
        wording_version -> Nullable<Text>,
    }
}

diesel::table! {
    newsletter_suppressions (email_hash) {
        email_hash -> Text,
        reason -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    newsletter_soft_bounces (email_hash) {
        email_hash -> Text,
        bounces -> Integer,
        last_at -> Timestamp,
    }
}

diesel::table! {
    newsletter_issues (id) {
        id -> Text,
        subject -> Text,
        body_markdown -> Text,
        status -> Text,
        send_at -> Nullable<Timestamp>,
        queue_cursor -> Nullable<Text>,
        queue_done -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    newsletter_issue_lists (issue_id, list_id) {
        issue_id -> Text,
        list_id -> Text,
    }
}

diesel::table! {
    newsletter_deliveries (id) {
        id -> Text,
        issue_id -> Text,
        subscriber_id -> Nullable<Text>,
        outbox_id -> Nullable<Text>,
        skipped_reason -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(newsletter_memberships -> newsletter_lists (list_id));
diesel::joinable!(newsletter_memberships -> newsletter_subscribers (subscriber_id));
diesel::allow_tables_to_appear_in_same_query!(
    newsletter_lists,
    newsletter_subscribers,
    newsletter_memberships,
    newsletter_issues,
    newsletter_issue_lists,
    newsletter_deliveries,
    newsletter_suppressions,
    outbox,
);
